"""Reads of post-market monitoring: the plan in words (Annex IV 9), what was found in a
period, and the retraining chain trigger -> run -> version -> assessments -> approval
-> deployment, for the API and the reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from apps.compliance import selectors as compliance
from apps.ledger import selectors as ledger_selectors
from apps.monitoring import charts
from apps.monitoring.models import (
    Alert,
    DriftReport,
    MonitoringPolicy,
    PerformanceReport,
    RetrainingTrigger,
)
from apps.registry import selectors as registry_selectors
from apps.registry.models import ModelVersion
from audit_platform.ids import id_text

ACTIONS = {
    "retrain": "a retraining trigger is sent to the training pipeline, which registers the "
    "retrained run with the trigger's id",
    "review": "the alert asks the people notified for a review",
    "stop": "the alert asks the people notified to stop the deployment (the stop button, "
    "Art. 14(4)(e)); it is never stopped automatically",
}


def policies_of_system(*, system: Any) -> QuerySet[MonitoringPolicy]:
    return MonitoringPolicy.objects.filter(deployment__system=system).select_related(
        "deployment", "reference_dataset_version__dataset", "reference_batch"
    )


def _reference_words(policy: MonitoringPolicy) -> str:
    if policy.reference_dataset_version_id:
        version = policy.reference_dataset_version
        return f"dataset version {version} (id {version.pk}, SHA-256 {version.sha256[:12]}…)"
    return f"the input of prediction batch {policy.reference_batch_id}"


def _test_words(policy: MonitoringPolicy) -> str:
    chosen = (
        "; ".join(f"{f}: {t}" for f, t in sorted(policy.tests.items()))
        if policy.tests
        else "chosen by reference size as Evidently does (up to 1,000 rows: Kolmogorov-Smirnov "
        "for numbers and a two-sample chi-square for categories at p < 0.05; more: Wasserstein "
        "distance normed by the reference standard deviation and Jensen-Shannon distance at 0.1)"
    )
    thresholds = (
        "; thresholds " + ", ".join(f"{f}: {v:g}" for f, v in sorted(policy.thresholds.items()))
        if policy.thresholds
        else ""
    )
    return f"{chosen}{thresholds}"


def monitoring_plan(policy: MonitoringPolicy) -> str:
    """The post-market monitoring plan of one deployment, in words, generated from its
    policy (Annex IV 9, Art. 72(3))."""
    watched = ", ".join(policy.features) if policy.features else "every column of the reference"
    schedule = (
        f"and over every {policy.window_hours}-hour window on a schedule"
        if policy.window_hours
        else "(no scheduled windows)"
    )
    notify = []
    if policy.email_recipients:
        notify.append(f"{len(policy.email_recipients)} e-mail recipient(s)")
    if policy.webhook_urls:
        notify.append(f"{len(policy.webhook_urls)} signed webhook(s)")
    performance = (
        f"Performance is estimated from the calibrated scores (CBPE) before labels arrive and "
        f"measured once labels are uploaded, expected within {policy.label_delay_hours} hours; "
        f"a drop in {policy.performance_metric} of more than {policy.performance_drop:g} below "
        "the model version's declared figure raises an alert."
        if policy.task == MonitoringPolicy.Task.BINARY
        else "Performance is measured when labels are uploaded."
    )
    return (
        f"Deployment {policy.deployment} (policy revision {policy.revision}): the input of "
        f"every prediction batch is compared with {_reference_words(policy)} {schedule}. "
        f"Watched features: {watched}. Tests: {_test_words(policy)}. The data has drifted when "
        f"at least {policy.drift_share:.0%} of the watched features drift. {performance} "
        f"Alerts are recorded on the ledger and notified to "
        f"{' and '.join(notify) or 'the people who read the alert list'}; on decay "
        f"{ACTIONS[policy.on_decay]}"
        + (
            f", to be answered within {policy.trigger_deadline_hours} hours or escalated"
            if policy.on_decay == MonitoringPolicy.OnDecay.RETRAIN
            else ""
        )
        + ". A person acknowledges and resolves each alert with a note."
        + (
            " A retrained version of this system, if it is not high-risk, goes live by itself "
            f"once its assessments meet {policy.activation_thresholds}."
            if policy.auto_activate
            else " A retrained version goes live only through the deployment's activation, "
            "with the approvals compliance requires."
        )
    )


def monitoring_plans(*, system: Any) -> list[dict[str, Any]]:
    """Each deployment's plan in words, with the ledger entry of its policy."""
    return [
        {
            "deployment": p.deployment.environment,
            "policy_id": str(p.pk),
            "revision": p.revision,
            "text": monitoring_plan(p),
            "seq": p.ledger_seq,
        }
        for p in policies_of_system(system=system)
    ]


