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
    from apps.tasks.runner import run_job

    if not explanation_claim(explanation_id=explanation_id):
        return
    run_job(
        task=self,
        task_id=Explanation.objects.values_list("task_id", flat=True).get(pk=explanation_id),
        execute=lambda progress: explanation_execute(
            explanation_id=explanation_id, progress=progress
        ),
        fail=lambda reason: explanation_fail(explanation_id=explanation_id, reason=reason),
        refused=JobRefused,
        retryable=RETRYABLE,
        what="explanation",
        result_links={"explanation": f"/api/v1/explanations/{explanation_id}"},
    )
