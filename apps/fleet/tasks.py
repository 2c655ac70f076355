"""Fleet tasks: thin, safe to run twice (apps/tasks/jobs.py)."""

from __future__ import annotations

import logging

from celery import Task

from apps.tasks.jobs import Job, Progress, job_run, job_task

logger = logging.getLogger(__name__)


@job_task(name="apps.fleet.online_seal", time_limit=900)
def online_seal_task(self: Task, deployment_id: int | None = None) -> list[int] | None:
    """Seals open online decisions into prediction batches: queued when a batch
    fills, and sent every FLEET_SEAL_SECONDS by ``celery beat`` for the rest; reports
    exchanges left unpaired. A run that dies leaves its decisions open for the next."""
    from apps.fleet.services.online import online_exchanges_sweep, online_seal

    def execute(progress: Progress) -> list[int]:
        online_exchanges_sweep()
        sealed = online_seal(deployment_id=deployment_id)
        logger.info("sealed %d online batches", len(sealed))
        return sealed

    return job_run(task=self, job=Job(what="the sealing of online decisions", execute=execute))


@job_task(name="apps.fleet.queue_wait_check", time_limit=120)
def queue_wait_check_task(self: Task) -> int | None:
    """Sent every minute by ``celery beat``: a queue whose oldest job waited past
    FLEET_QUEUE_WAIT_ALERT_SECONDS raises an alert; one unresolved alert per queue."""
    from apps.fleet.services.queues import queue_wait_check

    def execute(progress: Progress) -> int:
        return len(queue_wait_check())

    return job_run(task=self, job=Job(what="the queue-wait check", execute=execute))
