"""Alerts and retraining triggers: raised by decay, acknowledged and resolved by a
person with a note, answered by a training run, escalated when left unanswered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.ledger.digests import json_sha256, text_sha256
from apps.ledger.types import Receipt
from apps.monitoring import events
from apps.monitoring.models import Alert, MonitoringPolicy
from apps.monitoring.models import RetrainingTrigger as Trigger
from apps.monitoring.services.deliveries import deliveries_create
from apps.registry import selectors as registry_selectors
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import Forbidden, InvalidInput, NotFound, RuleViolation
from audit_platform.ids import id_text
from audit_platform.principal import Principal

DECAY_KINDS = (Alert.Kind.DRIFT, Alert.Kind.PERFORMANCE)


def monitoring_actor(policy: MonitoringPolicy) -> Principal:
    return Principal.system(organization=policy.deployment.system.organization, name="monitoring")


def _alert_payload(alert: Alert) -> dict[str, Any]:
    policy = alert.policy
    return {
        "event": "alert.raised",
        "organization": policy.deployment.system.organization.slug,
        "summary": alert.cause,
        "severity": alert.severity,
        "alert": {
            "id": str(alert.pk),
            "kind": alert.kind,
            "cause": alert.cause,
            "figures": alert.figures,
            "links": alert.links,
            "ledger_seq": alert.ledger_seq,
            "url": f"/api/v1/monitoring/alerts/{alert.pk}",
        },
        "deployment": {
            "id": str(policy.deployment_id),
            "environment": policy.deployment.environment,
        },
        "system": {"id": str(policy.deployment.system_id), "name": policy.deployment.system.name},
    }


def alert_raise(
    *,
    policy: MonitoringPolicy,
    kind: str,
    severity: str,
    cause: str,
    figures: dict[str, Any],
    links: dict[str, Any],
) -> Alert:
    """Records the alert on the ledger, queues its notifications, and, for decay on
    a policy that asks for retraining (or review, or a stop), the trigger too. Call
    inside the transaction that recorded the finding."""
    actor = monitoring_actor(policy)
    with transaction.atomic():
        alert = Alert.objects.create(
            policy=policy, kind=kind, severity=severity, cause=cause, figures=figures, links=links
        )
        receipt = record_event(
            actor=actor,
            event=events.ALERT_RAISED,
            id=alert.pk,
            data={
                "parent": record_ref("monitoring_policy", policy),
                "kind": kind,
                "severity": severity,
                "cause": cause,
                "figures": figures,
                "links": links,
            },
        )
        alert.ledger_seq = receipt.seq
        alert.save(update_fields=["ledger_seq"])
        deliveries_create(
            policy=policy, event="alert.raised", payload=_alert_payload(alert), alert=alert
        )
        if kind in DECAY_KINDS and policy.on_decay == MonitoringPolicy.OnDecay.RETRAIN:
            trigger_create(alert=alert)
    return alert


def _decide(
    *, actor: Principal, alert: Alert, note: str, to: str, allowed: tuple[str, ...]
) -> tuple[Alert, Receipt]:
    if actor.kind != "user":
        raise Forbidden(
            "Alerts are acknowledged and resolved by people: sign in (an API key cannot)."
        )
    if not note.strip():
        raise InvalidInput("A note is required.", fields={"note": ["Say what was done or seen."]})
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.status not in allowed:
            raise RuleViolation(f"Alert {alert.pk} is {alert.status}; it cannot become {to}.")
        now, who = timezone.now(), f"user:{actor.id}"
        if to == Alert.Status.ACKNOWLEDGED:
            alert.acknowledged_by, alert.acknowledged_at = who, now
            event = events.ALERT_ACKNOWLEDGED
        else:
            alert.resolved_by, alert.resolved_at = who, now
            event = events.ALERT_RESOLVED
        alert.status = to
        alert.note = f"{alert.note}\n{note}".strip()
        alert.save()
        receipt = record_event(
            actor=actor, event=event, id=alert.pk, data={"note_sha256": text_sha256(note)}
        )
    return alert, receipt


def alert_acknowledge(*, actor: Principal, alert: Alert, note: str) -> tuple[Alert, Receipt]:
    return _decide(
        actor=actor, alert=alert, note=note, to=Alert.Status.ACKNOWLEDGED, allowed=("open",)
    )


def alert_resolve(*, actor: Principal, alert: Alert, note: str) -> tuple[Alert, Receipt]:
    return _decide(
        actor=actor,
        alert=alert,
        note=note,
        to=Alert.Status.RESOLVED,
        allowed=("open", "acknowledged"),
    )


# --- Retraining triggers ----------------------------------------------------------------


def trigger_payload(trigger: Trigger) -> dict[str, Any]:
    """The JSON the pipeline gets: generic fields, and ``ci_dispatch``, a body ready
    for a CI system's dispatch event (GitHub's repository_dispatch shape)."""
    policy, version = trigger.policy, trigger.model_version
    system = policy.deployment.system
    facts = {
        "trigger_id": str(trigger.pk),
        "action": trigger.action,
        "deadline": trigger.deadline.isoformat(),
        "system_id": str(system.pk),
        "deployment_id": id_text(policy.deployment_id),
        "model_version_id": str(version.pk) if version else None,
        "alert_id": id_text(trigger.alert_id),
    }
    return {
        "event": "retraining_trigger.created",
        "organization": system.organization.slug,
        "summary": f"{trigger.action} requested for {policy.deployment}: {trigger.alert.cause}",
        "severity": trigger.alert.severity,
        "trigger": {**facts, "url": f"/api/v1/monitoring/triggers/{trigger.pk}"},
        "alert": {
            "kind": trigger.alert.kind,
            "cause": trigger.alert.cause,
            "figures": trigger.alert.figures,
        },
        "model_version": None
        if version is None
        else {"id": str(version.pk), "version": version.version, "sha256": version.artifact_sha256},
        "register_run_with": {
            "method": "POST",
            "path": "/api/v1/training-runs/",
            "body": {"system_id": str(system.pk), "trigger": str(trigger.pk)},
        },
        "ci_dispatch": {"event_type": policy.dispatch_event_type, "client_payload": facts},
    }


def trigger_create(*, alert: Alert) -> Trigger:
    policy = alert.policy
    served = registry_selectors.served_at(deployment=policy.deployment, at=timezone.now())
    trigger = Trigger.objects.create(
        policy=policy,
        alert=alert,
        action=policy.on_decay,
        model_version=served,
        deadline=timezone.now() + timedelta(hours=policy.trigger_deadline_hours),
    )
    trigger.payload = trigger_payload(trigger)
    receipt = record_event(
        actor=monitoring_actor(policy),
        event=events.RETRAINING_TRIGGERED,
        id=trigger.pk,
        data={
            "parent": record_ref("monitoring_policy", policy),
            "alert": record_ref("alert", alert),
            "action": trigger.action,
            "model_version": record_ref("model_version", served),
            "deadline": trigger.deadline.isoformat(),
            "payload_sha256": json_sha256(trigger.payload),
        },
    )
    trigger.ledger_seq = receipt.seq
    trigger.save(update_fields=["payload", "ledger_seq"])
    deliveries_create(
        policy=policy,
        event="retraining_trigger.created",
        payload=trigger.payload,
        trigger=trigger,
        pipeline=True,
    )
    return trigger


def trigger_run_link(*, actor: Principal, run: Any, reference: int) -> None:
    """The registry's training-run reference ``trigger``: the run answers the trigger.
    Runs inside the registry's transaction; a refusal rolls the run back."""
    trigger = (
        Trigger.objects.select_for_update()
        .filter(pk=reference, policy__deployment__system__organization=actor.organization)
        .select_related("policy__deployment")
        .first()
    )
    if trigger is None:
        raise NotFound(
            f"Retraining trigger {reference} does not exist.",
            fields={"trigger": ["No such trigger in this organization."]},
        )
    if trigger.policy.deployment.system_id != run.system_id:
        raise RuleViolation(
            f"Retraining trigger {trigger.pk} is about system "
            f"{trigger.policy.deployment.system_id}, not {run.system_id}."
        )
    if trigger.status == Trigger.Status.ANSWERED:
        raise RuleViolation(
            f"Retraining trigger {trigger.pk} was answered already by training run "
            f"{trigger.training_run_id}."
        )
    trigger.status, trigger.training_run = Trigger.Status.ANSWERED, run
    trigger.answered_at = timezone.now()
    trigger.save(update_fields=["status", "training_run", "answered_at"])
    record_event(
        actor=actor,
        event=events.RETRAINING_RUN_LINKED,
        id=trigger.pk,
        data={"training_run": record_ref("training_run", run)},
    )


