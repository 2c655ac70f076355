"""Decision explanation (Art. 86): for one row of one prediction batch of an Annex III
high-risk system (other than point 2), what a person affected by that decision may
ask for: the decision and its receipt (provable offline), the model version and
deployment that made it, the features that drove it (per-row SHAP values computed by
the explainability workers), the human oversight applied, and how to contest it.

Who may get one is decided when it is requested (``refusal``): the kind refuses a
system that is not high-risk under Annex III, or is under its point 2, with the reason.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

from apps.reports.kinds.common import (
    SHAP_METHODS,
    Citations,
    Gathered,
    People,
    RecordDoesNotSupport,
    ReportKind,
    readable,
    system_facts,
    when,
    words,
)
from apps.reports.models import Report
from audit_platform.ids import id_text

# Art. 86(1): the right covers decisions based on the output of a high-risk AI system
# listed in Annex III, "with the exception of systems listed under point 2 thereof".
EXCLUDED_AREA = "critical_infrastructure"
FEATURES_SHOWN = 5


class ExplanationPending(TimeoutError):
    """The SHAP values are still being computed. The report is queued only once they
    are (``services.decision_explanations_release``), so this is the safety net of a
    report run too early: the job retries with backoff (a ``TimeoutError`` is one of the
    job policy's retryable errors) and, once its retries are spent, fails saying so."""


def refusal(*, system: Any) -> str | None:
    """Why Art. 86 gives no right to an explanation of this system's decisions, or
    None when it does."""
    from apps.compliance import selectors as compliance

    current = compliance.classification_current(system=system)
    if current is None:
        return (
            f"AI system {system.pk} is not classified: Art. 86(1) covers decisions of "
            "high-risk AI systems listed in Annex III; record its classification first."
        )
    if current.category != "high_risk" or current.high_risk_basis != "annex_iii":
        return (
            f"AI system {system.pk} is classified {current.get_category_display().lower()}"
            + (
                f" under {current.high_risk_basis.replace('_', ' ')}"
                if current.high_risk_basis
                else ""
            )
            + f" (classification version {current.version}): Art. 86(1) covers decisions "
            "of high-risk AI systems listed in Annex III only."
        )
    if current.annex_iii_area == EXCLUDED_AREA:
        return (
            f"AI system {system.pk} falls under Annex III, point 2 (critical "
            "infrastructure), which Art. 86(1) excludes from the right to an explanation."
        )
    return None


def explanation_of(batch: Any, *, lock: bool = False) -> Any:
    """The latest explanation of the batch by the model version that scored it (``lock``:
    its row locked until the transaction ends)."""
    from apps.explainability.models import Explanation

    explanations = Explanation.objects.filter(
        prediction_batch=batch, model_version=batch.model_version
    )
    if lock:
        explanations = explanations.select_for_update(of=("self",))
    return explanations.order_by("-created_at", "-pk").first()


def _explanation_for(report: Report, batch: Any) -> Any:
    """The explanation the report was requested with (a later one of the same batch
    does not change what it explains); reports requested before it was named: the
    batch's latest."""
    from apps.explainability.models import Explanation

    explanation_id = report.params.get("explanation_id")
    if explanation_id is None:
        return explanation_of(batch)
    return Explanation.objects.filter(pk=explanation_id).first()


def _row_values(explanation: Any, row: int) -> tuple[list[float], float, str]:
    """The row's SHAP value per feature, its base value, and which output they explain
    (several outputs: the last, the positive class of a binary classifier)."""
    with explanation.values_artifact.file.open("rb") as stream:
        values = np.load(io.BytesIO(stream.read()), allow_pickle=False)
    which = "the model's output"
    if values.ndim == 3:
        values = values[:, -1, :]
        which = "the model's last output (the positive class)"
    line = values[row]
    return [float(v) for v in line[:-1]], float(line[-1]), which


def _row_input(batch: Any, row: int) -> dict[str, Any]:
    """The row's input values, from the batch's input file."""
    from apps.registry.tabular import iter_batches

    start = 0
    with batch.input_artifact.file.open("rb") as stream:
        for chunk in iter_batches(stream):
            if row < start + chunk.num_rows:
                return {
                    name: chunk.column(name)[row - start].as_py() for name in chunk.schema.names
                }
            start += chunk.num_rows
    raise RecordDoesNotSupport(f"Row {row} is not in the input file of batch {batch.pk}.")


def _drivers(names: list[str], values: list[float], inputs: dict[str, Any]) -> list[dict]:
    """The features that moved this decision most, in plain words with their direction."""
    ranked = sorted(zip(names, values, strict=True), key=lambda item: -abs(item[1]))
    return [
        {
            "feature": name,
            "value": readable(inputs.get(name)),
            "shap": value,
            "direction": "raised" if value > 0 else "lowered" if value < 0 else "did not change",
            "sentence": (
                f"{words(name).capitalize()} ({readable(inputs.get(name))}) "
                + (
                    f"{'raised' if value > 0 else 'lowered'} the output by {abs(value):.4g}."
                    if value
                    else "did not change the output."
                )
            ),
        }
        for name, value in ranked[:FEATURES_SHOWN]
    ]


def _shap(report: Report, batch: Any, row: int, cite: Citations) -> dict[str, Any]:
    explanation = _explanation_for(report, batch)
    if explanation is None:
        raise RecordDoesNotSupport(
            f"No SHAP explanation of prediction batch {batch.pk} was requested."
        )
    if explanation.status == "failed":
        raise RecordDoesNotSupport(
            f"The SHAP explanation of prediction batch {batch.pk} failed: "
            f"{explanation.failure_reason}"
        )
    if explanation.status != "completed":
        raise ExplanationPending(
            f"the SHAP values of prediction batch {batch.pk} (explanation {explanation.pk}) "
            "were still being computed when the report ran"
        )
    values, base, which = _row_values(explanation, row)
    inputs = _row_input(batch, row)
    names = [str(n) for n in explanation.feature_names]
    return {
        "id": str(explanation.pk),
        "method": SHAP_METHODS.get(explanation.method, words(explanation.method)),
        "which": which,
        "base": base,
        "total": base + sum(values),
        "drivers": _drivers(names, values, inputs),
        "features": len(names),
        "seq": cite.add(explanation.ledger_seq),
    }


def _oversight(batch: Any, row: int, cite: Citations, people: People) -> dict[str, Any]:
    """Who could stop or change this decision, and what they did (Art. 14, 26(2))."""
    from apps.compliance import selectors as compliance

    overrides = [
        {
            "by": people.who(o.created_by),
            "reason": o.reason,
            "at": when(o.created_at),
            "seq": cite.add(o.ledger_seq or None),
        }
        for o in compliance.decision_overrides_of_system(system=batch.deployment.system)
        if o.prediction_batch_id == batch.pk and o.row_index == row
    ]
    approvals = [
        {
            "id": str(r.pk),
            "decisions": [
                f"{words(d.decision)} by {people.user(d.decided_by_id)}, {when(d.created_at)}"
                for d in r.decisions.all()
            ],
            "seq": cite.first("approval_request", r.pk, "approval.decided"),
        }
        for r in compliance.approval_requests_of_system(system=batch.deployment.system)
        if r.deployment_id == batch.deployment_id
        and r.model_version_id == batch.model_version_id
        and r.status == "approved"
    ]
    return {"overrides": overrides, "approvals": approvals}


def _contest(system: Any, organization: Any) -> dict[str, str]:
    """Whom to ask and what to quote, from what the provider recorded."""
    name = getattr(system, "provider_name", "") or organization.name
    address = getattr(system, "provider_address", "") or ""
    return {"name": name, "address": address}


def gather(report: Report, cite: Citations) -> Gathered:
    from apps.inference.selectors import row_receipt
    from apps.registry.models import PredictionBatch

    batch = PredictionBatch.objects.select_related(
        "deployment__system", "model_version__model"
    ).get(pk=report.params["prediction_batch_id"])
    row = int(report.params["row"])
    system = batch.deployment.system
    people = People(report.organization)
    receipt = row_receipt(batch=batch, row=row)
    cite.add(receipt["entry_seq"])
    decision = {
        "batch": str(batch.pk),
        "row": row,
        "output": receipt["leaf_json"]["output"],
        "input_sha256": receipt["leaf_json"]["input_sha256"],
        "at": when(batch.finished_at or batch.window_end or batch.created_at),
        "rows_root": receipt["rows_root"],
        "seq": receipt["entry_seq"],
    }
    served = {
        "model_version": str(batch.model_version),
        "sha256": batch.model_version.artifact_sha256,
        "deployment": batch.deployment.environment,
        "deployment_id": id_text(batch.deployment_id),
        "version_seq": cite.first(
            "model_version", batch.model_version_id, "model_version.registered"
        ),
        "deployment_seq": cite.first("deployment", batch.deployment_id, "deployment.created"),
    }
    context = {
        "system": system_facts(system, cite),
        "decision": decision,
        "served": served,
        "shap": _shap(report, batch, row, cite),
        "oversight": _oversight(batch, row, cite, people),
        "contest": _contest(system, report.organization),
        "report_ref": f"report #{report.pk}, prediction batch {batch.pk}, row {row}",
    }
    records = {key: context[key] for key in ("decision", "served", "shap", "oversight", "contest")}
    records["system"] = {"id": str(system.pk), "name": system.name}
    return Gathered(
        context=context,
        records=records,
        about={"system": system.name, "batch": str(batch.pk), "row": str(row)},
        attachments=[
            (
                "receipt.json",
                json.dumps(receipt, indent=1, sort_keys=True).encode(),
                "The row receipt of this decision: python3 -m apps.ledger.offline_verifier "
                "receipt receipt.json --vkey <the log's vkey>",
            )
        ],
    )


DECISION_EXPLANATION = ReportKind(
    key=Report.Kind.DECISION_EXPLANATION,
    title="Explanation of a decision of {system} (batch {batch}, row {row})",
    template="reports/decision_explanation.html",
    sections=(
        "1. The decision",
        "2. The AI system that contributed to it",
        "3. What drove this decision",
        "4. Human oversight",
        "5. How to contest this decision",
        "6. Proof of this decision",
    ),
    gather=gather,
    cites=frozenset(
        {
            "ai_system",
            "prediction_batch",
            "model_version",
            "deployment",
            "explanation",
            "approval_request",
        }
    ),
)
