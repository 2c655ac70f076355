"""Explanation worker tasks (gpu queue): thin, id-based, safe to run twice."""

from __future__ import annotations

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

RETRYABLE = (ConnectionError, TimeoutError, OperationalError, InterfaceError)


@shared_task(
    bind=True,
    name="apps.explainability.explanation_run",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=5,
    time_limit=6 * 3600,
)
def explanation_run_task(self: Task, explanation_id: int) -> None:
    """Computes an explanation; the explanation's status is the claim."""
    from apps.explainability.models import Explanation
    from apps.explainability.services import (
        explanation_claim,
        explanation_execute,
        explanation_fail,
    )
    from apps.inference.errors import JobRefused
    from apps.tasks.services import (
        task_record_claim,
        task_record_fail,
        task_record_finish,
        task_record_progress,
    )

    if not explanation_claim(explanation_id=explanation_id):
        return
    task_id = Explanation.objects.values_list("task_id", flat=True).get(pk=explanation_id)
    if task_id is not None:
        task_record_claim(task_id=task_id)

    def progress(percent: int, message: str) -> None:
        if task_id is not None:
            task_record_progress(task_id=task_id, percent=percent, message=message)

    def fail(reason: str) -> None:
        explanation_fail(explanation_id=explanation_id, reason=reason)
        if task_id is not None:
            task_record_fail(task_id=task_id, reason=reason)

    try:
        explanation_execute(explanation_id=explanation_id, progress=progress)
    except JobRefused as exc:
        fail(exc.reason)
        return
    except Exception as exc:
        if not (isinstance(exc, RETRYABLE) and self.request.retries < self.max_retries):
            fail(f"explanation could not run: {type(exc).__name__}: {exc}")
        raise
    if task_id is not None:
        task_record_finish(
            task_id=task_id,
            message="completed",
            result_links={"explanation": f"/api/v1/explanations/{explanation_id}"},
        )