def triggers_escalate(*, now: Any = None) -> list[Trigger]:
    """Open triggers past their deadline: each raises a critical alert (notified like
    any other) and is marked escalated, once."""
    now = now or timezone.now()
    escalated = []
    for pk in Trigger.objects.filter(status=Trigger.Status.OPEN, deadline__lt=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            trigger = Trigger.objects.select_for_update().select_related("policy").get(pk=pk)
            if trigger.status != Trigger.Status.OPEN:
                continue
            alert = alert_raise(
                policy=trigger.policy,
                kind=Alert.Kind.TRIGGER_OVERDUE,
                severity=Alert.Severity.CRITICAL,
                cause=(
                    f"Retraining trigger {trigger.pk} ({trigger.action}) is unanswered past "
                    f"its deadline {trigger.deadline.isoformat()}."
                ),
                figures={"deadline": trigger.deadline.isoformat()},
                links={"trigger": f"/api/v1/monitoring/triggers/{trigger.pk}"},
            )
            trigger.status, trigger.escalated_at = Trigger.Status.ESCALATED, now
            trigger.save(update_fields=["status", "escalated_at"])
            record_event(
                actor=monitoring_actor(trigger.policy),
                event=events.RETRAINING_ESCALATED,
                id=trigger.pk,
                data={
                    "deadline": trigger.deadline.isoformat(),
                    "alert": record_ref("alert", alert),
                },
            )
            escalated.append(trigger)
    return escalated
