"""Progress of queued work, as callers see it at ``/api/v1/tasks/{id}``."""

from __future__ import annotations

from django.db import models

from audit_platform.ids import uuid_primary_key


class TaskRecord(models.Model):
    """One unit of queued work: what it is, how far it got, and where its results are."""

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = uuid_primary_key()
    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.CASCADE, related_name="task_records"
    )
    kind = models.CharField(max_length=100)
    subject_kind = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=128, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    percent = models.PositiveSmallIntegerField(default=0)
    message = models.TextField(blank=True)
    result_links = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Where a routed job was sent and why (apps/tasks/extension_points.py): the queue-wait check
    # reads the queue; the route is shown to callers.
    queue = models.CharField(max_length=64, blank=True)
    route = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="task_org_created_idx"),
            models.Index(fields=["state", "queue", "created_at"], name="task_queue_wait_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.state})"
