"""Inference worker tasks (gpu queue): thin, id-based, safe to run twice (apps/tasks/jobs.py)."""

from __future__ import annotations

from celery import Task

from apps.tasks.jobs import Job, job_run, job_task, task_id_of


@job_task(name="apps.inference.prediction_batch_run", time_limit=6 * 3600)
def prediction_batch_run_task(self: Task, batch_id: int) -> None:
    """Scores a queued prediction batch. The batch's status is the claim: a
    redelivered task finds it completed and does nothing, or finds it left running
    by a worker that died and finishes it once. ``batch_execute`` records the
    completion itself: the output files exist only while it runs."""
    from apps.inference.errors import JobRefused
    from apps.inference.services import batch_execute, batch_fail
    from apps.registry.models import PredictionBatch
    from apps.registry.services import prediction_batch_claim

    job_run(
        task=self,
        job=Job(
            what="inference",
            claim=lambda: prediction_batch_claim(batch_id=batch_id),
            task_id=task_id_of(PredictionBatch, batch_id),
            execute=lambda progress: batch_execute(batch_id=batch_id, progress=progress),
            fail=lambda reason: batch_fail(batch_id=batch_id, reason=reason),
            refused=(JobRefused,),
        ),
    )
