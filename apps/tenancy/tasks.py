"""Tenancy housekeeping tasks: thin, safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task

RETRYABLE = (ConnectionError, TimeoutError)

logger = logging.getLogger(__name__)


@shared_task(
    name="apps.tenancy.idempotency_records_purge",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=3,
    time_limit=900,
)
def idempotency_records_purge_task() -> int:
    """Purges expired Idempotency-Key answers; sent hourly by ``celery beat``
    (CELERY_BEAT_SCHEDULE). A failed run leaves no state behind: the next one
    deletes what this one did not."""
    from apps.tenancy.services import idempotency_records_purge

    purged = idempotency_records_purge()
    logger.info("purged %d expired idempotency records", purged)
    return purged
