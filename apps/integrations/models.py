"""What the pipeline integrations keep: which OpenLineage jobs the organization put on
the record (and as what), every OpenLineage event received, as sent, and the MLflow
tracking servers imported from, with what was imported.

The records an event leads to (training runs, prediction batches, dataset versions)
are the registry's; the ledger entries are written by the registry's services and by
``services.openlineage_event_receive``. The events kept here are the evidence of what
a pipeline said, unknown facets included, tied to the ledger by their digest."""

from __future__ import annotations

from django.db import models

from apps.integrations.openlineage import EVENT_TYPES
from audit_platform.ids import uuid_primary_key


class LineageJobMapping(models.Model):
    """The organization's decision that the runs of one OpenLineage job (namespace and
    name) are training runs of a system (and model), or prediction batches of a
    deployment. Events of a job without one are kept and put nothing on the record."""

    id = uuid_primary_key()

    organization_path = "organization"
    system_path = "system"

    class Kind(models.TextChoices):
        TRAINING_RUN = "training_run"
        PREDICTION_BATCH = "prediction_batch"

    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="+"
    )
    namespace = models.CharField(max_length=500)
    name = models.CharField(max_length=500)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    system = models.ForeignKey("registry.AISystem", on_delete=models.PROTECT, related_name="+")
    model = models.ForeignKey(
        "registry.Model", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deployment = models.ForeignKey(
        "registry.Deployment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["namespace", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "namespace", "name"], name="lineagejob_unique_job"
            )
        ]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name} → {self.kind}"


class LineageDataset(models.Model):
    """Which OpenLineage dataset (namespace and name) a registry dataset stands for."""

    id = uuid_primary_key()

    organization_path = "organization"

    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="+"
    )
    namespace = models.CharField(max_length=500)
    name = models.CharField(max_length=500)
    dataset = models.OneToOneField("registry.Dataset", on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class LineageRun(models.Model):
    """One OpenLineage run (its ``runId``) and the record it became."""

    id = uuid_primary_key()

    organization_path = "organization"

    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="+"
    )
    run_id = models.UUIDField()
    namespace = models.CharField(max_length=500)
    name = models.CharField(max_length=500)
    mapping = models.ForeignKey(
        LineageJobMapping, null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    training_run = models.ForeignKey(
        "registry.TrainingRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prediction_batch = models.ForeignKey(
        "registry.PredictionBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(
        null=True, blank=True, help_text="The eventTime of its START event."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "run_id"], name="lineagerun_unique_id")
        ]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name} run {self.run_id}"


class LineageEvent(models.Model):
    """One OpenLineage RunEvent as received (every facet kept), and what it led to.
    An event received twice (same canonical JSON) is kept once."""

    id = uuid_primary_key()

    organization_path = "organization"

    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="+"
    )
    run = models.ForeignKey(LineageRun, on_delete=models.PROTECT, related_name="events")
    event_type = models.CharField(max_length=16, choices=[(t, t) for t in EVENT_TYPES])
    event_time = models.DateTimeField()
    event_sha256 = models.CharField(max_length=64, help_text="SHA-256 of its RFC 8785 JSON.")
    body = models.JSONField()
    outcome = models.JSONField(help_text="What the answer said: records, notes, receipt.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "event_time", "received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "event_sha256"], name="lineageevent_unique_body"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} of {self.run}"


class MlflowConnection(models.Model):
    """An MLflow tracking server (or local store) whose runs and registered models go
    on the record as training runs and model versions of one AI system, and whose
    registry webhooks are accepted when signed with ``webhook_secret``."""

    id = uuid_primary_key()

    organization_path = "organization"
    system_path = "system"

    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="+"
    )
    tracking_uri = models.CharField(max_length=1000)
    system = models.ForeignKey("registry.AISystem", on_delete=models.PROTECT, related_name="+")
    # The HMAC key MLflow signs its webhooks with (MLflow needs it too, so it is kept).
    webhook_secret = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tracking_uri"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "tracking_uri"], name="mlflowconnection_unique_uri"
            )
        ]

    def __str__(self) -> str:
        return self.tracking_uri


class MlflowRecord(models.Model):
    """What was imported from an MLflow connection: a run (its training run), a model
    version, an alias (``state``: the version it names, empty once removed), or a
    webhook delivery (so a redelivery records nothing)."""

    id = uuid_primary_key()

    class Kind(models.TextChoices):
        RUN = "run"
        MODEL_VERSION = "model_version"
        ALIAS = "alias"
        DELIVERY = "delivery"

    connection = models.ForeignKey(
        MlflowConnection, on_delete=models.PROTECT, related_name="records"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=500, help_text="run id, name/version, name@alias")
    state = models.CharField(max_length=100, blank=True)
    training_run = models.ForeignKey(
        "registry.TrainingRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    model_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind", "key"], name="mlflowrecord_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"
