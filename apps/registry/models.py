"""The lifecycle record: AI systems and the datasets, training runs, model versions,
deployments and prediction batches that hang off them (Art. 10, 11, 12, Annex IV).

Rows here are the working copy; the ledger entry written with each change is the
evidence. Fields that an entry has recorded are never edited afterwards.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from audit_platform.ids import uuid_primary_key


class Artifact(models.Model):
    """A stored file (dataset, model, batch input or output), kept once per content."""

    id = uuid_primary_key()

    organization_path = "organization"

    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="artifacts"
    )
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    file = models.FileField(upload_to="artifacts/", max_length=255)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sha256"], name="artifact_unique_content"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sha256[:12]}… ({self.size_bytes} bytes)"


class AISystem(models.Model):
    """An AI system as the Act means it: everything else hangs off one."""

    id = uuid_primary_key()

    organization_path = "organization"
    # How an API key limited to some systems finds them (audit_platform/views.py).
    system_path = "pk"

    class Role(models.TextChoices):
        PROVIDER = "provider"
        DEPLOYER = "deployer"

    class Status(models.TextChoices):
        """Where the system is in its lifecycle; changed only along
        ``STATUS_TRANSITIONS``, with a reason, on the ledger."""

        DEVELOPMENT = "development", "in development"
        VALIDATION = "validation", "in validation"
        IN_SERVICE = "in_service", "in service"
        WITHDRAWN = "withdrawn", "withdrawn"
        RETIRED = "retired", "retired"

    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="ai_systems"
    )
    name = models.CharField(max_length=200)
    intended_purpose = models.TextField()
    role = models.CharField(max_length=16, choices=Role.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DEVELOPMENT)
    # Annex V 2: the provider as the declaration of conformity names it. Blank name:
    # the organization's name.
    provider_name = models.CharField(max_length=300, blank=True)
    provider_address = models.TextField(blank=True)
    # Annex V 5: the statement that the system complies with the data-protection law
    # (Regulations (EU) 2016/679, 2018/1725, Directive (EU) 2016/680).
    data_protection_statement = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "AI system"
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="aisystem_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    """A named body of data used by a system; its content lives in versions."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    system = models.ForeignKey(AISystem, on_delete=models.PROTECT, related_name="datasets")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["system", "name"], name="dataset_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class DatasetVersion(models.Model):
    """One exact content of a dataset, with its Art. 10(2) datasheet.

    A version seen in lineage (an OpenLineage event names it as a run's input or
    output) is recorded as it was reported: its digest, size and row count where the
    event gave them (empty otherwise), no datasheet, split unspecified."""

    id = uuid_primary_key()

    organization_path = "dataset__system__organization"

    class Split(models.TextChoices):
        TRAIN = "train"
        VALIDATION = "validation"
        TEST = "test"
        REFERENCE = "reference"
        PRODUCTION = "production"
        UNSPECIFIED = "unspecified"  # seen in lineage, which does not say

    class Source(models.TextChoices):
        REGISTERED = "registered"  # registered with its datasheet
        OPENLINEAGE = "openlineage"  # seen in an OpenLineage event

    class StatisticsState(models.TextChoices):
        NOT_AVAILABLE = "not_available"  # no uploaded file to compute from
        PENDING = "pending"
        COMPUTED = "computed"
        FAILED = "failed"

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=100)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.REGISTERED)
    # Blank, and size and rows null, only for a version seen in lineage without them.
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    row_count = models.BigIntegerField(null=True, blank=True)
    schema = models.JSONField(help_text='[{"name": column, "type": type}, ...]')
    uri = models.CharField(max_length=1000, blank=True)
    artifact = models.ForeignKey(
        Artifact, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    split = models.CharField(max_length=16, choices=Split.choices)
    datasheet = models.JSONField(help_text="Art. 10(2) datasheet; see docs/events.md.")
    # Null: not known (a version seen in lineage, whose events do not say).
    contains_personal_data = models.BooleanField(null=True)
    contains_special_category_data = models.BooleanField(null=True)
    statistics = models.JSONField(null=True, blank=True)
    statistics_state = models.CharField(
        max_length=16, choices=StatisticsState.choices, default=StatisticsState.NOT_AVAILABLE
    )
    statistics_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "version"], name="datasetversion_unique_label"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dataset}@{self.version}"


