"""Queue-wait alerts: a queue whose oldest job has waited longer than
FLEET_QUEUE_WAIT_ALERT_SECONDS raises one alert (kept up to date while unresolved);
an operator acknowledges, then resolves it with a note (docs/fleet.md)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Min
from django.utils import timezone

from apps.fleet.models import QueueWaitAlert
from apps.tasks.models import TaskRecord
from audit_platform.errors import Forbidden, InvalidInput, RuleViolation
from audit_platform.principal import Principal


def _classes_of(queue: str) -> list[str]:
    return sorted(
        name for name, spec in settings.FLEET_WORKER_CLASSES.items() if queue in spec["queues"]
    )


def queue_wait_check(*, now: datetime | None = None) -> list[QueueWaitAlert]:
    """Raises (or brings up to date) the alert of each queue whose oldest queued job
    waited past the threshold; safe to run twice: one unresolved alert per queue. A
    job whose alert was resolved does not raise another: only a newer one does."""
    now = now or timezone.now()
    threshold = settings.FLEET_QUEUE_WAIT_ALERT_SECONDS
    waiting = (
        TaskRecord.objects.filter(state=TaskRecord.State.QUEUED)
        .exclude(queue="")
        .values("queue")
        .annotate(oldest_at=Min("created_at"), jobs=Count("id"))
    )
    raised = []
    for row in waiting:
        waited = int((now - row["oldest_at"]).total_seconds())
        if waited <= threshold:
            continue
        oldest = (
            TaskRecord.objects.filter(
                state=TaskRecord.State.QUEUED, queue=row["queue"], created_at=row["oldest_at"]
            )
            .values_list("pk", flat=True)
            .first()
        )
        alert = _raise(
            queue=row["queue"], oldest=str(oldest), waited=waited, jobs=row["jobs"], now=now
        )
        if alert is not None:
            raised.append(alert)
    return raised


def _raise(
    *, queue: str, oldest: str, waited: int, jobs: int, now: datetime
) -> QueueWaitAlert | None:
    figures = {"waited_seconds": waited, "jobs_waiting": jobs, "checked_at": now}
    with transaction.atomic():
        current = (
            QueueWaitAlert.objects.select_for_update()
            .exclude(status=QueueWaitAlert.Status.RESOLVED)
            .filter(queue=queue)
            .first()
        )
        if current is not None:
            QueueWaitAlert.objects.filter(pk=current.pk).update(**figures)
            return None
        if QueueWaitAlert.objects.filter(queue=queue, oldest_task_id=oldest).exists():
            return None  # resolved by an operator while this job still waited
        try:
            with transaction.atomic():
                return QueueWaitAlert.objects.create(
                    queue=queue,
                    worker_classes=_classes_of(queue),
                    threshold_seconds=settings.FLEET_QUEUE_WAIT_ALERT_SECONDS,
                    oldest_task_id=oldest,
                    raised_at=now,
                    **figures,
                )
        except IntegrityError:
            return None  # a check running at the same time raised it


def _decide(
    *, actor: Principal, alert: QueueWaitAlert, note: str, to: str, allowed: tuple[str, ...]
) -> QueueWaitAlert:
    """The workers are the service's own: their alerts are decided by its operators
    (staff), in person, with a note, as monitoring's alerts are."""
    if not actor.in_person or not getattr(actor.user, "is_staff", False):
        raise Forbidden(
            "Queue alerts concern the service's own workers: an operator (a staff user, "
            "signed in) acknowledges and resolves them."
        )
    if not note.strip():
        raise InvalidInput("A note is required.", fields={"note": ["Say what was done or seen."]})
    with transaction.atomic():
        alert = QueueWaitAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.status not in allowed:
            raise RuleViolation(f"Alert {alert.pk} is {alert.status}; it cannot become {to}.")
        now, who = timezone.now(), f"user:{actor.person_id}"
        if to == QueueWaitAlert.Status.ACKNOWLEDGED:
            alert.acknowledged_by, alert.acknowledged_at = who, now
        else:
            alert.resolved_by, alert.resolved_at = who, now
        alert.status = to
        alert.note = f"{alert.note}\n{note}".strip()
        alert.save()
    return alert


def queue_wait_alert_acknowledge(
    *, actor: Principal, alert: QueueWaitAlert, note: str
) -> QueueWaitAlert:
    return _decide(
        actor=actor,
        alert=alert,
        note=note,
        to=QueueWaitAlert.Status.ACKNOWLEDGED,
        allowed=("open",),
    )


def queue_wait_alert_resolve(
    *, actor: Principal, alert: QueueWaitAlert, note: str
) -> QueueWaitAlert:
    return _decide(
        actor=actor,
        alert=alert,
        note=note,
        to=QueueWaitAlert.Status.RESOLVED,
        allowed=("open", "acknowledged"),
    )
