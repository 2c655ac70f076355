"""Pages for the registry's records: dataset versions, model versions, training runs,
deployments and prediction batches. Each shows its facts, its digests, its lineage
(what it came from and what came from it), and the ledger entries about it; a
prediction batch also gives one decision's receipt to download."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.inference import selectors as inference_selectors
from apps.ledger import selectors as ledger_selectors
from apps.registry import selectors as registry_selectors
from apps.reports import services as report_services
from apps.reports.models import Report
from apps.web.views.base import add_service_error, member_required
from audit_platform.errors import ServiceError
from audit_platform.roles import Capability

ENTRIES_SHOWN = 100
TITLES = {
    "dataset_version": "Dataset version",
    "model_version": "Model version",
    "training_run": "Training run",
    "deployment": "Deployment",
    "prediction_batch": "Prediction batch",
}


class ReceiptForm(forms.Form):
    row = forms.IntegerField(label="Row (from 0)", min_value=0)


class ExplanationForm(forms.Form):
    """The decision a person asks to have explained (Art. 86): one row of the batch."""

    row = forms.IntegerField(
        label="Row of the decision (from 0)",
        min_value=0,
        help_text="The explanation report shows what drove that decision and how to contest it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix="explain", **kwargs)


def _link(kind: str, obj: Any, text: str) -> dict[str, str]:
    return {"url": reverse("web:record", args=[kind, obj.pk]), "text": text}


def _dataset_version(record: Any) -> dict[str, Any]:
    return {
        "system": record.dataset.system,
        "name": f"{record.dataset.name} {record.version}",
        "facts": [
            ("Split", record.get_split_display()),
            ("Rows", record.row_count),
            ("Size (bytes)", record.size_bytes),
            ("Personal data", "yes" if record.contains_personal_data else "no"),
            ("Special-category data", "yes" if record.contains_special_category_data else "no"),
            (
                "Location",
                record.uri or "uploaded here" if record.artifact_id else record.uri or "—",
            ),
        ],
        "digests": [("Data SHA-256", record.sha256)],
        "came_from": [],
        "led_to": [
            _link("training_run", run, f"training run {run.pk}")
            for run in record.training_runs.all()
        ]
        + [
            _link("model_version", v, f"{v.model.name} {v.version}")
            for v in record.model_versions.select_related("model")
        ],
    }


def _model_version(record: Any) -> dict[str, Any]:
    came_from = [
        _link("dataset_version", dv, f"{dv.dataset.name} {dv.version}")
        for dv in record.dataset_versions.select_related("dataset")
    ]
    if record.training_run is not None:
        came_from.insert(
            0, _link("training_run", record.training_run, f"training run {record.training_run.pk}")
        )
    return {
        "system": record.model.system,
        "name": f"{record.model.name} {record.version}",
        "facts": [
            ("Format", record.artifact_format),
            ("Framework", f"{record.framework} {record.framework_version}"),
            ("Metrics", json.dumps(record.metrics, sort_keys=True) if record.metrics else "—"),
            ("Location", record.uri or ("uploaded here" if record.artifact_id else "—")),
        ],
        "digests": [("Artifact SHA-256", record.artifact_sha256)],
        "came_from": came_from,
        "led_to": [],
    }


def _training_run(record: Any) -> dict[str, Any]:
    return {
        "system": record.system,
        "name": f"Training run {record.pk}",
        "facts": [
            ("Status", record.get_status_display()),
            ("Model", record.model.name if record.model else "—"),
            ("Code revision", record.code_revision or "—"),
            ("Parameters", json.dumps(record.params, sort_keys=True) if record.params else "—"),
            ("Metrics", json.dumps(record.metrics, sort_keys=True) if record.metrics else "—"),
            ("Hardware", json.dumps(record.hardware, sort_keys=True) if record.hardware else "—"),
            ("Energy (J)", record.energy_joules if record.energy_joules is not None else "—"),
            ("Failure", record.failure_reason or "—"),
        ],
        "times": [("Started", record.started_at), ("Finished", record.finished_at)],
        "digests": [],
        "came_from": [
            _link("dataset_version", dv, f"{dv.dataset.name} {dv.version}")
            for dv in record.dataset_versions.select_related("dataset")
        ],
        "led_to": [
            _link("model_version", v, f"{v.model.name} {v.version}")
            for v in record.model_versions.select_related("model")
        ],
    }


def _deployment(record: Any) -> dict[str, Any]:
    serving = record.model_version
    return {
        "system": record.system,
        "name": f"Deployment {record.pk} ({record.environment})",
        "facts": [
            ("Status", record.get_status_display()),
            (
                "Resources",
                json.dumps(record.resources, sort_keys=True) if record.resources else "—",
            ),
        ],
        "digests": [("Serving artifact SHA-256", serving.artifact_sha256)] if serving else [],
        "came_from": [
            _link("model_version", serving, f"serving {serving.model.name} {serving.version}")
        ]
        if serving
        else [],
        "led_to": [],
    }


def _prediction_batch(record: Any) -> dict[str, Any]:
    version = record.model_version
    return {
        "system": record.deployment.system,
        "name": f"Prediction batch {record.pk}",
        "facts": [
            ("Status", record.get_status_display()),
            ("Rows", record.row_count if record.row_count is not None else "—"),
            ("Ran on", json.dumps(record.ran_on, sort_keys=True) if record.ran_on else "—"),
            ("Failure", record.failure_reason or "—"),
        ],
        "times": [("Window from", record.window_start), ("Window to", record.window_end)],
        "digests": [
            ("Input SHA-256", record.input_sha256),
            ("Output SHA-256", record.output_sha256),
            ("Rows Merkle root", record.rows_root),
        ],
        "came_from": [
            _link(
                "deployment",
                record.deployment,
                f"deployment {record.deployment.pk} ({record.deployment.environment})",
            ),
            *(
                [_link("model_version", version, f"{version.model.name} {version.version}")]
                if version
                else []
            ),
        ],
        "led_to": [],
        "receipts": record.status in inference_selectors.RECEIPT_STATUSES
        and record.rows_artifact_id is not None,
    }


_PAGES = {
    "dataset_version": _dataset_version,
    "model_version": _model_version,
    "training_run": _training_run,
    "deployment": _deployment,
    "prediction_batch": _prediction_batch,
}


def _record(request: HttpRequest, kind: str, pk: Any) -> Any:
    if kind not in _PAGES:
        raise Http404("No such kind of record.")
    record = registry_selectors.record_of_organization(
        organization=request.member.organization, kind=kind, pk=pk
    )
    if record is None:
        raise Http404(f"No such {TITLES[kind].lower()} in this organization.")
    return record


def _context(request: HttpRequest, kind: str, record: Any) -> dict[str, Any]:
    log = ledger_selectors.log_for(organization=request.member.organization)
    entries = ledger_selectors.entries_about(log=log, subjects={kind: [record.pk]}).defer("body")
    return {
        "kind": kind,
        "title": TITLES[kind],
        "record": record,
        **_PAGES[kind](record),
        "entries": list(entries[:ENTRIES_SHOWN]),
        "receipt_form": ReceiptForm(),
        "explanation_form": ExplanationForm(),
    }


@member_required
def record_page(request: HttpRequest, kind: str, pk: Any) -> HttpResponse:
    record = _record(request, kind, pk)
    return render(request, "web/records/detail.html", _context(request, kind, record))


@member_required
def row_receipt(request: HttpRequest, pk: Any) -> HttpResponse:
    """One decision's receipt (spec §6) as a JSON file, checkable offline."""
    batch = _record(request, "prediction_batch", pk)
    form = ReceiptForm(request.GET)
    status = 400
    if form.is_valid():
        try:
            receipt = inference_selectors.row_receipt(batch=batch, row=form.cleaned_data["row"])
        except ServiceError as exc:
            form.add_error("row" if "n" in exc.fields else None, exc.message)
            status = exc.status
        else:
            response = HttpResponse(
                json.dumps(receipt, indent=2, sort_keys=True), content_type="application/json"
            )
            name = f"batch-{batch.pk}-row-{form.cleaned_data['row']}-receipt.json"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    context = {**_context(request, "prediction_batch", batch), "receipt_form": form}
    return render(request, "web/records/detail.html", context, status=status)


@require_POST
@member_required(write=Capability.COMPLY)
def explanation_request(request: HttpRequest, pk: Any) -> HttpResponse:
    """Asks for the decision explanation (Art. 86) of one row of the batch; the report
    is rendered like any other and its progress page follows. A refusal (not a
    high-risk system, no such row) comes back on the form with its reason."""
    batch = _record(request, "prediction_batch", pk)
    form = ExplanationForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            report, _ = report_services.report_request(
                actor=request.member.principal,
                kind=Report.Kind.DECISION_EXPLANATION,
                prediction_batch=batch,
                row=form.cleaned_data["row"],
            )
        except ServiceError as exc:
            add_service_error(form, exc)
            status = exc.status
        else:
            return redirect("web:report-progress", pk=report.pk)
    context = {**_context(request, "prediction_batch", batch), "explanation_form": form}
    return render(request, "web/records/detail.html", context, status=status)
