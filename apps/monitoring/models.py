"""Post-market monitoring (Art. 72): what is watched on a deployment and what was found.

A policy says what to compare production data with and what to do on decay; drift
and performance reports are what each batch or time window showed; alerts are what a
person must look at; deliveries are the notifications sent about them, with every
attempt; retraining triggers are the requests handed to a training pipeline and the
runs that answered them. Each change is on the ledger; these rows are the working copy.
"""

from __future__ import annotations

from django.db import models

from audit_platform.ids import uuid_primary_key


class MonitoringPolicy(models.Model):
    """What is watched on one deployment, against which reference, and what happens
    when it decays. One policy per deployment; changes are new revisions on the ledger."""

    id = uuid_primary_key()

    organization_path = "deployment__system__organization"

    class OnDecay(models.TextChoices):
        RETRAIN = "retrain"
        REVIEW = "review"
        STOP = "stop"

    class Task(models.TextChoices):
        BINARY = "binary_classification"
        OTHER = "other"

    deployment = models.OneToOneField(
        "registry.Deployment", on_delete=models.PROTECT, related_name="monitoring_policy"
    )
    reference_dataset_version = models.ForeignKey(
        "registry.DatasetVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reference_batch = models.ForeignKey(
        "registry.PredictionBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    features = models.JSONField(default=list, blank=True, help_text="Watched columns; [] = all.")
    tests = models.JSONField(default=dict, blank=True, help_text="feature -> test name.")
    thresholds = models.JSONField(default=dict, blank=True, help_text="feature -> threshold.")
    drift_share = models.FloatField(default=0.5)
    task = models.CharField(max_length=32, choices=Task.choices, default=Task.BINARY)
    score_column = models.CharField(max_length=200, blank=True)
    decision_threshold = models.FloatField(default=0.5)
    performance_metric = models.CharField(max_length=32, default="accuracy")
    performance_drop = models.FloatField(default=0.05)
    label_delay_hours = models.PositiveIntegerField(default=0)
    window_hours = models.PositiveIntegerField(default=0, help_text="0: no scheduled windows.")
    email_recipients = models.JSONField(default=list, blank=True)
    webhook_urls = models.JSONField(default=list, blank=True)
    webhook_secret = models.CharField(max_length=128)
    on_decay = models.CharField(max_length=16, choices=OnDecay.choices, default=OnDecay.REVIEW)
    pipeline_url = models.CharField(max_length=1000, blank=True)
    dispatch_event_type = models.CharField(max_length=100, default="retrain-model")
    trigger_deadline_hours = models.PositiveIntegerField(default=72)
    auto_activate = models.BooleanField(default=False)
    activation_thresholds = models.JSONField(default=dict, blank=True)
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ledger_seq = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "monitoring policies"
        ordering = ["deployment"]

    def __str__(self) -> str:
        return f"monitoring of {self.deployment}"


class DriftReport(models.Model):
    """Drift of the watched features of one batch, or of one time window, against the
    policy's reference. ``window_key`` makes a window's report unique: re-running it
    writes no second one."""

    id = uuid_primary_key()

    organization_path = "policy__deployment__system__organization"

    class Status(models.TextChoices):
        COMPLETED = "completed"
        FAILED = "failed"

    policy = models.ForeignKey(MonitoringPolicy, on_delete=models.PROTECT, related_name="drift")
    batch = models.ForeignKey(
        "registry.PredictionBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    window_key = models.CharField(max_length=100)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    failure_reason = models.TextField(blank=True)
    rows = models.BigIntegerField(default=0)
    reference_rows = models.BigIntegerField(default=0)
    dataset_drifted = models.BooleanField(default=False)
    drifted_features = models.PositiveIntegerField(default=0)
    tested_features = models.PositiveIntegerField(default=0)
    share = models.FloatField(default=0.0)
    features = models.JSONField(default=list, blank=True, help_text="Per-feature figures.")
    approximation = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "window_key"], name="drift_once_per_window")
        ]

    def __str__(self) -> str:
        return f"drift {self.window_key} ({self.status})"


