"""Celery tasks of the ledger: thin wrappers that take ids."""

from __future__ import annotations

from celery import Task, shared_task

from apps.tasks.models import TaskRecord
from apps.tasks.services import task_record_claim, task_record_fail, task_record_finish

RETRYABLE = (ConnectionError, TimeoutError)


@shared_task(
    bind=True,
    name="apps.ledger.log_verify",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=3,
    time_limit=3600,
)
def log_verify_task(self: Task, task_id: str) -> None:
    """Verifies an organization's stored log. Read-only, so running it twice is harmless."""
    from apps.ledger.selectors import log_for
    from apps.ledger.stored_log_check import log_verify

    if not task_record_claim(task_id=task_id):
        return
    record = TaskRecord.objects.select_related("organization").get(pk=task_id)
    try:
        result = log_verify(log=log_for(organization=record.organization))
    except Exception as exc:
        if not (isinstance(exc, RETRYABLE) and self.request.retries < self.max_retries):
            task_record_fail(task_id=task_id, reason=f"verification could not run: {exc}")
        raise
    if result.ok:
        task_record_finish(task_id=task_id, message=result.summary())
    else:
        task_record_fail(task_id=task_id, reason=result.summary())
