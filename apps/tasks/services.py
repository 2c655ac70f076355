"""Creating task records and reporting progress on them."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.tasks.extension_points import JobRoute
from apps.tasks.models import TaskRecord


def task_record_create(
    *,
    organization: Any,
    kind: str,
    subject_kind: str = "",
    subject_id: str = "",
    route: JobRoute | None = None,
    message: str = "",
) -> TaskRecord:
    """A queued task record; ``message`` says what it waits for, if anything."""
    return TaskRecord.objects.create(
        organization=organization,
        kind=kind,
        subject_kind=subject_kind,
        subject_id=subject_id,
        queue=route.queue if route is not None else "",
        route=route.as_record() if route is not None else {},
        message=message,
    )


def task_record_subject_set(*, task: TaskRecord, subject_kind: str, subject_id: str) -> None:
    """Names the entity a task record is for, once that entity exists: a job's entity
    is created after its task record, which it points to."""
    TaskRecord.objects.filter(pk=task.pk).update(subject_kind=subject_kind, subject_id=subject_id)
    task.subject_kind, task.subject_id = subject_kind, subject_id


def task_record_claim(*, task_id: uuid.UUID | str) -> bool:
    """Moves a queued (or redelivered, still running) record to running.

    Returns False when the work already finished, so a task delivered twice does
    its work once.
    """
    with transaction.atomic():
        claimed = TaskRecord.objects.filter(
            pk=task_id, state__in=[TaskRecord.State.QUEUED, TaskRecord.State.RUNNING]
        ).update(
            state=TaskRecord.State.RUNNING,
            started_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
    return claimed == 1


def task_record_progress(*, task_id: uuid.UUID | str, percent: int, message: str = "") -> None:
    TaskRecord.objects.filter(pk=task_id, state=TaskRecord.State.RUNNING).update(
        percent=max(0, min(100, percent)), message=message
    )


def task_record_finish(
    *, task_id: uuid.UUID | str, message: str = "", result_links: dict[str, str] | None = None
) -> None:
    TaskRecord.objects.filter(pk=task_id).update(
        state=TaskRecord.State.SUCCEEDED,
        percent=100,
        message=message,
        result_links=result_links or {},
        finished_at=timezone.now(),
    )


def task_record_fail(*, task_id: uuid.UUID | str, reason: str) -> None:
    TaskRecord.objects.filter(pk=task_id).exclude(state=TaskRecord.State.SUCCEEDED).update(
        state=TaskRecord.State.FAILED, message=reason, finished_at=timezone.now()
    )
