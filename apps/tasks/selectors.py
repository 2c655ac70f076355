"""Reads of task records: how far a piece of queued work got."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from apps.tasks.models import TaskRecord


def task_record_of_organization(*, organization: Any, task_id: Any) -> TaskRecord | None:
    """Task record ``task_id`` if it is the organization's; None otherwise, also for an
    id that is no UUID."""
    try:
        return TaskRecord.objects.filter(organization=organization, pk=task_id).first()
    except (ValueError, ValidationError):
        return None
