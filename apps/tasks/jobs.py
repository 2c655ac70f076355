"""The one way to write a background job: every Celery task of every app is made with
``job_task`` and runs its work through ``job_run``.

``job_task`` gives a task the one retry policy, ``JOB_POLICY`` (acks late, requeued
when its worker dies, retried with backoff on ``RETRYABLE_ERRORS`` up to
``MAX_RETRIES`` times).
``job_run`` claims the job's entity and its task record, runs the work with a
progress callback, records its result, and on a final failure records the reason on
the entity and the task record in one transaction. A task body only declares a
``Job``::

    @job_task(name="apps.example.thing_run", time_limit=3600)
    def thing_run_task(self: Task, thing_id: int) -> None:
        job_run(task=self, job=Job(what="the thing", claim=..., execute=..., fail=...))
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError, models, transaction

from apps.tasks.services import task_record_claim, task_record_fail, task_record_progress

# Errors of the moment (network, database connection): another try may succeed.
RETRYABLE_ERRORS: tuple[type[Exception], ...] = (
    ConnectionError,
    TimeoutError,
    OperationalError,
    InterfaceError,
)
MAX_RETRIES = 5

Progress = Callable[[int, str], None]
R = TypeVar("R")


class JobTask(Task):
    """Base class of the tasks ``job_task`` makes; a task without it did not come
    through the job pattern (tests/platform/test_job_policy.py looks for it)."""


# The one retry policy: the task is acknowledged only once it ran, requeued when its
# worker dies, and retried with exponential backoff on the errors above.
JOB_POLICY: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": RETRYABLE_ERRORS,
    "retry_backoff": True,
    "max_retries": MAX_RETRIES,
}


def job_task(
    *, name: str, time_limit: int, soft_time_limit: int | None = None
) -> Callable[[Callable[..., Any]], JobTask]:
    """``shared_task`` with the one retry policy. The task is bound: its first argument
    is the task itself, which ``job_run`` needs to know whether retries are left."""
    options: dict[str, Any] = {
        "base": JobTask,
        "name": name,
        "bind": True,
        **JOB_POLICY,
        "time_limit": time_limit,
    }
    if soft_time_limit is not None:
        options["soft_time_limit"] = soft_time_limit
    return shared_task(**options)


@dataclass(frozen=True, kw_only=True)
class Job(Generic[R]):
    """What a task says about its work.

    - ``what`` names the work in a failure's reason ("the report could not run: ...").
    - ``execute(progress)`` does the work; ``progress(percent, message)`` updates the
      task record.
    - ``claim()`` moves the entity to running with a conditional UPDATE; False means
      the job already finished (a second delivery) and nothing is done. None: the job
      has no entity of its own.
    - ``task_id`` is the job's task record (claimed with the entity, failed with it),
      or None when it has none.
    - ``complete(result)`` records the result. It finishes the task record in the
      same transaction as the entity (or ``execute`` records it itself, where the
      files it stores exist only while it runs).
    - ``fail(reason)`` records a final failure on the entity; ``job_run`` fails the
      task record in the same transaction.
    - ``refused`` are the errors that say the job cannot be done (bad input): the
      failure is recorded at once with the error's ``reason`` (or text), no retry.
    """

    what: str
    execute: Callable[[Progress], R]
    claim: Callable[[], bool] | None = None
    task_id: uuid.UUID | str | None = None
    complete: Callable[[R], object] | None = None
    fail: Callable[[str], object] | None = None
    refused: tuple[type[Exception], ...] = ()


def task_id_of(model: type[models.Model], pk: Any) -> uuid.UUID | None:
    """The task record of a job's entity, for ``Job.task_id``: every job entity names
    it ``task``."""
    return model._default_manager.filter(pk=pk).values_list("task_id", flat=True).first()


def job_run(*, task: Task, job: Job[R]) -> R | None:
    """Runs a job inside its task: claim, execute, complete; on error, the policy.

    A refused error is recorded as the failure and not raised; a retryable error is
    raised for Celery to retry, and recorded as the failure only when no retry is
    left; any other error is recorded as the failure and raised. Returns what
    ``execute`` returned, or None when the job was not claimed or was refused.
    """
    if not _claim(job):
        return None

    def progress(percent: int, message: str) -> None:
        if job.task_id is not None:
            task_record_progress(task_id=job.task_id, percent=percent, message=message)

    try:
        result = job.execute(progress)
        if job.complete is not None:
            job.complete(result)
    except job.refused as exc:
        _fail(job, getattr(exc, "reason", str(exc)))
        return None
    except Exception as exc:
        if not (isinstance(exc, RETRYABLE_ERRORS) and task.request.retries < task.max_retries):
            _fail(job, f"{job.what} could not run: {type(exc).__name__}: {exc}")
        raise
    return result


def _claim(job: Job[Any]) -> bool:
    with transaction.atomic():
        if job.claim is not None and not job.claim():
            return False
        if job.task_id is None:
            return True
        claimed = task_record_claim(task_id=job.task_id)
        # With an entity, the entity's state decides; without one, the task record's.
        return claimed or job.claim is not None


def _fail(job: Job[Any], reason: str) -> None:
    with transaction.atomic():
        if job.fail is not None:
            job.fail(reason)
        if job.task_id is not None:
            task_record_fail(task_id=job.task_id, reason=reason)
