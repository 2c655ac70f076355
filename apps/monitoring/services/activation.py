"""The retraining loop's last step: the version a triggered run produced goes live.

For a high-risk system activation goes through the deployments API and the approvals
the compliance gate requires (the registry asks the gate on every path). For any
other system, a policy with ``auto_activate`` activates the new version itself once
its completed assessments pass the thresholds the policy fixed in advance.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.compliance import selectors as compliance
from apps.monitoring import events
from apps.monitoring.models import RetrainingTrigger as Trigger
from apps.monitoring.services.alerts import monitoring_actor
from apps.registry import services as registry
from apps.registry.models import ModelVersion
from apps.tenancy.records import record_event, record_ref

HIGH_RISK = "high_risk"  # compliance's Classification.Category.HIGH_RISK


def _meets(thresholds: dict[str, Any], results: dict[str, Any]) -> bool:
    """Whether a performance assessment's results (``{"metrics": {name: {"value"}}}``)
    are within every bound the policy fixed before the run."""
    results = results.get("metrics", results)
    for metric, bounds in thresholds.items():
        value = results.get(metric)
        if isinstance(value, dict):
            value = value.get("value")
        if not isinstance(value, int | float):
            return False
        if "min" in bounds and value < bounds["min"]:
            return False
        if "max" in bounds and value > bounds["max"]:
            return False
    return True


def activation_candidate(trigger: Trigger) -> tuple[ModelVersion, list[Any]] | None:
    """The newest version the trigger's run produced, with the passed assessments
    that meet the policy's activation thresholds; None while there is none."""
    if trigger.training_run_id is None:
        return None
    version = (
        ModelVersion.objects.filter(training_run_id=trigger.training_run_id)
        .order_by("-created_at")
        .first()
    )
    if version is None:
        return None
    passed = [
        a
        for a in compliance.assessments_completed(model_version=version)
        if a.status == "passed" and _meets(trigger.policy.activation_thresholds, a.results or {})
    ]
    return (version, passed) if passed else None


def trigger_auto_activate(*, trigger_id: int) -> bool:
    """Activates the triggered run's version when the policy allows it and the system
    is not high-risk; True when it did."""
    trigger = Trigger.objects.select_related("policy__deployment__system").get(pk=trigger_id)
    policy = trigger.policy
    if not policy.auto_activate or trigger.activated_at is not None:
        return False
    current = compliance.classification_current(system=policy.deployment.system)
    if current is not None and current.category == HIGH_RISK:
        return False
    candidate = activation_candidate(trigger)
    if candidate is None:
        return False
    version, passed = candidate
    actor = monitoring_actor(policy)
    with transaction.atomic():
        trigger = Trigger.objects.select_for_update().get(pk=trigger.pk)
        if trigger.activated_at is not None:
            return False
        registry.deployment_activate(
            actor=actor,
            deployment=policy.deployment,
            model_version=version,
            reason=f"Automatic activation after retraining trigger {trigger.pk}: assessments "
            f"{[a.pk for a in passed]} passed the policy's thresholds.",
        )
        trigger.activated_model_version, trigger.activated_at = version, timezone.now()
        trigger.save(update_fields=["activated_model_version", "activated_at"])
        record_event(
            actor=actor,
            event=events.RETRAINING_ACTIVATED,
            id=trigger.pk,
            data={
                "model_version": record_ref("model_version", version),
                "deployment": record_ref("deployment", policy.deployment),
                "assessments": [str(a.pk) for a in passed],
            },
        )
    return True


def triggers_auto_activate() -> list[int]:
    """Every answered trigger whose version may go live by itself now."""
    pending = Trigger.objects.filter(
        status=Trigger.Status.ANSWERED, activated_at__isnull=True, policy__auto_activate=True
    ).values_list("pk", flat=True)
    return [pk for pk in pending if trigger_auto_activate(trigger_id=pk)]
