"""Running a claimed job inside a Celery task, with its progress and outcome kept on
the job's task record. Shared by the worker tasks so each stays a few lines."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from celery import Task

from apps.tasks.services import (
    task_record_claim,
    task_record_fail,
    task_record_finish,
    task_record_progress,
)

Progress = Callable[[int, str], None]


def run_job(
    *,
    task: Task,
    task_id: uuid.UUID | None,
    execute: Callable[[Progress], None],
    fail: Callable[[str], None],
    refused: type[Exception],
    retryable: tuple[type[Exception], ...],
    what: str,
    result_links: dict[str, str],
) -> None:
    """Runs ``execute`` for a job its caller has claimed.

    ``refused`` is the job's own "cannot be done" error (its ``reason`` attribute, or
    its text, is recorded, no retry); a ``retryable`` error is raised for Celery to
    retry, and recorded as the failure only once no retry is left; anything else is
    recorded as the failure and raised.
    """
    if task_id is not None:
        task_record_claim(task_id=task_id)

    def progress(percent: int, message: str) -> None:
        if task_id is not None:
            task_record_progress(task_id=task_id, percent=percent, message=message)

    def record_failure(reason: str) -> None:
        fail(reason)
        if task_id is not None:
            task_record_fail(task_id=task_id, reason=reason)

    try:
        execute(progress)
    except refused as exc:
        record_failure(getattr(exc, "reason", str(exc)))
        return
    except Exception as exc:
        if not (isinstance(exc, retryable) and task.request.retries < task.max_retries):
            record_failure(f"{what} could not run: {type(exc).__name__}: {exc}")
        raise
    if task_id is not None:
        task_record_finish(task_id=task_id, message="completed", result_links=result_links)
