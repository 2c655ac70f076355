"""The ledger events of post-market monitoring (Art. 72): policies, drift and
performance reports, alerts and what people did about them, retraining triggers and
the runs that answered them (see apps/ledger/events.py and docs/monitoring.md)."""

from __future__ import annotations

from apps.ledger.events import declare, declare_section, optional

MONITORING = declare_section(
    title="Post-market monitoring",
    order=60,
    notes="""
A drift report's `features` digest is the RFC 8785 SHA-256 of its per-feature figures
(`GET /api/v1/monitoring/drift-reports/{id}` returns them). A window's report is
written once: `window` is `batch:<id>` for a batch, or `<start>/<end>` for a scheduled
window. Notifications (e-mail, signed webhooks) and their attempts are listed at
`/api/v1/monitoring/alerts/{id}` and `/api/v1/monitoring/triggers/{id}`; they are not
entries, the alert or trigger they are about is.
""",
)

POLICY_FIELDS = {
    "parent": "deployment",
    "revision": "",
    "reference": "dataset_version or prediction_batch",
    "features": "watched columns ([]: all of the reference's)",
    "tests": "feature -> test",
    "thresholds": "feature -> threshold",
    "drift_share": "share of drifted features at which the dataset has drifted",
    "task": "",
    "performance_metric": "",
    "performance_drop": "drop from the declared figure that raises an alert",
    "label_delay_hours": "",
    "window_hours": "scheduled window length (0: none)",
    "email_recipients": "count",
    "webhook_urls": "",
    "on_decay": "retrain/review/stop",
    "pipeline_url": "",
    "trigger_deadline_hours": "",
    "auto_activate": "",
    "activation_thresholds": "",
}

MONITORING_POLICY_SET = declare(
    "monitoring_policy.set",
    subject="monitoring_policy",
    section=MONITORING,
    fields=POLICY_FIELDS,
    doc="the plan in words (Annex IV 9) is generated from these fields",
)
DRIFT_REPORT_COMPLETED = declare(
    "drift_report.completed",
    subject="drift_report",
    section=MONITORING,
    fields={
        "parent": "monitoring_policy",
        "window": "",
        "prediction_batch": optional(),
        "rows": "",
        "reference_rows": "",
        "dataset_drifted": "",
        "drifted_features": "names",
        "tested_features": "count",
        "share": "",
        "features_sha256": "",
        "approximation": optional("how a summary stood in for the data"),
    },
)
DRIFT_REPORT_FAILED = declare(
    "drift_report.failed",
    subject="drift_report",
    section=MONITORING,
    fields={
        "parent": "monitoring_policy",
        "window": "",
        "prediction_batch": optional(),
        "reason": "",
    },
)
PERFORMANCE_ESTIMATED = declare(
    "performance.estimated",
    subject="performance_report",
    section=MONITORING,
    fields={
        "parent": "monitoring_policy",
        "prediction_batch": "",
        "metric": "",
        "value": "",
        "interval": "[lower, upper]",
        "rows": "",
        "declared": "the model version's declared figure",
        "method": "CBPE",
    },
)
PERFORMANCE_REALIZED = declare(
    "performance.realized",
    subject="performance_report",
    section=MONITORING,
    fields={
        "parent": "monitoring_policy",
        "prediction_batch": "",
        "metric": "",
        "value": "",
        "rows": "labelled rows",
        "declared": "",
        "labels_sha256": "RFC 8785 SHA-256 of the uploaded labels",
        "replaces": optional("the estimate it replaces"),
    },
)
ALERT_RAISED = declare(
    "alert.raised",
    subject="alert",
    section=MONITORING,
    fields={
        "parent": "monitoring_policy",
        "kind": "drift/performance/trigger_overdue",
        "severity": "",
        "cause": "",
        "figures": "",
        "links": "",
    },
)
ALERT_ACKNOWLEDGED = declare(
    "alert.acknowledged",
    subject="alert",
    section=MONITORING,
    fields={"note_sha256": ""},
)
ALERT_RESOLVED = declare(
    "alert.resolved",
    subject="alert",
    section=MONITORING,
    fields={"note_sha256": ""},
)
RETRAINING_TRIGGERED = declare(
    "retraining_trigger.created",
    subject="retraining_trigger",
    section=MONITORING,
    fields={
        "parent": "monitoring_policy",
        "alert": "",
        "action": "retrain/review/stop",
        "model_version": "the version that decayed",
        "deadline": "",
        "payload_sha256": "RFC 8785 SHA-256 of the JSON sent to the pipeline",
    },
)
RETRAINING_RUN_LINKED = declare(
    "retraining_trigger.answered",
    subject="retraining_trigger",
    section=MONITORING,
    fields={"training_run": ""},
    doc="a training run registered with trigger=<id>",
)
RETRAINING_ESCALATED = declare(
    "retraining_trigger.escalated",
    subject="retraining_trigger",
    section=MONITORING,
    fields={"deadline": "", "alert": "the overdue alert raised"},
)
RETRAINING_ACTIVATED = declare(
    "retraining_trigger.activated",
    subject="retraining_trigger",
    section=MONITORING,
    fields={
        "model_version": "",
        "deployment": "",
        "assessments": "the passed assessments that allowed it",
    },
    doc="automatic activation of a system that is not high-risk, by the policy's thresholds",
)
