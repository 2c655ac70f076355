"""Inference worker tasks (gpu queue): thin, id-based, safe to run twice."""

from __future__ import annotations

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

RETRYABLE = (ConnectionError, TimeoutError, OperationalError, InterfaceError)


@shared_task(
    bind=True,
    name="apps.inference.prediction_batch_run",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=5,
    time_limit=6 * 3600,
)
def prediction_batch_run_task(self: Task, batch_id: int) -> None:
    """Scores a queued prediction batch. The batch's status is the claim: a
    redelivered task finds it completed and does nothing, or finds it left running
    by a worker that died and finishes it once."""
    from apps.inference.errors import JobRefused
    from apps.inference.services import batch_execute, batch_fail
    from apps.registry.models import PredictionBatch
    from apps.registry.services import prediction_batch_claim
    from apps.tasks.runner import run_job

    if not prediction_batch_claim(batch_id=batch_id):
        return
    run_job(
        task=self,
        task_id=PredictionBatch.objects.values_list("task_id", flat=True).get(pk=batch_id),
        execute=lambda progress: batch_execute(batch_id=batch_id, progress=progress),
        fail=lambda reason: batch_fail(batch_id=batch_id, reason=reason),
        refused=JobRefused,
        retryable=RETRYABLE,
        what="inference",
        result_links={"prediction_batch": f"/api/v1/prediction-batches/{batch_id}"},
    )
