"""Deployments: created per environment, then activated, rolled back or stopped.
Activation and rollback pass the deployment gate (``extension_points``)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from apps.ledger.digests import text_sha256
from apps.ledger.types import Receipt
from apps.registry import events, selectors
from apps.registry.extension_points import deployment_change_check
from apps.registry.models import AISystem, Deployment, DeploymentEvent, ModelVersion
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal


def deployment_create(
    *, actor: Principal, system: AISystem, environment: str, resources: dict[str, Any] | None = None
) -> tuple[Deployment, Receipt]:
    try:
        with transaction.atomic():
            deployment = Deployment.objects.create(
                system=system, environment=environment, resources=resources or {}
            )
            receipt = record_event(
                actor=actor,
                event=events.DEPLOYMENT_CREATED,
                id=deployment.pk,
                data={
                    "environment": environment,
                    "resources": deployment.resources,
                    "parent": record_ref("ai_system", system),
                },
            )
    except IntegrityError:
        raise RuleViolation(
            f"System {system.pk} already has a deployment in {environment!r}."
        ) from None
    return deployment, receipt


_SWITCH_EVENTS = {
    DeploymentEvent.Kind.ACTIVATED: events.DEPLOYMENT_ACTIVATED,
    DeploymentEvent.Kind.ROLLED_BACK: events.DEPLOYMENT_ROLLED_BACK,
}


def _switch(
    *,
    actor: Principal,
    deployment: Deployment,
    to: ModelVersion,
    rollback_target: ModelVersion | None,
    kind: str,
    reason: str,
) -> tuple[Deployment, DeploymentEvent, Receipt]:
    served = deployment.model_version
    deployment.model_version = to
    deployment.status = Deployment.Status.ACTIVE
    deployment.save(update_fields=["model_version", "status"])
    receipt = record_event(
        actor=actor,
        event=_SWITCH_EVENTS[kind],
        id=deployment.pk,
        data={
            "model_version": record_ref("model_version", to),
            "sha256": to.artifact_sha256,
            "replaces": record_ref("model_version", served),
            "reason": reason or None,
        },
    )
    # The event takes effect at the time the ledger sequenced it, so "which version
    # served at T" and the ledger agree to the microsecond.
    event = DeploymentEvent.objects.create(
        deployment=deployment,
        kind=kind,
        model_version=to,
        previous_model_version=served,
        rollback_target=rollback_target,
        reason=reason,
        at=selectors.entry_time(organization=actor.organization, seq=receipt.seq),
        ledger_seq=receipt.seq,
    )
    return deployment, event, receipt


def deployment_activate(
    *, actor: Principal, deployment: Deployment, model_version: ModelVersion, reason: str = ""
) -> tuple[Deployment, DeploymentEvent, Receipt]:
    with transaction.atomic():
        deployment = (
            Deployment.objects.select_for_update(of=("self",))
            .select_related("model_version")
            .get(pk=deployment.pk)
        )
        if model_version.model.system_id != deployment.system_id:
            raise RuleViolation(
                f"Model version {model_version.pk} belongs to another AI system; "
                "a deployment serves only model versions of its own system."
            )
        deployment_change_check(
            deployment=deployment, model_version=model_version, action="activation"
        )
        if deployment.model_version_id == model_version.pk:
            raise RuleViolation(
                f"Deployment {deployment.pk} already serves model version {model_version.pk}."
            )
        return _switch(
            actor=actor,
            deployment=deployment,
            to=model_version,
            rollback_target=deployment.model_version,
            kind=DeploymentEvent.Kind.ACTIVATED,
            reason=reason,
        )


def deployment_rollback(
    *, actor: Principal, deployment: Deployment, reason: str
) -> tuple[Deployment, DeploymentEvent, Receipt]:
    """Returns the deployment to the version that served before the current one."""
    if not reason.strip():
        raise InvalidInput("A rollback needs a reason.", fields={"reason": ["Required."]})
    with transaction.atomic():
        deployment = (
            Deployment.objects.select_for_update(of=("self",))
            .select_related("model_version")
            .get(pk=deployment.pk)
        )
        current = (
            DeploymentEvent.objects.filter(deployment=deployment).order_by("-ledger_seq").first()
        )
        if current is None or current.rollback_target is None:
            raise RuleViolation(
                f"Deployment {deployment.pk} has no previous model version to roll back to."
            )
        target = current.rollback_target
        deployment_change_check(deployment=deployment, model_version=target, action="rollback")
        # After returning to the target, a further rollback goes to what preceded it.
        before_target = (
            DeploymentEvent.objects.filter(deployment=deployment, model_version=target)
            .order_by("-ledger_seq")
            .first()
        )
        return _switch(
            actor=actor,
            deployment=deployment,
            to=target,
            rollback_target=before_target.rollback_target if before_target else None,
            kind=DeploymentEvent.Kind.ROLLED_BACK,
            reason=reason,
        )


def deployment_stop(
    *, actor: Principal, deployment: Deployment, reason: str
) -> tuple[Deployment, DeploymentEvent, Receipt]:
    """The stop button (Art. 14(4)(e)): the deployment stops serving. A rollback
    afterwards returns to the version served before the stopped one; an activation
    starts a new version (both pass the compliance gate)."""
    if not reason.strip():
        raise InvalidInput("Stopping needs a reason.", fields={"reason": ["Required."]})
    with transaction.atomic():
        deployment = (
            Deployment.objects.select_for_update(of=("self",))
            .select_related("model_version")
            .get(pk=deployment.pk)
        )
        if deployment.status != Deployment.Status.ACTIVE or deployment.model_version is None:
            raise RuleViolation(
                f"Deployment {deployment.pk} is {deployment.status}: nothing to stop."
            )
        stopped = deployment.model_version
        current = (
            DeploymentEvent.objects.filter(deployment=deployment).order_by("-ledger_seq").first()
        )
        deployment.model_version = None
        deployment.status = Deployment.Status.STOPPED
        deployment.save(update_fields=["model_version", "status"])
        receipt = record_event(
            actor=actor,
            event=events.DEPLOYMENT_STOPPED,
            id=deployment.pk,
            data={
                "model_version": record_ref("model_version", stopped),
                "sha256": stopped.artifact_sha256,
                "reason_sha256": text_sha256(reason),
            },
        )
        event = DeploymentEvent.objects.create(
            deployment=deployment,
            kind=DeploymentEvent.Kind.STOPPED,
            model_version=stopped,
            previous_model_version=stopped,
            rollback_target=current.rollback_target if current else None,
            reason=reason,
            at=selectors.entry_time(organization=actor.organization, seq=receipt.seq),
            ledger_seq=receipt.seq,
        )
    return deployment, event, receipt