class Model(models.Model):
    """A model of a system; its trained artifacts are model versions."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    system = models.ForeignKey(AISystem, on_delete=models.PROTECT, related_name="models")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["system", "name"], name="model_unique_name")]

    def __str__(self) -> str:
        return self.name


class TrainingRun(models.Model):
    """One training run: started, then completed, failed or abandoned."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    class Status(models.TextChoices):
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        ABANDONED = "abandoned"

    system = models.ForeignKey(AISystem, on_delete=models.PROTECT, related_name="training_runs")
    model = models.ForeignKey(
        Model, null=True, blank=True, on_delete=models.PROTECT, related_name="training_runs"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    dataset_versions = models.ManyToManyField(
        DatasetVersion, blank=True, related_name="training_runs"
    )
    code_revision = models.CharField(max_length=200, blank=True)
    environment = models.JSONField(
        default=dict, blank=True, help_text="Python and package versions."
    )
    hardware = models.JSONField(
        default=dict, blank=True, help_text="CPU, GPU name and UUID, driver."
    )
    energy_joules = models.FloatField(null=True, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class ModelSigner(models.Model):
    """A signer the organization trusts for OpenSSF Model Signing (OMS) signatures: an
    elliptic-curve public key, or the certificate chain of a CA that issues signing
    certificates (root last or alone). Signatures are verified offline against these;
    nothing is fetched from Sigstore. A revoked signer (a leaked key, a retired CA)
    verifies nothing new, and what it signed no longer passes the deployment gate."""

    id = uuid_primary_key()

    organization_path = "organization"

    class Kind(models.TextChoices):
        KEY = "key"
        CERTIFICATE = "certificate"

    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="model_signers"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    pem = models.TextField(help_text="The public key, or the CA's certificate chain, in PEM.")
    fingerprint_sha256 = models.CharField(
        max_length=64, help_text="SHA-256 of the key's DER (SPKI), or of the first certificate's."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(
        null=True, blank=True, help_text="When the organization stopped trusting this signer."
    )
    revocation_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="modelsigner_unique_name"
            ),
            models.UniqueConstraint(
                fields=["organization", "fingerprint_sha256"], name="modelsigner_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class ModelVersion(models.Model):
    """A trained model artifact, identified by its digest and format; with the outcome
    of checking its OMS signature where one was supplied."""

    id = uuid_primary_key()

    organization_path = "model__system__organization"

    class Format(models.TextChoices):
        XGBOOST_UBJ = "xgboost-ubj"
        XGBOOST_JSON = "xgboost-json"
        LIGHTGBM_TXT = "lightgbm-txt"
        ONNX = "onnx"
        SKLEARN_SKOPS = "sklearn-skops"

    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=100)
    artifact_sha256 = models.CharField(max_length=64)
    artifact_format = models.CharField(max_length=16, choices=Format.choices)
    artifact = models.ForeignKey(
        Artifact, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uri = models.CharField(max_length=1000, blank=True)
    framework = models.CharField(max_length=100)
    framework_version = models.CharField(max_length=50)
    training_run = models.ForeignKey(
        TrainingRun, null=True, blank=True, on_delete=models.PROTECT, related_name="model_versions"
    )
    metrics = models.JSONField(default=dict, blank=True)
    dataset_versions = models.ManyToManyField(
        DatasetVersion, blank=True, related_name="model_versions"
    )

    class SignatureState(models.TextChoices):
        UNSIGNED = "unsigned"
        VERIFIED = "verified"
        FAILED = "failed"

    signature_state = models.CharField(
        max_length=16, choices=SignatureState.choices, default=SignatureState.UNSIGNED
    )
    signature = models.JSONField(
        null=True, blank=True, help_text="The OMS signature (a Sigstore bundle) as supplied."
    )
    signature_sha256 = models.CharField(max_length=64, blank=True)
    signed_by = models.ForeignKey(
        ModelSigner, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signature_certificate = models.JSONField(
        default=dict, blank=True, help_text="The signing certificate's subject and digest."
    )
    signature_reason = models.TextField(blank=True, help_text="Why verification failed.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="modelversion_unique_label")
        ]

    def __str__(self) -> str:
        return f"{self.model}@{self.version}"


class Deployment(models.Model):
    """One environment (e.g. production) of one system, serving one model version."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    class Status(models.TextChoices):
        PENDING = "pending"  # created, nothing served yet
        ACTIVE = "active"
        STOPPED = "stopped"  # stopped by a person (Art. 14(4)(e)); serves nothing

    system = models.ForeignKey(AISystem, on_delete=models.PROTECT, related_name="deployments")
    environment = models.CharField(max_length=100)
    resources = models.JSONField(default=dict, blank=True, help_text="cpu, memory, gpu requested.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["system", "environment"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "environment"], name="deployment_unique_environment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system}/{self.environment}"


class DeploymentEvent(models.Model):
    """A change of what a deployment serves, effective from ``at`` (its ledger time)."""

    id = uuid_primary_key()

    class Kind(models.TextChoices):
        ACTIVATED = "activated"
        ROLLED_BACK = "rolled_back"
        STOPPED = "stopped"  # model_version: the version that stopped serving

    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    # The version that served until this event (what it replaced), null when nothing
    # served; for a stop, the version that stopped.
    previous_model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Where a rollback after this event returns to.
    rollback_target = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    at = models.DateTimeField()
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["deployment", "ledger_seq"]
        indexes = [models.Index(fields=["deployment", "at"], name="deploymentevent_at_idx")]

    def __str__(self) -> str:
        return f"{self.deployment} {self.kind} {self.model_version} at {self.at}"


class PredictionBatch(models.Model):
    """A batch of decisions made by a deployment: what went in, what came out."""

    id = uuid_primary_key()

    organization_path = "deployment__system__organization"

    class Status(models.TextChoices):
        RECORDED = "recorded"  # run elsewhere and put on the record by a pipeline
        QUEUED = "queued"  # waiting for one of our workers
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"

    deployment = models.ForeignKey(
        Deployment, on_delete=models.PROTECT, related_name="prediction_batches"
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="prediction_batches"
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    input_sha256 = models.CharField(max_length=64, blank=True)
    output_sha256 = models.CharField(max_length=64, blank=True)
    row_count = models.BigIntegerField(null=True, blank=True)
    rows_root = models.CharField(max_length=64, blank=True)
    input_artifact = models.ForeignKey(
        Artifact, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    output_artifact = models.ForeignKey(
        Artifact, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    files_verified_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    ran_on = models.JSONField(default=dict, blank=True, help_text="Where it ran: host, device.")
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set for batches our workers run (requested, not recorded).
    task = models.ForeignKey(
        "tasks.TaskRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rows_artifact = models.ForeignKey(
        Artifact,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Parquet of the spec §6 leaf bytes, one per row, for row receipts.",
    )
    telemetry = models.JSONField(
        default=dict, blank=True, help_text="Device, driver, peak memory, utilisation, energy."
    )
    energy_joules = models.FloatField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ledger_seq = models.BigIntegerField(
        null=True, blank=True, help_text="Seq of the entry that recorded the outcome."
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "prediction batches"

    def __str__(self) -> str:
        return f"batch {self.pk} of {self.deployment} ({self.status})"
