"""Post-market monitoring report (Art. 72): the system's use during a period
(prediction batches, decisions per day) and its deployment events."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from apps.monitoring import selectors as monitoring
from apps.registry.models import DeploymentEvent, PredictionBatch
from apps.reports import charts
from apps.reports.kinds.common import (
    Citations,
    Gathered,
    ReportKind,
    system_facts,
    versions_covered,
    when,
)
from apps.reports.kinds.compliance_record import open_incidents
from apps.reports.models import Report

BATCHES_LISTED_MAX = 500
MISSING = (
    "No drift measurement is on the record yet for this period.",
    "No performance measurement on production data is on the record yet.",
    "No monitoring alert is on the record yet.",
)


def _volume_chart(batches: list[PredictionBatch]) -> str:
    by_day: dict[str, int] = defaultdict(int)
    for b in batches:
        by_day[b.created_at.strftime("%Y-%m-%d")] += b.row_count or 0
    return charts.bar_chart(
        [(day, float(rows)) for day, rows in sorted(by_day.items())[-31:]],
        title="Decisions (rows scored) per day, last 31 days of the period",
    )


def _batch_rows(batches: list[PredictionBatch], cite: Citations) -> list[dict[str, Any]]:
    return [
        {
            "id": str(b.pk),
            "deployment": b.deployment.environment,
            "model_version": str(b.model_version),
            "rows": b.row_count,
            "status": b.status,
            "at": when(b.created_at),
            "seq": cite.seq("prediction_batch", b.pk, "prediction_batch.recorded"),
        }
        for b in batches
    ]


def _event_rows(events: Any, cite: Citations) -> list[dict[str, Any]]:
    """Deployment changes in the period, each with the version it replaced."""
    return [
        {
            "deployment": e.deployment.environment,
            "kind": e.kind.replace("_", " "),
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


def gather(report: Report, cite: Citations) -> Gathered:
    system = report.system
    assert system is not None
    time_from = datetime.fromisoformat(report.params["time_from"])
    time_to = datetime.fromisoformat(report.params["time_to"])
    facts = system_facts(system, cite)
    batches = list(
        PredictionBatch.objects.filter(
            deployment__system=system, created_at__gte=time_from, created_at__lt=time_to
        )
        .select_related("deployment", "model_version")
        .order_by("created_at")[:BATCHES_LISTED_MAX]
    )
    events = (
        DeploymentEvent.objects.filter(deployment__system=system, at__gte=time_from, at__lt=time_to)
        .select_related("deployment", "model_version", "previous_model_version")
        .order_by("ledger_seq")
    )
    cite.load({"prediction_batch": [b.pk for b in batches]})
    watched = monitoring.post_market(system=system, time_from=time_from, time_to=time_to)
    for seq in watched.pop("seqs"):
        cite.add(seq)
    found = (watched["drift"], watched["performance"], watched["alerts"])
    missing = [text for text, rows in zip(MISSING, found, strict=True) if not rows]
    context = {
        "system": facts,
        "time_from": when(time_from),
        "time_to": when(time_to),
        "batches": _batch_rows(batches, cite),
        "events": _event_rows(events, cite),
        "volume_chart": _volume_chart(batches),
        "covered": [str(v) for v in versions_covered(report)],
        "incidents": open_incidents(system, cite),
        "monitoring": watched,
        "missing": missing,
    }
    records = {
        "system": facts,
        "time_from": time_from,
        "time_to": time_to,
        "prediction_batches": context["batches"],
        "deployment_events": context["events"],
        "versions_covered": context["covered"],
        "open_serious_incidents": context["incidents"],
        "monitoring": {k: v for k, v in watched.items() if k != "charts"},
    }
    return Gathered(
        context=context, records=records, about={"system": system.name}, missing=missing
    )


POST_MARKET = ReportKind(
    key=Report.Kind.POST_MARKET,
    title="Post-market monitoring report: {system}",
    template="reports/post_market.html",
    sections=(
        "System and period",
        "Performance",
        "Drift",
        "Alerts",
        "Serious incidents",
        "Actions",
        "Use during the period",
    ),
    gather=gather,
    cites=frozenset(
        {
            "ai_system",
            "prediction_batch",
            "deployment",
            "monitoring_policy",
            "drift_report",
            "performance_report",
            "alert",
            "retraining_trigger",
            "training_run",
            "model_version",
            "assessment",
            "approval_request",
            "incident",
        }
    ),
)