class PerformanceReport(models.Model):
    """A batch's performance: estimated from scores before labels (CBPE), realized
    once labels land, against the model version's declared figure."""

    id = uuid_primary_key()

    organization_path = "policy__deployment__system__organization"

    class Kind(models.TextChoices):
        ESTIMATED = "estimated"
        REALIZED = "realized"

    policy = models.ForeignKey(
        MonitoringPolicy, on_delete=models.PROTECT, related_name="performance"
    )
    batch = models.ForeignKey(
        "registry.PredictionBatch", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    metric = models.CharField(max_length=32)
    value = models.FloatField()
    lower = models.FloatField(null=True, blank=True)
    upper = models.FloatField(null=True, blank=True)
    rows = models.BigIntegerField()
    declared = models.FloatField(null=True, blank=True)
    labels_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "kind"], name="performance_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.metric} of batch {self.batch_id}: {self.value:.4f}"


class Alert(models.Model):
    """Something a person must look at: drift, a performance drop, an unanswered
    trigger. Acknowledged, then resolved, by a person with a note."""

    id = uuid_primary_key()

    organization_path = "policy__deployment__system__organization"

    class Kind(models.TextChoices):
        DRIFT = "drift"
        PERFORMANCE = "performance"
        TRIGGER_OVERDUE = "trigger_overdue"

    class Severity(models.TextChoices):
        INFO = "info"
        WARNING = "warning"
        CRITICAL = "critical"

    class Status(models.TextChoices):
        OPEN = "open"
        ACKNOWLEDGED = "acknowledged"
        RESOLVED = "resolved"

    policy = models.ForeignKey(MonitoringPolicy, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    cause = models.TextField()
    figures = models.JSONField(default=dict)
    links = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    acknowledged_by = models.CharField(max_length=200, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=200, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.severity} {self.kind} alert {self.pk} ({self.status})"


class RetrainingTrigger(models.Model):
    """A request, made by a decay alert, that the pipeline retrain (or review, or
    stop); answered by the training run registered with ``trigger=<id>``."""

    id = uuid_primary_key()

    organization_path = "policy__deployment__system__organization"

    class Status(models.TextChoices):
        OPEN = "open"
        ANSWERED = "answered"
        ESCALATED = "escalated"

    policy = models.ForeignKey(MonitoringPolicy, on_delete=models.PROTECT, related_name="triggers")
    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="triggers")
    action = models.CharField(max_length=16, choices=MonitoringPolicy.OnDecay.choices)
    model_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    deadline = models.DateTimeField()
    training_run = models.ForeignKey(
        "registry.TrainingRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    activated_model_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"trigger {self.pk} ({self.action}, {self.status})"


class Delivery(models.Model):
    """One notification (an e-mail or a webhook POST) about an alert or a trigger,
    sent by a job and retried with backoff; its attempts are listed below it."""

    id = uuid_primary_key()

    organization_path = "policy__deployment__system__organization"

    class Channel(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook"
        PIPELINE = "pipeline"  # a retraining trigger's webhook to the training pipeline

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DELIVERED = "delivered"
        FAILED = "failed"

    policy = models.ForeignKey(
        MonitoringPolicy, on_delete=models.PROTECT, related_name="deliveries"
    )
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    trigger = models.ForeignKey(
        RetrainingTrigger,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    target = models.CharField(max_length=1000)
    event = models.CharField(max_length=64)
    body = models.TextField(help_text="The exact bytes sent (UTF-8 JSON), signed as they are.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.TextField(blank=True)
    task = models.ForeignKey(
        "tasks.TaskRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.channel} to {self.target} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try at a delivery: when, the answer (HTTP status) or the error, how long."""

    id = uuid_primary_key()

    organization_path = "delivery__policy__deployment__system__organization"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    ok = models.BooleanField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    latency_ms = models.FloatField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_unique_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"
