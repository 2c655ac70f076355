"""Notifications: e-mails through Django's mail backend and signed webhook POSTs, each a
delivery sent by a job and retried with exponential backoff (the one job policy);
every attempt is recorded with its answer and latency."""

from __future__ import annotations

import json
import smtplib
import time
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from apps.monitoring import webhooks
from apps.monitoring.models import Alert, Delivery, DeliveryAttempt, MonitoringPolicy
from apps.monitoring.models import RetrainingTrigger as Trigger
from apps.monitoring.services.policies import webhook_url_problem


class DeliveryFailed(ConnectionError):
    """An attempt that did not deliver; a ConnectionError, so the job retries it."""


def body_bytes(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def deliveries_create(
    *,
    policy: MonitoringPolicy,
    event: str,
    payload: dict[str, Any],
    alert: Alert | None = None,
    trigger: Trigger | None = None,
    pipeline: bool = False,
) -> list[Delivery]:
    """One delivery per target (the pipeline's URL, or every webhook URL and e-mail
    address of the policy), sent after the caller's transaction commits."""
    body = body_bytes(payload)
    targets: list[tuple[str, str]]
    if pipeline:
        targets = [(Delivery.Channel.PIPELINE, policy.pipeline_url)] if policy.pipeline_url else []
    else:
        targets = [(Delivery.Channel.WEBHOOK, url) for url in policy.webhook_urls]
        targets += [(Delivery.Channel.EMAIL, address) for address in policy.email_recipients]
    made = [
        Delivery.objects.create(
            policy=policy,
            alert=alert,
            trigger=trigger,
            channel=channel,
            target=target,
            event=event,
            body=body,
        )
        for channel, target in targets
    ]
    from apps.monitoring.tasks import delivery_send_task

    for delivery in made:
        transaction.on_commit(lambda pk=delivery.pk: delivery_send_task.delay(pk))
    return made


def delivery_claim(*, delivery_id: int) -> bool:
    """Pending or sending (a retry, or a worker that died) moves to sending; False
    once delivered or failed, so a redelivered task does nothing."""
    return (
        Delivery.objects.filter(
            pk=delivery_id, status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]
        ).update(status=Delivery.Status.SENDING)
        == 1
    )


def _send_email(delivery: Delivery) -> webhooks.Answer:
    payload = json.loads(delivery.body)
    subject = f"[{payload.get('severity', 'monitoring')}] {payload.get('summary', delivery.event)}"
    started = time.perf_counter()
    try:
        send_mail(
            subject=subject[:200],
            message=json.dumps(payload, indent=2, sort_keys=True),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[delivery.target],
        )
        error = ""
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    latency = round((time.perf_counter() - started) * 1000, 3)
    return webhooks.Answer(ok=not error, status_code=None, error=error, latency_ms=latency)


def _send_webhook(delivery: Delivery) -> webhooks.Answer:
    problem = webhook_url_problem(delivery.target)
    if problem:
        # Checked again at send time: the name may resolve elsewhere than it did.
        return webhooks.Answer(ok=False, status_code=None, error=problem, latency_ms=0.0)
    body = delivery.body.encode()
    header = webhooks.signature(
        secret=delivery.policy.webhook_secret, timestamp=int(time.time()), body=body
    )
    return webhooks.post(
        url=delivery.target,
        body=body,
        headers={
            webhooks.SIGNATURE_HEADER: header,
            "X-Audit-Event": delivery.event,
            "X-Audit-Delivery": str(delivery.pk),
        },
    )


def delivery_attempt(*, delivery_id: int) -> None:
    """One attempt, recorded (committed) whatever its outcome; raises DeliveryFailed
    when it did not deliver, for the job to retry with backoff."""
    delivery = Delivery.objects.select_related("policy").get(pk=delivery_id)
    if delivery.channel == Delivery.Channel.EMAIL:
        answer = _send_email(delivery)
    else:
        answer = _send_webhook(delivery)
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts.count() + 1,
        ok=answer.ok,
        status_code=answer.status_code,
        error=answer.error,
        latency_ms=answer.latency_ms,
    )
    if not answer.ok:
        raise DeliveryFailed(f"{delivery.channel} to {delivery.target}: {answer.error}")


def delivery_complete(*, delivery_id: int) -> None:
    Delivery.objects.filter(pk=delivery_id).update(
        status=Delivery.Status.DELIVERED, delivered_at=timezone.now()
    )


def delivery_fail(*, delivery_id: int, reason: str) -> None:
    Delivery.objects.filter(pk=delivery_id).exclude(status=Delivery.Status.DELIVERED).update(
        status=Delivery.Status.FAILED, failure_reason=reason
    )
