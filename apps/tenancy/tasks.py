"""Tenancy housekeeping tasks: thin, safe to run twice (apps/tasks/jobs.py)."""

from __future__ import annotations

import logging

from celery import Task

from apps.tasks.jobs import Job, Progress, job_run, job_task

logger = logging.getLogger(__name__)


@job_task(name="apps.tenancy.idempotency_records_purge", time_limit=900)
def idempotency_records_purge_task(self: Task) -> int | None:
    """Purges expired Idempotency-Key answers; sent hourly by ``celery beat``
    (CELERY_BEAT_SCHEDULE). A job with no entity and no task record: a failed run
    leaves no state behind, and the next one deletes what this one did not."""
    from apps.tenancy.services import idempotency_records_purge

    def execute(progress: Progress) -> int:
        purged = idempotency_records_purge()
        logger.info("purged %d expired idempotency records", purged)
        return purged

    return job_run(task=self, job=Job(what="the purge", execute=execute))
