"""The registry's record of a system's lifecycle (Annex IV 2-3, 6): datasets and
their versions, training runs, models and versions, deployments and their events,
prediction batches; each row with the ``seq`` of the entry that put it on the record."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from django.db.models import Count, Sum

from apps.ledger import selectors as ledger_selectors
from apps.registry.lifecycle import status_label
from apps.registry.models import (
    AISystem,
    Dataset,
    DatasetVersion,
    Deployment,
    DeploymentEvent,
    Model,
    ModelVersion,
    PredictionBatch,
    TrainingRun,
)
from apps.reports.kinds.common import (
    Citations,
    metric_interval,
    metric_pairs,
    numeric_metrics,
    pairs,
    serving,
    when,
    words,
)
from audit_platform.ids import id_text

RUN_FINISH_TYPES = {
    "completed": "training_run.completed",
    "failed": "training_run.failed",
    "abandoned": "training_run.abandoned",
}


def _dataset_rows(
    datasets: list[Dataset], versions: list[DatasetVersion], cite: Citations
) -> list[dict[str, Any]]:
    by_dataset: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for v in versions:
        by_dataset[v.dataset_id].append(
            {
                "id": str(v.pk),
                "version": v.version,
                "split": v.split,
                "rows": v.row_count,
                "size_bytes": v.size_bytes,
                "sha256": v.sha256,
                "uri": v.uri,
                "personal": v.contains_personal_data,
                "special": v.contains_special_category_data,
                "datasheet": pairs(v.datasheet),
                "schema": ", ".join(
                    f"{c.get('name')} ({words(c.get('type'))})" for c in v.schema or []
                ),
                "statistics_state": words(v.statistics_state),
                "created_at": when(v.created_at),
                "seq": cite.seq("dataset_version", v.pk, "dataset_version.registered"),
                "stats_seq": cite.seq(
                    "dataset_version", v.pk, "dataset_version.statistics_computed"
                ),
            }
        )
    return [
        {
            "name": d.name,
            "description": d.description,
            "seq": cite.seq("dataset", d.pk, "dataset.created"),
            "versions": by_dataset.get(d.pk, []),
        }
        for d in datasets
    ]


def _run_rows(runs: list[TrainingRun], cite: Citations) -> list[dict[str, Any]]:
    rows = []
    for r in runs:
        finish_type = RUN_FINISH_TYPES.get(r.status)
        rows.append(
            {
                "id": str(r.pk),
                "model": r.model.name if r.model else "—",
                "status": words(r.status),
                "params": pairs(r.params),
                "metrics": metric_pairs(r.metrics),
                "code_revision": r.code_revision or "—",
                "environment": pairs(r.environment),
                "hardware": pairs(r.hardware),
                "energy_joules": r.energy_joules,
                "duration_seconds": r.duration_seconds,
                "started_at": when(r.started_at),
                "finished_at": when(r.finished_at),
                "datasets": ", ".join(str(v) for v in r.dataset_versions.all()) or "—",
                "seq": cite.seq("training_run", r.pk, "training_run.started"),
                "end_seq": cite.seq("training_run", r.pk, finish_type) if finish_type else None,
            }
        )
    return rows


def _version_rows(versions: list[ModelVersion], cite: Citations) -> list[dict[str, Any]]:
    return [
        {
            "id": str(v.pk),
            "model": v.model.name,
            "version": v.version,
            "format": v.artifact_format,
            "framework": f"{v.framework} {v.framework_version}",
            "sha256": v.artifact_sha256,
            "metrics": metric_pairs(v.metrics),
            "numeric": numeric_metrics(v.metrics),
            "intervals": {
                name: bounds
                for name, value in (v.metrics or {}).items()
                if (bounds := metric_interval(value)) is not None
            },
            "training_run": id_text(v.training_run_id),
            "datasets": ", ".join(str(d) for d in v.dataset_versions.all()) or "—",
            "created_at": when(v.created_at),
            "seq": cite.seq("model_version", v.pk, "model_version.registered"),
        }
        for v in versions
    ]


def _batch_summary(system: AISystem, cite: Citations) -> dict[str, Any]:
    """How many batches and rows, and the entries of the first and the last batch."""
    batches = PredictionBatch.objects.filter(deployment__system=system)
    summary = batches.aggregate(count=Count("pk"), rows=Sum("row_count"))
    # First and last by when they were recorded (ids are UUIDs, which have no order
    # to aggregate in PostgreSQL).
    summary["first"] = batches.order_by("created_at", "pk").values_list("pk", flat=True).first()
    summary["last"] = batches.order_by("-created_at", "-pk").values_list("pk", flat=True).first()
    for key in ("first", "last"):
        pk = summary[key]
        summary[f"{key}_seq"] = (
            cite.first("prediction_batch", pk, "prediction_batch.recorded") if pk else None
        )
    return summary


def _deployment_rows(system: AISystem, cite: Citations) -> tuple[list[dict], list[dict]]:
    """The system's deployments and their events (activations, rollbacks, stops)."""
    deployments = list(Deployment.objects.filter(system=system).select_related("model_version"))
    events = (
        DeploymentEvent.objects.filter(deployment__system=system)
        .select_related("deployment", "model_version", "previous_model_version")
        .order_by("ledger_seq")
    )
    cite.load({"deployment": [d.pk for d in deployments]})
    deployment_rows = [
        {
            "environment": d.environment,
            "status": words(d.status),
            "serving": serving(d),
            "resources": pairs(d.resources),
            "seq": cite.seq("deployment", d.pk, "deployment.created"),
        }
        for d in deployments
    ]
    event_rows = [
        {
            "deployment": e.deployment.environment,
            "kind": words(e.kind),
            "model_version": str(e.model_version),
            "previous": (
                str(e.previous_model_version) if e.previous_model_version else "nothing served"
            ),
            "reason": e.reason or "—",
            "at": when(e.at),
            "seq": cite.add(e.ledger_seq),
        }
        for e in events
    ]
    return deployment_rows, event_rows


