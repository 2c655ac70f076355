"""Writes of post-market monitoring, one module per concern; callers import from here.

- ``policies``: monitoring policies and their scheduled window jobs
- ``findings``: drift reports, performance estimates (CBPE) and realized performance
- ``alerts``: alerts, their acknowledgement and resolution, retraining triggers
- ``deliveries``: e-mails and signed webhooks, with every attempt
- ``activation``: automatic activation of a retrained version (not high-risk systems)
"""

from apps.monitoring.services.activation import trigger_auto_activate, triggers_auto_activate
from apps.monitoring.services.alerts import (
    alert_acknowledge,
    alert_raise,
    alert_resolve,
    trigger_run_link,
    triggers_escalate,
)
from apps.monitoring.services.deliveries import (
    DeliveryFailed,
    delivery_attempt,
    delivery_claim,
    delivery_complete,
    delivery_fail,
)
from apps.monitoring.services.findings import (
    drift_report_for_batch,
    drift_report_for_window,
    labels_upload,
    performance_estimate_for_batch,
)
from apps.monitoring.services.policies import monitoring_policy_set, webhook_url_problem


def batch_completed(*, batch_id: int) -> None:
    """The registry's hook (after the commit): a batch with a policy gets its drift and
    performance estimate computed by a worker."""
    from apps.monitoring.models import MonitoringPolicy
    from apps.monitoring.tasks import batch_monitor_task
    from apps.registry.models import PredictionBatch

    deployment_id = (
        PredictionBatch.objects.filter(pk=batch_id).values_list("deployment_id", flat=True).first()
    )
    if MonitoringPolicy.objects.filter(deployment_id=deployment_id).exists():
        batch_monitor_task.delay(batch_id)


__all__ = [
    "DeliveryFailed",
    "alert_acknowledge",
    "alert_raise",
    "alert_resolve",
    "batch_completed",
    "delivery_attempt",
    "delivery_claim",
    "delivery_complete",
    "delivery_fail",
    "drift_report_for_batch",
    "drift_report_for_window",
    "labels_upload",
    "monitoring_policy_set",
    "performance_estimate_for_batch",
    "trigger_auto_activate",
    "trigger_run_link",
    "triggers_auto_activate",
    "triggers_escalate",
    "webhook_url_problem",
]
