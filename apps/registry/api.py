"""Pipeline hooks: ``/api/v1/`` endpoints of the registry. Views validate, call one
service, and answer with the record and its ledger receipt."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.registry import selectors, services
from apps.registry.api_schema import (
    DatasetSchemaField,
    DatasheetField,
    EnvironmentField,
    HardwareField,
    MetricsField,
    ParamsField,
    RanOnField,
    ResourcesField,
    SignatureField,
)
from apps.registry.artifacts import artifact_store
from apps.registry.lifecycle import STATUS_TRANSITIONS
from apps.registry.models import (
    AISystem,
    Artifact,
    Dataset,
    DatasetVersion,
    Deployment,
    DeploymentEvent,
    Model,
    ModelSigner,
    ModelVersion,
    PredictionBatch,
    TrainingRun,
)
from audit_platform.api import StrictSerializer
from audit_platform.errors import InvalidInput, NotFound
from audit_platform.roles import Capability
from audit_platform.views import (
    RecordDetailView,
    RecordListView,
    RecordView,
    ScopedPrimaryKey,
    receipt_response,
    validated,
)

# --- Artifacts ------------------------------------------------------------------------


class ArtifactOut(serializers.ModelSerializer):
    class Meta:
        model = Artifact
        fields = ["id", "sha256", "size_bytes", "original_name", "content_type", "created_at"]


class ArtifactDuplicateOut(ArtifactOut):
    duplicate = serializers.BooleanField(
        help_text="Always true: this file was uploaded before, and nothing was recorded."
    )

    class Meta(ArtifactOut.Meta):
        fields = [*ArtifactOut.Meta.fields, "duplicate"]


class ArtifactIn(StrictSerializer):
    file = serializers.FileField()
    sha256 = serializers.RegexField(r"^[0-9a-f]{64}$", required=False)


class ArtifactListCreateView(RecordListView):
    model, out, serializer_class = Artifact, ArtifactOut, ArtifactOut
    parser_classes = [MultiPartParser]
    filters = {"sha256": "sha256"}
    unrecorded_statuses = (200,)  # a file uploaded before: its first record stands

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Uploads are spooled to disk and hashed as they arrive (FILE_UPLOAD_HANDLERS);
        # one that announces more than the limit is refused before a byte is read.
        super().initial(request, *args, **kwargs)
        if request.method == "POST":
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
            if declared > settings.ARTIFACT_MAX_BYTES + 64 * 1024:
                raise InvalidInput(
                    f"The upload is {declared} bytes; the limit is {settings.ARTIFACT_MAX_BYTES} "
                    "bytes (ARTIFACT_MAX_BYTES).",
                    fields={"file": ["Too large."]},
                )

    @extend_schema(
        request={"multipart/form-data": ArtifactIn},
        responses={201: ArtifactOut, 200: ArtifactDuplicateOut},
    )
    def post(self, request: Request) -> Response:
        data = request.data  # parses the body; the handler may stop an oversize one
        if getattr(request._request, "artifact_too_large", False):
            raise InvalidInput(
                f"The file is larger than the limit of {settings.ARTIFACT_MAX_BYTES} bytes "
                "(ARTIFACT_MAX_BYTES).",
                fields={"file": ["Too large."]},
            )
        incoming = ArtifactIn(data=data)
        incoming.is_valid(raise_exception=True)
        artifact, receipt = artifact_store(
            organization=self.principal.organization,
            uploaded=incoming.validated_data["file"],
            declared_sha256=incoming.validated_data.get("sha256"),
            actor=self.principal,
        )
        if receipt is None:
            return Response(
                {**ArtifactOut(artifact).data, "ledger": None, "duplicate": True}, status=200
            )
        return receipt_response(ArtifactOut(artifact).data, receipt)


class ArtifactContentView(RecordView):
    """The bytes of a stored file, by SHA-256 (the digest a dataset or model version
    records), checked against that digest before a byte goes out; the answer's
    ``Digest-SHA256`` header repeats it so the receiver checks it again."""

    model, serializer_class = Artifact, ArtifactOut

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, sha256: str) -> FileResponse:
        artifact = self.in_scope(Artifact).filter(sha256=sha256).first()
        if artifact is None:
            raise NotFound(
                f"No file with SHA-256 {sha256} is stored here: the version that records this "
                "digest was registered without uploading its bytes (see its uri)."
            )
        stream = services.artifact_open_checked(artifact=artifact, used_by={"download": sha256})
        response = FileResponse(
            stream,
            content_type=artifact.content_type or "application/octet-stream",
            as_attachment=True,
            filename=artifact.original_name or sha256,
        )
        response["Digest-SHA256"] = artifact.sha256
        return response


# --- AI systems ------------------------------------------------------------------------


class AISystemOut(serializers.ModelSerializer):
    owner_email = serializers.EmailField(source="owner.email", default=None)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    status_allowed = serializers.SerializerMethodField(
        help_text="The statuses it may move to next (apps/registry/lifecycle.py)."
    )

    class Meta:
        model = AISystem
        fields = [
            "id",
            "name",
            "intended_purpose",
            "role",
            "status",
            "status_label",
            "status_allowed",
            "owner_email",
            "provider_name",
            "provider_address",
            "data_protection_statement",
            "created_at",
        ]

    def get_status_allowed(self, system: AISystem) -> list[str]:
        return sorted(STATUS_TRANSITIONS.get(system.status, ()))


class AISystemIn(StrictSerializer):
    name = serializers.CharField(max_length=200)
    intended_purpose = serializers.CharField()
    role = serializers.ChoiceField(choices=AISystem.Role.choices)
    owner_email = serializers.EmailField(required=False)


class AISystemListCreateView(RecordListView):
    model, out, serializer_class = AISystem, AISystemOut, AISystemOut
    filters = {"status": "status", "role": "role"}

    @extend_schema(request=AISystemIn, responses={201: AISystemOut})
    def post(self, request: Request) -> Response:
        system, receipt = services.ai_system_register(
            actor=self.principal, **validated(AISystemIn, request)
        )
        return receipt_response(AISystemOut(system).data, receipt)


class AISystemDetailView(RecordDetailView):
    model, out, serializer_class = AISystem, AISystemOut, AISystemOut


class StatusIn(StrictSerializer):
    status = serializers.ChoiceField(choices=AISystem.Status.choices)
    reason = serializers.CharField()


class AISystemStatusView(RecordView):
    """POST ``systems/{id}/status``: moves the system along its lifecycle, with a reason."""

    model, serializer_class = AISystem, AISystemOut

    @extend_schema(request=StatusIn, responses=AISystemOut)
    def post(self, request: Request, pk: int) -> Response:
        system, receipt = services.ai_system_status_change(
            actor=self.principal,
            system=self.scoped_get(AISystem, pk),
            **validated(StatusIn, request),
        )
        return receipt_response(AISystemOut(system).data, receipt, status_code=200)


class ProviderIn(StrictSerializer):
    provider_name = serializers.CharField(max_length=300)
    provider_address = serializers.CharField()
    data_protection_statement = serializers.CharField(required=False, default="")


class AISystemProviderView(RecordView):
    """POST ``systems/{id}/provider``: the provider's name and address and the
    data-protection statement its declaration of conformity states (Annex V 2, 5)."""

    model, serializer_class = AISystem, AISystemOut
    # What a declaration of conformity states in the provider's name: compliance only.
    write_capability = Capability.COMPLY

    @extend_schema(request=ProviderIn, responses=AISystemOut)
    def post(self, request: Request, pk: int) -> Response:
        system, receipt = services.ai_system_provider_record(
            actor=self.principal,
            system=self.scoped_get(AISystem, pk),
            **validated(ProviderIn, request),
        )
        return receipt_response(AISystemOut(system).data, receipt, status_code=200)


# --- Datasets ----------------------------------------------------------------------------


class DatasetOut(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = ["id", "system", "name", "description", "created_at"]


class DatasetIn(StrictSerializer):
    system_id = ScopedPrimaryKey(AISystem)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, default="", allow_blank=True)


class DatasetListCreateView(RecordListView):
    model, out, serializer_class = Dataset, DatasetOut, DatasetOut
    filters = {"system": "system_id"}

    @extend_schema(request=DatasetIn, responses={201: DatasetOut})
    def post(self, request: Request) -> Response:
        data = validated(DatasetIn, request)
        dataset, receipt = services.dataset_create(
            actor=self.principal, system=data.pop("system_id"), **data
        )
        return receipt_response(DatasetOut(dataset).data, receipt)


class DatasetDetailView(RecordDetailView):
    model, out, serializer_class = Dataset, DatasetOut, DatasetOut


class DatasetVersionOut(serializers.ModelSerializer):
    class Meta:
        model = DatasetVersion
        fields = [
            "id",
            "dataset",
            "version",
            "source",
            "sha256",
            "size_bytes",
            "row_count",
            "schema",
            "uri",
            "split",
            "datasheet",
            "contains_personal_data",
            "contains_special_category_data",
            "statistics_state",
            "statistics_message",
            "statistics",
            "created_at",
        ]


class DatasetVersionIn(StrictSerializer):
    version = serializers.CharField(max_length=100)
    sha256 = serializers.CharField()
    size_bytes = serializers.IntegerField(min_value=0)
    row_count = serializers.IntegerField(min_value=0)
    schema = DatasetSchemaField()
    # "unspecified" is for versions seen in lineage; a registration names its split.
    split = serializers.ChoiceField(
        choices=[
            c for c in DatasetVersion.Split.choices if c[0] != DatasetVersion.Split.UNSPECIFIED
        ]
    )
    datasheet = DatasheetField()
    contains_personal_data = serializers.BooleanField()
    contains_special_category_data = serializers.BooleanField()
    uri = serializers.CharField(max_length=1000, required=False, default="")
    artifact_sha256 = serializers.CharField(required=False)


class DatasetVersionListCreateView(RecordListView):
    model, out, serializer_class = DatasetVersion, DatasetVersionOut, DatasetVersionOut

    def get_queryset(self) -> QuerySet[Any]:
        dataset = self.scoped_get(Dataset, self.kwargs["dataset_pk"])
        return super().get_queryset().filter(dataset=dataset)

    @extend_schema(request=DatasetVersionIn, responses={201: DatasetVersionOut})
    def post(self, request: Request, dataset_pk: int) -> Response:
        dataset = self.scoped_get(Dataset, dataset_pk)
        version, receipt = services.dataset_version_register(
            actor=self.principal, dataset=dataset, **validated(DatasetVersionIn, request)
        )
        return receipt_response(DatasetVersionOut(version).data, receipt)


class DatasetVersionDetailView(RecordDetailView):
    model, out, serializer_class = DatasetVersion, DatasetVersionOut, DatasetVersionOut

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().filter(dataset_id=self.kwargs["dataset_pk"])


# --- Models -----------------------------------------------------------------------------


class ModelOut(serializers.ModelSerializer):
    class Meta:
        model = Model
        fields = ["id", "system", "name", "description", "created_at"]


class ModelIn(StrictSerializer):
    system_id = ScopedPrimaryKey(AISystem)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, default="", allow_blank=True)


class ModelListCreateView(RecordListView):
    model, out, serializer_class = Model, ModelOut, ModelOut
    filters = {"system": "system_id"}

    @extend_schema(request=ModelIn, responses={201: ModelOut})
    def post(self, request: Request) -> Response:
        data = validated(ModelIn, request)
        model, receipt = services.model_create(
            actor=self.principal, system=data.pop("system_id"), **data
        )
        return receipt_response(ModelOut(model).data, receipt)


class ModelDetailView(RecordDetailView):
    model, out, serializer_class = Model, ModelOut, ModelOut


class ModelVersionOut(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "model",
            "version",
            "artifact_sha256",
            "artifact_format",
            "uri",
            "framework",
            "framework_version",
            "training_run",
            "metrics",
            "dataset_versions",
            "signature_state",
            "signed_by",
            "signature_reason",
            "created_at",
        ]


class ModelVersionIn(StrictSerializer):
    version = serializers.CharField(max_length=100)
    artifact_sha256 = serializers.CharField()
    artifact_format = serializers.ChoiceField(choices=ModelVersion.Format.choices)
    framework = serializers.CharField(max_length=100)
    framework_version = serializers.CharField(max_length=50)
    training_run_id = ScopedPrimaryKey(TrainingRun, required=False, allow_null=True, default=None)
    metrics = MetricsField(required=False, default=dict)
    dataset_version_ids = ScopedPrimaryKey(DatasetVersion, many=True, required=False, default=list)
    uri = serializers.CharField(max_length=1000, required=False, default="")
    uploaded = serializers.BooleanField(
        required=False, default=False, help_text="The artifact was uploaded to /api/v1/artifacts/."
    )
    signature = SignatureField(
        required=False,
        default=None,
        allow_null=True,
        help_text="An OpenSSF Model Signing signature of the uploaded artifact: the JSON "
        "that `model_signing sign key` or `... certificate` writes (a Sigstore bundle). "
        "Verified offline against /api/v1/model-signers/; the outcome is recorded.",
    )


class ModelVersionListCreateView(RecordListView):
    model, out, serializer_class = ModelVersion, ModelVersionOut, ModelVersionOut

    def get_queryset(self) -> QuerySet[Any]:
        model = self.scoped_get(Model, self.kwargs["model_pk"])
        return super().get_queryset().filter(model=model)

    @extend_schema(request=ModelVersionIn, responses={201: ModelVersionOut})
    def post(self, request: Request, model_pk: int) -> Response:
        model = self.scoped_get(Model, model_pk)
        data = validated(ModelVersionIn, request)
        version, receipt = services.model_version_register(
            actor=self.principal,
            model=model,
            training_run=data.pop("training_run_id"),
            dataset_versions=data.pop("dataset_version_ids"),
            **data,
        )
        return receipt_response(ModelVersionOut(version).data, receipt)


class ModelVersionDetailView(RecordDetailView):
    model, out, serializer_class = ModelVersion, ModelVersionOut, ModelVersionOut

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().filter(model_id=self.kwargs["model_pk"])


class ModelSignerOut(serializers.ModelSerializer):
    class Meta:
        model = ModelSigner
        fields = [
            "id",
            "name",
            "kind",
            "fingerprint_sha256",
            "pem",
            "created_at",
            "revoked_at",
            "revocation_reason",
        ]


class ModelSignerIn(StrictSerializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=ModelSigner.Kind.choices)
    pem = serializers.CharField(
        max_length=65536,
        help_text="key: the signer's elliptic-curve public key; certificate: the chain of "
        "the CA that issues signing certificates, in PEM.",
    )


class ModelSignerListCreateView(RecordListView):
    """Signers whose OpenSSF Model Signing signatures the organization accepts. Added
    by an owner signed in."""

    model, out, serializer_class = ModelSigner, ModelSignerOut, ModelSignerOut
    write_capability = Capability.ADMINISTER

    @extend_schema(request=ModelSignerIn, responses={201: ModelSignerOut})
    def post(self, request: Request) -> Response:
        signer, receipt = services.model_signer_trust(
            actor=self.principal, **validated(ModelSignerIn, request)
        )
        return receipt_response(ModelSignerOut(signer).data, receipt)


# --- Training runs ------------------------------------------------------------------------


class ReasonIn(StrictSerializer):
    reason = serializers.CharField()


class ModelSignerRevokeView(RecordView):
    """Stops trusting a signer, with the reason: what it signed no longer passes the
    deployment gate under ``require_model_signature``. By an owner signed in."""

    model, serializer_class = ModelSigner, ModelSignerOut
    write_capability = Capability.ADMINISTER

    @extend_schema(request=ReasonIn, responses=ModelSignerOut)
    def post(self, request: Request, pk: int) -> Response:
        signer, receipt = services.model_signer_revoke(
            actor=self.principal,
            signer=self.scoped_get(ModelSigner, pk),
            **validated(ReasonIn, request),
        )
        return receipt_response(ModelSignerOut(signer).data, receipt, status_code=200)


class TrainingRunOut(serializers.ModelSerializer):
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "system",
            "model",
            "status",
            "params",
            "metrics",
            "dataset_versions",
            "code_revision",
            "environment",
            "hardware",
            "energy_joules",
            "started_at",
            "finished_at",
            "duration_seconds",
            "failure_reason",
        ]


class TrainingRunIn(StrictSerializer):
    system_id = ScopedPrimaryKey(AISystem)
    model_id = ScopedPrimaryKey(Model, required=False, allow_null=True, default=None)
    params = ParamsField(required=False, default=dict)
    dataset_version_ids = ScopedPrimaryKey(DatasetVersion, many=True, required=False, default=list)
    code_revision = serializers.CharField(max_length=200, required=False, default="")
    environment = EnvironmentField(required=False, default=dict)
    hardware = HardwareField(required=False, default=dict)
    trigger = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The retraining trigger (/api/v1/monitoring/triggers/) this run answers.",
    )


class TrainingRunCompleteIn(StrictSerializer):
    metrics = MetricsField()
    energy_joules = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=0
    )
    hardware = HardwareField(required=False, default=None)


class TrainingRunListCreateView(RecordListView):
    model, out, serializer_class = TrainingRun, TrainingRunOut, TrainingRunOut
    filters = {"system": "system_id", "status": "status"}

    @extend_schema(request=TrainingRunIn, responses={201: TrainingRunOut})
    def post(self, request: Request) -> Response:
        data = validated(TrainingRunIn, request)
        run, receipt = services.training_run_start(
            actor=self.principal,
            system=data.pop("system_id"),
            model=data.pop("model_id"),
            dataset_versions=data.pop("dataset_version_ids"),
            **data,
        )
        return receipt_response(TrainingRunOut(run).data, receipt)


class TrainingRunDetailView(RecordDetailView):
    model, out, serializer_class = TrainingRun, TrainingRunOut, TrainingRunOut


class TrainingRunActionView(RecordView):
    model, serializer_class = TrainingRun, TrainingRunOut
    action: str

    def post(self, request: Request, pk: int) -> Response:
        run = self.scoped_get(TrainingRun, pk)
        if self.action == "complete":
            run, receipt = services.training_run_complete(
                actor=self.principal, run=run, **validated(TrainingRunCompleteIn, request)
            )
        elif self.action == "fail":
            run, receipt = services.training_run_fail(
                actor=self.principal, run=run, **validated(ReasonIn, request)
            )
        else:
            run, receipt = services.training_run_abandon(
                actor=self.principal, run=run, **validated(ReasonIn, request)
            )
        return receipt_response(TrainingRunOut(run).data, receipt, status_code=200)


@extend_schema(request=TrainingRunCompleteIn, responses=TrainingRunOut)
class TrainingRunCompleteView(TrainingRunActionView):
    action = "complete"


@extend_schema(request=ReasonIn, responses=TrainingRunOut)
class TrainingRunFailView(TrainingRunActionView):
    action = "fail"


@extend_schema(request=ReasonIn, responses=TrainingRunOut)
class TrainingRunAbandonView(TrainingRunActionView):
    action = "abandon"


# --- Deployments ------------------------------------------------------------------------


class DeploymentOut(serializers.ModelSerializer):
    class Meta:
        model = Deployment
        fields = [
            "id",
            "system",
            "environment",
            "resources",
            "status",
            "model_version",
            "created_at",
        ]


class DeploymentIn(StrictSerializer):
    system_id = ScopedPrimaryKey(AISystem)
    environment = serializers.SlugField(max_length=100)
    resources = ResourcesField(required=False, default=dict)


class DeploymentEventOut(serializers.ModelSerializer):
    class Meta:
        model = DeploymentEvent
        fields = [
            "kind",
            "model_version",
            "previous_model_version",
            "rollback_target",
            "reason",
            "at",
            "ledger_seq",
        ]
        extra_kwargs = {
            "previous_model_version": {
                "help_text": "The version that served until this event (for a stop, the "
                "version that stopped); null when nothing served."
            },
            "rollback_target": {"help_text": "Where a rollback after this event returns to."},
        }


class ActivateIn(StrictSerializer):
    model_version_id = ScopedPrimaryKey(ModelVersion)
    reason = serializers.CharField(required=False, default="", allow_blank=True)


class ServedAtParams(serializers.Serializer):
    at = serializers.DateTimeField()


class ServedAtOut(serializers.Serializer):
    at = serializers.DateTimeField()
    model_version = ModelVersionOut(allow_null=True)


class DeploymentListCreateView(RecordListView):
    model, out, serializer_class = Deployment, DeploymentOut, DeploymentOut
    filters = {"system": "system_id", "environment": "environment"}

    @extend_schema(request=DeploymentIn, responses={201: DeploymentOut})
    def post(self, request: Request) -> Response:
        data = validated(DeploymentIn, request)
        deployment, receipt = services.deployment_create(
            actor=self.principal, system=data.pop("system_id"), **data
        )
        return receipt_response(DeploymentOut(deployment).data, receipt)


class DeploymentDetailView(RecordDetailView):
    model, out, serializer_class = Deployment, DeploymentOut, DeploymentOut


class DeploymentActivateView(RecordView):
    model, serializer_class = Deployment, DeploymentOut

    @extend_schema(request=ActivateIn, responses=DeploymentOut)
    def post(self, request: Request, pk: int) -> Response:
        deployment = self.scoped_get(Deployment, pk)
        data = validated(ActivateIn, request)
        deployment, _, receipt = services.deployment_activate(
            actor=self.principal,
            deployment=deployment,
            model_version=data["model_version_id"],
            reason=data["reason"],
        )
        return receipt_response(DeploymentOut(deployment).data, receipt, status_code=200)


class DeploymentRollbackView(RecordView):
    model, serializer_class = Deployment, DeploymentOut

    @extend_schema(request=ReasonIn, responses=DeploymentOut)
    def post(self, request: Request, pk: int) -> Response:
        deployment, _, receipt = services.deployment_rollback(
            actor=self.principal,
            deployment=self.scoped_get(Deployment, pk),
            **validated(ReasonIn, request),
        )
        return receipt_response(DeploymentOut(deployment).data, receipt, status_code=200)


class DeploymentHistoryView(RecordView):
    model, serializer_class = Deployment, DeploymentEventOut

    @extend_schema(responses=DeploymentEventOut(many=True))
    def get(self, request: Request, pk: int) -> Response:
        events = selectors.deployment_history(deployment=self.scoped_get(Deployment, pk))
        return Response(DeploymentEventOut(events, many=True).data)


class DeploymentServedAtView(RecordView):
    model, serializer_class = Deployment, ServedAtOut

    @extend_schema(parameters=[ServedAtParams], responses=ServedAtOut)
    def get(self, request: Request, pk: int) -> Response:
        params = ServedAtParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        at = params.validated_data["at"]
        version = selectors.served_at(deployment=self.scoped_get(Deployment, pk), at=at)
        return Response(ServedAtOut({"at": at, "model_version": version}).data)


# --- Prediction batches --------------------------------------------------------------------


class PredictionBatchOut(serializers.ModelSerializer):
    output_artifact_sha256 = serializers.CharField(
        source="output_artifact.sha256", default=None, read_only=True
    )
    rows_file_sha256 = serializers.CharField(
        source="rows_artifact.sha256",
        default=None,
        read_only=True,
        help_text="The batch's rows file, which its row receipts are read from (none: no "
        "row receipts yet).",
    )

    class Meta:
        model = PredictionBatch
        fields = [
            "id",
            "deployment",
            "model_version",
            "status",
            "input_sha256",
            "output_sha256",
            "row_count",
            "rows_root",
            "window_start",
            "window_end",
            "ran_on",
            "files_verified_at",
            "failure_reason",
            "created_at",
            "output_artifact_sha256",
            "rows_file_sha256",
            "telemetry",
            "energy_joules",
            "started_at",
            "finished_at",
            "ledger_seq",
            "task",
        ]


class PredictionBatchIn(StrictSerializer):
    deployment_id = ScopedPrimaryKey(Deployment)
    model_version_id = ScopedPrimaryKey(ModelVersion, required=False, allow_null=True, default=None)
    input_sha256 = serializers.CharField()
    output_sha256 = serializers.CharField()
    row_count = serializers.IntegerField(min_value=0)
    rows_root = serializers.CharField()
    window_start = serializers.DateTimeField(required=False, allow_null=True, default=None)
    window_end = serializers.DateTimeField(required=False, allow_null=True, default=None)
    ran_on = RanOnField(required=False, default=dict)


class BatchFilesIn(StrictSerializer):
    input_sha256 = serializers.RegexField(r"^[0-9a-f]{64}$")
    output_sha256 = serializers.RegexField(r"^[0-9a-f]{64}$")


class BatchRowsIn(StrictSerializer):
    rows_sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        help_text="SHA-256 of the rows file uploaded to /api/v1/artifacts/: every row's leaf "
        "(ledger format §7), Parquet with a 'leaf' column or JSON Lines, in row order.",
    )


class PredictionBatchListCreateView(RecordListView):
    model, out, serializer_class = PredictionBatch, PredictionBatchOut, PredictionBatchOut
    filters = {"deployment": "deployment_id", "status": "status"}

    @extend_schema(request=PredictionBatchIn, responses={201: PredictionBatchOut})
    def post(self, request: Request) -> Response:
        data = validated(PredictionBatchIn, request)
        batch, receipt = services.prediction_batch_record(
            actor=self.principal,
            deployment=data.pop("deployment_id"),
            model_version=data.pop("model_version_id"),
            **data,
        )
        return receipt_response(PredictionBatchOut(batch).data, receipt)


class PredictionBatchDetailView(RecordDetailView):
    model, out, serializer_class = PredictionBatch, PredictionBatchOut, PredictionBatchOut


class PredictionBatchFilesView(RecordView):
    """Checks the batch's input and output files, uploaded as artifacts, against
    what the pipeline recorded."""

    model, serializer_class = PredictionBatch, PredictionBatchOut

    @extend_schema(request=BatchFilesIn, responses=PredictionBatchOut)
    def post(self, request: Request, pk: int) -> Response:
        batch = self.scoped_get(PredictionBatch, pk)
        data = validated(BatchFilesIn, request)
        artifacts = {
            side: self.in_scope(Artifact).filter(sha256=data[f"{side}_sha256"]).first()
            for side in ("input", "output")
        }
        missing = {
            f"{side}_sha256": ["No uploaded artifact has this digest."]
            for side, a in artifacts.items()
            if a is None
        }
        if missing:
            raise InvalidInput(
                "Upload the batch files to /api/v1/artifacts/ first.", fields=missing
            )
        batch, receipt = services.prediction_batch_verify_files(
            actor=self.principal,
            batch=batch,
            input_artifact=artifacts["input"],
            output_artifact=artifacts["output"],
        )
        return receipt_response(PredictionBatchOut(batch).data, receipt, status_code=200)


class PredictionBatchRowsView(RecordView):
    """Takes the rows file of a batch a pipeline recorded (uploaded as an artifact
    first): its row receipts are served from then on, as for our workers' batches."""

    model, serializer_class = PredictionBatch, PredictionBatchOut

    @extend_schema(request=BatchRowsIn, responses=PredictionBatchOut)
    def post(self, request: Request, pk: int) -> Response:
        batch = self.scoped_get(PredictionBatch, pk)
        data = validated(BatchRowsIn, request)
        rows_file = self.in_scope(Artifact).filter(sha256=data["rows_sha256"]).first()
        if rows_file is None:
            raise InvalidInput(
                "Upload the rows file to /api/v1/artifacts/ first.",
                fields={"rows_sha256": ["No uploaded artifact has this digest."]},
            )
        batch, receipt = services.prediction_batch_rows_attach(
            actor=self.principal, batch=batch, rows_file=rows_file
        )
        return receipt_response(PredictionBatchOut(batch).data, receipt, status_code=200)