def status_history(system: AISystem, cite: Citations, people: Any) -> list[dict[str, Any]]:
    """Each change of the system's lifecycle status, from its ledger entries."""
    entries = ledger_selectors.entries_filtered(
        log=cite.log,
        type="ai_system.status_changed",
        subject_kind="ai_system",
        subject_id=str(system.pk),
    )
    rows = []
    for line in ledger_selectors.entry_lines(entries=entries):
        data = json.loads(line.body)["data"]
        rows.append(
            {
                "from": status_label(data["from"]),
                "to": status_label(data["to"]),
                "reason": data["reason"],
                "by": people.actor(line.actor_kind, line.actor_id),
                "at": when(line.time),
                "seq": cite.add(line.seq),
            }
        )
    return rows


def lifecycle(system: AISystem, cite: Citations) -> dict[str, Any]:
    """Datasets, runs, models and deployments of a system, each with its seqs."""
    datasets = list(Dataset.objects.filter(system=system).order_by("name"))
    versions = list(
        DatasetVersion.objects.filter(dataset__system=system).order_by("dataset_id", "created_at")
    )
    runs = list(
        TrainingRun.objects.filter(system=system)
        .select_related("model")
        .prefetch_related("dataset_versions")
        .order_by("started_at")
    )
    models = list(Model.objects.filter(system=system).order_by("name"))
    model_versions = list(
        ModelVersion.objects.filter(model__system=system)
        .select_related("model")
        .prefetch_related("dataset_versions")
        .order_by("model__name", "created_at")
    )
    cite.load(
        {
            "dataset": [d.pk for d in datasets],
            "dataset_version": [v.pk for v in versions],
            "training_run": [r.pk for r in runs],
            "model": [m.pk for m in models],
            "model_version": [v.pk for v in model_versions],
        }
    )
    dataset_rows = _dataset_rows(datasets, versions, cite)
    run_rows = _run_rows(runs, cite)
    version_rows = _version_rows(model_versions, cite)
    batches = _batch_summary(system, cite)
    deployment_rows, event_rows = _deployment_rows(system, cite)
    return {
        "datasets": dataset_rows,
        "runs": run_rows,
        "models": [
            {"name": m.name, "seq": cite.seq("model", m.pk, "model.created")} for m in models
        ],
        "versions": version_rows,
        "deployments": deployment_rows,
        "events": event_rows,
        "batches": batches,
        "test_logs": [
            {"what": f"dataset {d['name']} {v['version']} ({v['split']})", **v}
            for d in dataset_rows
            for v in d["versions"]
            if v["split"] in ("validation", "test")
        ],
    }