def drift_reports(*, system: Any, time_from: datetime, time_to: datetime) -> list[DriftReport]:
    return list(
        DriftReport.objects.filter(
            policy__deployment__system=system, created_at__gte=time_from, created_at__lt=time_to
        )
        .select_related("policy__deployment")
        .order_by("created_at")
    )


def performance_reports(
    *, system: Any, time_from: datetime, time_to: datetime
) -> list[PerformanceReport]:
    return list(
        PerformanceReport.objects.filter(
            policy__deployment__system=system, created_at__gte=time_from, created_at__lt=time_to
        ).order_by("created_at")
    )


def alerts(*, system: Any, time_from: datetime, time_to: datetime) -> list[Alert]:
    return list(
        Alert.objects.filter(
            policy__deployment__system=system, created_at__gte=time_from, created_at__lt=time_to
        ).order_by("created_at")
    )


def performance_by_batch(reports: list[PerformanceReport]) -> list[dict[str, Any]]:
    """Per batch: the estimate with its interval and the realized figure, which
    replaces it once labels landed."""
    rows: dict[int, dict[str, Any]] = {}
    for r in reports:
        row = rows.setdefault(r.batch_id, {"batch": r.batch_id, "metric": r.metric})
        row[r.kind] = {
            "value": r.value,
            "lower": r.lower,
            "upper": r.upper,
            "rows": r.rows,
            "seq": r.ledger_seq,
        }
        row["declared"] = r.declared
        row["current"] = row.get("realized", row.get("estimated"))
    return list(rows.values())


def retraining_chain(*, trigger: RetrainingTrigger) -> list[dict[str, Any]]:
    """Trigger -> training run -> model version(s) -> assessments -> approvals ->
    deployment changes, each step with its ledger seq, in ledger order."""
    organization = trigger.policy.deployment.system.organization
    log = ledger_selectors.log_for(organization=organization)
    steps: list[dict[str, Any]] = [
        {
            "step": "alert",
            "id": id_text(trigger.alert_id),
            "seq": trigger.alert.ledger_seq,
            "what": trigger.alert.cause,
        },
        {
            "step": "trigger",
            "id": str(trigger.pk),
            "seq": trigger.ledger_seq,
            "what": f"{trigger.action} requested, deadline {trigger.deadline.isoformat()}",
        },
    ]
    if trigger.training_run_id is None:
        return steps
    run = trigger.training_run
    first = ledger_selectors.entry_seq_first(
        log=log, subject_kind="training_run", subject_id=run.pk
    )
    steps.append(
        {
            "step": "training_run",
            "id": str(run.pk),
            "seq": first,
            "what": f"training run {run.pk} ({run.status})",
        }
    )
    versions = ModelVersion.objects.filter(training_run=run).order_by("created_at")
    for version in versions:
        steps.extend(_version_steps(log=log, trigger=trigger, version=version))
    return sorted(steps, key=lambda s: (s["seq"] is None, s["seq"] or 0))


def _version_steps(*, log: Any, trigger: RetrainingTrigger, version: Any) -> list[dict[str, Any]]:
    seq = ledger_selectors.entry_seq_first(
        log=log, subject_kind="model_version", subject_id=version.pk
    )
    steps = [
        {
            "step": "model_version",
            "id": str(version.pk),
            "seq": seq,
            "what": f"model version {version} registered",
        }
    ]
    for a in compliance.assessments_completed(model_version=version):
        done = ledger_selectors.entry_seqs_about(log=log, subjects={"assessment": [a.pk]})
        last = max((e.seq for e in done), default=None)
        steps.append(
            {
                "step": "assessment",
                "id": str(a.pk),
                "seq": last,
                "what": f"{a.kind} assessment {a.status}",
            }
        )
    for request in compliance.approval_requests_of_system(system=version.model.system):
        if request.model_version_id != version.pk:
            continue
        entries = list(
            ledger_selectors.entry_seqs_about(log=log, subjects={"approval_request": [request.pk]})
        )
        steps.append(
            {
                "step": "approval",
                "id": str(request.pk),
                "seq": max((e.seq for e in entries), default=None),
                "what": f"approval request {request.status}",
            }
        )
    deployment = trigger.policy.deployment
    for event in registry_selectors.deployment_history(deployment=deployment):
        if event.model_version_id == version.pk and event.kind != "stopped":
            steps.append(
                {
                    "step": "deployment",
                    "id": str(deployment.pk),
                    "seq": event.ledger_seq,
                    "what": f"{deployment.environment} {event.kind} {version}",
                }
            )
    return steps


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _drift_rows(reports: list[DriftReport]) -> list[dict[str, Any]]:
    return [
        {
            "id": str(r.pk),
            "deployment": r.policy.deployment.environment,
            "window": r.window_key,
            "status": r.status,
            "rows": r.rows,
            "drifted": r.dataset_drifted,
            "drifted_features": [f["feature"] for f in r.features if f.get("drifted")],
            "tested": r.tested_features,
            "share": round(r.share, 4),
            "reason": r.failure_reason,
            "approximation": r.approximation,
            "at": _when(r.created_at),
            "seq": r.ledger_seq,
        }
        for r in reports
    ]


