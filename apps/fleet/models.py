"""Online decisions logged by serving systems, before and after they are sealed into
prediction batches (docs/online-serving.md)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from audit_platform.ids import uuid_primary_key


class ServingPolicy(models.Model):
    """How an organization keeps the inputs of its online decisions: stored, or only
    their digests (the default: inputs are often personal data). Outputs are always
    kept: they are part of each decision's receipt."""

    id = uuid_primary_key()

    organization_path = "organization"

    organization = models.OneToOneField(
        "tenancy.Organization", on_delete=models.CASCADE, related_name="+"
    )
    store_inputs = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "serving policies"

    def __str__(self) -> str:
        return f"serving policy of {self.organization}"


class OnlineExchange(models.Model):
    """One logged inference (a CloudEvents request/response pair sharing an id) while
    its halves arrive, in either order; once both are here its decisions are made."""

    id = uuid_primary_key()

    organization_path = "deployment__system__organization"

    class State(models.TextChoices):
        OPEN = "open"  # one half here, the other expected
        PAIRED = "paired"  # both halves here: its decisions are logged
        UNPAIRED = "unpaired"  # one half only, past FLEET_UNPAIRED_SECONDS; never sealed
        REJECTED = "rejected"  # halves that cannot be paired (see reason)

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.PROTECT, related_name="+"
    )
    request_id = models.CharField(max_length=256)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    reason = models.TextField(blank=True)
    # The version the deployment served when the request was logged (or the response,
    # when it came first).
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="+"
    )
    request_at = models.DateTimeField(null=True, blank=True)
    response_at = models.DateTimeField(null=True, blank=True)
    input_digests = models.JSONField(null=True, blank=True)
    inputs = models.JSONField(null=True, blank=True, help_text="Only under store_inputs.")
    outputs = models.JSONField(null=True, blank=True)
    source = models.JSONField(default=dict, blank=True)
    duplicates = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "request_id"], name="onlineexchange_unique_id"
            )
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="onlineexchange_state_idx")]

    def __str__(self) -> str:
        return f"exchange {self.request_id} of {self.deployment} ({self.state})"


class OnlineDecision(models.Model):
    """One decision a serving system made and logged to us; part of a sealed
    prediction batch once ``batch`` is set. Its row in the batch is its rank by id."""

    id = uuid_primary_key()

    organization_path = "deployment__system__organization"

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.PROTECT, related_name="+"
    )
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="+"
    )
    request_id = models.CharField(max_length=256)
    # The instance's position in its request (several instances, several decisions).
    part = models.IntegerField(default=0)
    received_at = models.DateTimeField()
    input_sha256 = models.CharField(max_length=64)
    input = models.JSONField(null=True, blank=True, help_text="Only under store_inputs.")
    output = models.JSONField(null=True)
    batch = models.ForeignKey(
        "registry.PredictionBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "request_id", "part"], name="onlinedecision_unique_id"
            )
        ]
        indexes = [
            models.Index(
                fields=["deployment", "model_version", "id"],
                condition=Q(batch__isnull=True),
                name="onlinedecision_open_idx",
            ),
            models.Index(fields=["batch", "id"], name="onlinedecision_batch_idx"),
        ]

    def __str__(self) -> str:
        return f"decision {self.request_id}/{self.part} of {self.deployment}"


class Worker(models.Model):
    """A Celery worker as its last heartbeat described it: host, queues, pool, software
    and GPUs (read through NVML), or "no GPU" with the reason. Shared infrastructure:
    it belongs to no organization."""

    id = uuid_primary_key()

    name = models.CharField(max_length=200, unique=True, help_text="Celery's node name.")
    worker_class = models.CharField(max_length=64)
    host = models.CharField(max_length=200)
    pid = models.IntegerField()
    queues = models.JSONField(default=list)
    pool = models.CharField(max_length=32)
    concurrency = models.IntegerField()
    software = models.JSONField(default=dict, help_text="Package -> version.")
    gpus = models.JSONField(default=list)
    no_gpu_reason = models.TextField(blank=True)
    # SHA-256 of what can change results: each GPU's name, UUID, driver and MIG mode.
    hardware_sha256 = models.CharField(max_length=64)
    stopped_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["worker_class", "name"]

    def __str__(self) -> str:
        return self.name


class HeartbeatRejection(models.Model):
    """A heartbeat refused, with the reason: from a worker of no declared class, or
    with values no worker can have."""

    id = uuid_primary_key()

    worker_name = models.CharField(max_length=200)
    reason = models.TextField()
    report = models.JSONField(default=dict)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["at"], name="heartbeatrejection_at_idx")]

    def __str__(self) -> str:
        return f"heartbeat of {self.worker_name} refused at {self.at}"


class RoutingRefusal(models.Model):
    """A batch or explanation job refused at submission: no online worker of any class
    that takes such jobs had the free GPU memory its model version needs. Kept with
    what was needed and what each class had, so nobody wonders why nothing ran."""

    organization_path = "organization"

    id = uuid_primary_key()
    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.CASCADE, related_name="+"
    )
    model_version = models.ForeignKey(
        "registry.ModelVersion", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=32, help_text="prediction_batch or explanation.")
    needed_gpu_memory_bytes = models.BigIntegerField(null=True)
    considered = models.JSONField(
        default=list, help_text="Each class: queue, online workers, free GPU memory."
    )
    reason = models.TextField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.kind} refused at {self.at}"


class QueueWaitAlert(models.Model):
    """A queue whose oldest job waited longer than FLEET_QUEUE_WAIT_ALERT_SECONDS:
    its workers are gone, stuck or too few. Open, acknowledged, then resolved by an
    operator with a note, like monitoring's alerts; at most one unresolved per queue."""

    class Status(models.TextChoices):
        OPEN = "open"
        ACKNOWLEDGED = "acknowledged"
        RESOLVED = "resolved"

    id = uuid_primary_key()
    queue = models.CharField(max_length=64)
    worker_classes = models.JSONField(default=list, help_text="The classes consuming it.")
    threshold_seconds = models.IntegerField()
    # The oldest waiting job when raised, and the longest wait the check has seen since.
    oldest_task_id = models.CharField(max_length=64)
    waited_seconds = models.IntegerField()
    jobs_waiting = models.IntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    acknowledged_by = models.CharField(max_length=200, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=200, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    raised_at = models.DateTimeField()
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["queue"],
                condition=~Q(status="resolved"),
                name="queuewaitalert_one_unresolved",
            )
        ]

    def __str__(self) -> str:
        return f"queue {self.queue} waited {self.waited_seconds} s ({self.status})"