def _alert_rows(raised: list[Alert]) -> list[dict[str, Any]]:
    return [
        {
            "id": str(a.pk),
            "kind": a.kind,
            "severity": a.severity,
            "cause": a.cause,
            "status": a.status,
            "note": a.note,
            "at": _when(a.created_at),
            "seq": a.ledger_seq,
        }
        for a in raised
    ]


def post_market(*, system: Any, time_from: datetime, time_to: datetime) -> dict[str, Any]:
    """What the post-market monitoring report shows for a period, as plain values:
    the plans, drift, performance (estimated, then realized), alerts, retraining
    triggers with their chains, the charts, and every ledger seq it cites."""
    drift = drift_reports(system=system, time_from=time_from, time_to=time_to)
    performance = performance_reports(system=system, time_from=time_from, time_to=time_to)
    raised = alerts(system=system, time_from=time_from, time_to=time_to)
    triggers = RetrainingTrigger.objects.filter(
        policy__deployment__system=system, created_at__gte=time_from, created_at__lt=time_to
    ).select_related("alert", "training_run", "policy__deployment__system__organization")
    latest = next((d for d in reversed(drift) if d.status == DriftReport.Status.COMPLETED), None)
    out: dict[str, Any] = {
        "plans": monitoring_plans(system=system),
        "drift": _drift_rows(drift),
        "performance": performance_by_batch(performance),
        "alerts": _alert_rows(raised),
        "triggers": [
            {
                "id": str(t.pk),
                "action": t.action,
                "status": t.status,
                "deadline": _when(t.deadline),
                "chain": retraining_chain(trigger=t),
            }
            for t in triggers
        ],
        "charts": {
            "drift_over_time": charts.drift_over_time(drift),
            "performance_over_time": charts.performance_over_time(performance),
            "distributions": charts.distributions(latest) if latest else [],
        },
    }
    seqs = [row["seq"] for key in ("plans", "drift", "alerts") for row in out[key]]
    seqs += [step["seq"] for t in out["triggers"] for step in t["chain"]]
    seqs += [p[k]["seq"] for p in out["performance"] for k in ("estimated", "realized") if k in p]
    out["seqs"] = [s for s in seqs if s]
    return out


def system_monitoring(*, system: Any, time_from: datetime, time_to: datetime) -> dict[str, Any]:
    """What the AI system's page shows of its monitoring over a period: drift and
    performance over time as SVG charts ("" where nothing was measured), how many
    reports they draw, and the alerts and retraining triggers still open."""
    drift = drift_reports(system=system, time_from=time_from, time_to=time_to)
    performance = performance_reports(system=system, time_from=time_from, time_to=time_to)
    return {
        "plans": monitoring_plans(system=system),
        "drift_chart": charts.drift_over_time(drift),
        "drift_reports": len(drift),
        "performance_chart": charts.performance_over_time(performance),
        "performance_reports": len(performance),
        "alerts": list(
            alerts_open(organization=system.organization).filter(policy__deployment__system=system)
        ),
        "triggers": list(
            triggers_open(organization=system.organization).filter(
                policy__deployment__system=system
            )
        ),
    }


# --- What waits for people (the dashboard) -----------------------------------------------


def alerts_open(*, organization: Any) -> QuerySet[Alert]:
    """The organization's open alerts, the latest first."""
    return (
        Alert.objects.filter(
            policy__deployment__system__organization=organization, status=Alert.Status.OPEN
        )
        .select_related("policy__deployment__system")
        .order_by("-created_at", "-pk")
    )


def triggers_open(*, organization: Any) -> QuerySet[RetrainingTrigger]:
    """Retraining triggers nobody answered yet (open or escalated), the nearest deadline
    first."""
    return (
        RetrainingTrigger.objects.filter(
            policy__deployment__system__organization=organization,
            status__in=(RetrainingTrigger.Status.OPEN, RetrainingTrigger.Status.ESCALATED),
        )
        .select_related("policy__deployment__system")
        .order_by("deadline", "pk")
    )
