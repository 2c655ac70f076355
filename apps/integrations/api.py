"""The pipeline integrations' endpoints under ``/api/v1/openlineage``: RunEvents in,
the organization's job mappings, our records out as RunEvents, and the JSON Schemas
of our custom facets (docs/integrations.md)."""

from __future__ import annotations

import gzip
import io
import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.integrations import mlflow_import, selectors, services
from apps.integrations.models import LineageEvent, LineageJobMapping, MlflowConnection
from apps.integrations.openlineage import EVENT_TYPES, FACET_SCHEMAS
from apps.registry.models import AISystem, Deployment, Model, PredictionBatch, TrainingRun
from audit_platform.api import StrictSerializer
from audit_platform.errors import NotFound
from audit_platform.parsers import RefusedJson, StrictJSONParser
from audit_platform.views import (
    RecordListView,
    RecordView,
    ScopedPrimaryKey,
    receipt_response,
    validated,
)

FACETS_DIR = Path(__file__).resolve().parent / "facets"


class OpenLineageJSONParser(StrictJSONParser):
    """JSON, also gzip-compressed (``Content-Encoding: gzip``, the openlineage-python
    HTTP transport's ``compression: gzip``), never inflated past the request limit."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        request = (parser_context or {}).get("request")
        encoding = request.META.get("HTTP_CONTENT_ENCODING", "") if request else ""
        if encoding.strip().lower() == "gzip" and stream is not None:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
            try:
                with gzip.GzipFile(fileobj=stream) as unzipped:
                    raw = unzipped.read(limit + 1)
            except (OSError, EOFError) as exc:
                raise RefusedJson(
                    f"The body says Content-Encoding: gzip but is not gzip data ({exc}).",
                    fields={"body": ["Not gzip."]},
                ) from None
            if len(raw) > limit:
                raise RefusedJson(
                    f"The uncompressed body is larger than {limit} bytes.",
                    fields={"body": ["Too large."]},
                )
            stream = io.BytesIO(raw)
        return super().parse(stream, media_type, parser_context)


class OutcomeOut(serializers.Serializer):
    id = serializers.UUIDField(help_text="The kept event.")
    run_id = serializers.UUIDField()
    event_type = serializers.CharField()
    duplicate = serializers.BooleanField(
        help_text="True: this event was received before; nothing more was recorded."
    )
    recorded = serializers.BooleanField(
        help_text="False when the job is not mapped: the event is kept, nothing recorded."
    )
    records = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text='The training run or prediction batch, as {"kind", "id"}.',
    )
    dataset_versions = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Ids of the dataset versions of the inputs and the outputs.",
    )
    notes = serializers.ListField(child=serializers.CharField())
    ledger = serializers.DictField(
        allow_null=True, help_text="The openlineage_run.event entry's receipt."
    )


def _outcome(event: LineageEvent, *, duplicate: bool) -> dict[str, Any]:
    return {
        "id": str(event.pk),
        "run_id": str(event.run.run_id),
        "event_type": event.event_type,
        "duplicate": duplicate,
        **event.outcome,
    }


class LineageEventOut(serializers.ModelSerializer):
    run_id = serializers.UUIDField(source="run.run_id")

    class Meta:
        model = LineageEvent
        fields = [
            "id",
            "run_id",
            "event_type",
            "event_time",
            "event_sha256",
            "body",
            "outcome",
            "received_at",
        ]


_FACETS = {
    "type": "object",
    "description": "Facets by name; each an object with _producer and _schemaURL.",
    "additionalProperties": {"type": "object", "additionalProperties": True},
}
_DATASETS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["namespace", "name"],
        "properties": {
            "namespace": {"type": "string"},
            "name": {"type": "string"},
            "facets": _FACETS,
            "inputFacets": _FACETS,
            "outputFacets": _FACETS,
        },
        "additionalProperties": True,
    },
}
RUN_EVENT_SCHEMA = {
    "type": "object",
    "description": "An OpenLineage RunEvent (https://openlineage.io/spec/2-0-2/OpenLineage.json"
    "#/$defs/RunEvent); fields and facets not listed here are kept as sent.",
    "required": ["eventTime", "producer", "schemaURL", "run", "job"],
    "properties": {
        "eventType": {"type": "string", "enum": list(EVENT_TYPES)},
        "eventTime": {"type": "string", "format": "date-time"},
        "producer": {"type": "string"},
        "schemaURL": {"type": "string"},
        "run": {
            "type": "object",
            "required": ["runId"],
            "properties": {"runId": {"type": "string", "format": "uuid"}, "facets": _FACETS},
            "additionalProperties": True,
        },
        "job": {
            "type": "object",
            "required": ["namespace", "name"],
            "properties": {
                "namespace": {"type": "string"},
                "name": {"type": "string"},
                "facets": _FACETS,
            },
            "additionalProperties": True,
        },
        "inputs": _DATASETS,
        "outputs": _DATASETS,
    },
    "additionalProperties": True,
}
MLFLOW_WEBHOOK_SCHEMA = {
    "type": "object",
    "description": "MLflow's webhook payload (mlflow.webhooks): the entity and action, "
    "and the event's data.",
    "required": ["entity", "action", "data"],
    "properties": {
        "entity": {"type": "string", "example": "model_version_alias"},
        "action": {"type": "string", "example": "created"},
        "timestamp": {"type": "string"},
        "data": {"type": "object", "additionalProperties": True},
    },
    "additionalProperties": True,
}
RUN_EVENT_EXAMPLE = {
    "eventType": "COMPLETE",
    "eventTime": "2026-11-23T09:15:02.123456Z",
    "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    "run": {"runId": "0190f7b6-6a4e-7cc4-9b5c-3f3a9c1e0d11", "facets": {}},
    "job": {"namespace": "airflow", "name": "credit.train_model"},
    "inputs": [{"namespace": "s3://lake", "name": "credit/train.parquet"}],
    "outputs": [],
}


class OpenLineageEventView(RecordListView):
    """``POST``: one OpenLineage RunEvent, as the openlineage-python HTTP transport,
    Airflow, Spark and dbt send it. ``GET``: the events kept, newest run first."""

    model, out, serializer_class = LineageEvent, LineageEventOut, LineageEventOut
    parser_classes = [OpenLineageJSONParser]
    filters = {"event_type": "event_type"}
    # 200: an event received before; 202: kept, but its job is not mapped.
    unrecorded_statuses = (200, 202)

    @extend_schema(
        request={"application/json": RUN_EVENT_SCHEMA},
        responses={201: OutcomeOut, 202: OutcomeOut, 200: OutcomeOut},
        examples=[OpenApiExample("RunEvent", value=RUN_EVENT_EXAMPLE, request_only=True)],
        description="201: a new event of a mapped job, kept and recorded; 202: a new event "
        "of a job not mapped, kept and not recorded; 200: the same event was received "
        "before. A body that is not a RunEvent gets a 400 naming the place to fix.",
    )
    def post(self, request: Request) -> Response:
        event, new = services.openlineage_event_receive(actor=self.principal, body=request.data)
        if not new:
            return Response(_outcome(event, duplicate=True), status=200)
        status = 201 if event.outcome["recorded"] else 202
        return Response(_outcome(event, duplicate=False), status=status)


class JobMappingOut(serializers.ModelSerializer):
    class Meta:
        model = LineageJobMapping
        fields = ["id", "namespace", "name", "kind", "system", "model", "deployment", "created_at"]


class JobMappingIn(StrictSerializer):
    namespace = serializers.CharField(max_length=500)
    name = serializers.CharField(max_length=500)
    kind = serializers.ChoiceField(choices=LineageJobMapping.Kind.choices)
    system_id = ScopedPrimaryKey(AISystem)
    model_id = ScopedPrimaryKey(Model, required=False, allow_null=True, default=None)
    deployment_id = ScopedPrimaryKey(Deployment, required=False, allow_null=True, default=None)


class JobMappingListCreateView(RecordListView):
    """The organization's decisions of what its OpenLineage jobs' runs are."""

    model, out, serializer_class = LineageJobMapping, JobMappingOut, JobMappingOut
    filters = {"kind": "kind"}

    @extend_schema(request=JobMappingIn, responses={201: JobMappingOut})
    def post(self, request: Request) -> Response:
        data = validated(JobMappingIn, request)
        mapping, receipt = services.lineage_job_map(
            actor=self.principal,
            namespace=data["namespace"],
            name=data["name"],
            kind=data["kind"],
            system=data["system_id"],
            model=data["model_id"],
            deployment=data["deployment_id"],
        )
        return receipt_response(JobMappingOut(mapping).data, receipt)


class EmittedOut(serializers.Serializer):
    events = serializers.ListField(
        child=serializers.DictField(),
        help_text="OpenLineage RunEvents, oldest first, each with the run facet "
        "auditTrail_ledgerReceipt.",
    )


class EmitView(RecordView):
    """A record of ours as OpenLineage RunEvents, to forward to a lineage backend."""

    kind: str

    @extend_schema(responses=EmittedOut)
    def get(self, request: Request, pk: int) -> Response:
        record = self.scoped_get(self.model, pk)
        events = selectors.openlineage_events(
            organization=self.principal.organization, kind=self.kind, record=record
        )
        return Response({"events": events})


class TrainingRunEmitView(EmitView):
    """A training run as OpenLineage RunEvents (START, then COMPLETE, FAIL or ABORT),
    each with the ledger receipt facet; its dataset versions are the inputs, the model
    versions it produced the outputs."""

    model, serializer_class, kind = TrainingRun, EmittedOut, "training_run"


class PredictionBatchEmitView(EmitView):
    """A prediction batch as OpenLineage RunEvents, each with the ledger receipt facet;
    its input and output files (by digest) are the datasets."""

    model, serializer_class, kind = PredictionBatch, EmittedOut, "prediction_batch"


class FacetSchemaView(APIView):
    """The JSON Schema of one of our custom facets: public, as a facet's ``_schemaURL``
    is meant to be read by anyone who meets the facet."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, name: str) -> Response:
        if name not in FACET_SCHEMAS.values():
            raise NotFound(
                f"No facet schema named {name[:80]!r}; ours are "
                + ", ".join(sorted(FACET_SCHEMAS.values()))
                + "."
            )
        return Response(json.loads((FACETS_DIR / f"{name}.json").read_text()))


# --- MLflow ---------------------------------------------------------------------------


class MlflowConnectionOut(serializers.ModelSerializer):
    class Meta:
        model = MlflowConnection
        fields = ["id", "tracking_uri", "system", "created_at"]


class MlflowConnectionCreatedOut(MlflowConnectionOut):
    webhook_secret = serializers.CharField(
        help_text="Shown once: the secret to create the MLflow webhook with."
    )

    class Meta(MlflowConnectionOut.Meta):
        fields = [*MlflowConnectionOut.Meta.fields, "webhook_secret"]


class MlflowConnectionIn(StrictSerializer):
    tracking_uri = serializers.CharField(max_length=1000)
    system_id = ScopedPrimaryKey(AISystem)


class MlflowConnectionListCreateView(RecordListView):
    """MLflow tracking servers whose runs and registered models go on the record."""

    model, out, serializer_class = MlflowConnection, MlflowConnectionOut, MlflowConnectionOut
    idempotency_secret_fields = ("webhook_secret",)

    @extend_schema(request=MlflowConnectionIn, responses={201: MlflowConnectionCreatedOut})
    def post(self, request: Request) -> Response:
        data = validated(MlflowConnectionIn, request)
        connection, receipt = mlflow_import.mlflow_connection_create(
            actor=self.principal, tracking_uri=data["tracking_uri"], system=data["system_id"]
        )
        return receipt_response(MlflowConnectionCreatedOut(connection).data, receipt)


class MlflowImportIn(StrictSerializer):
    experiment = serializers.CharField(
        max_length=500,
        required=False,
        allow_null=True,
        default=None,
        help_text="Only this experiment's runs (and the versions they produced).",
    )


class MlflowImportOut(serializers.Serializer):
    task = serializers.UUIDField(help_text="Follow it at /api/v1/tasks/{id}.")


class MlflowImportView(RecordView):
    """Queues an import of the connection's runs, model versions and aliases; importing
    again records only what is new or changed."""

    model, serializer_class = MlflowConnection, MlflowImportOut
    unrecorded_statuses = (202,)

    @extend_schema(request=MlflowImportIn, responses={202: MlflowImportOut})
    def post(self, request: Request, pk: int) -> Response:
        connection = self.scoped_get(MlflowConnection, pk)
        data = validated(MlflowImportIn, request)
        task = mlflow_import.mlflow_import_request(
            actor=self.principal, connection=connection, experiment=data["experiment"]
        )
        return Response({"task": str(task.pk), "ledger": None}, status=202)


class MlflowWebhookOut(serializers.Serializer):
    event = serializers.CharField()
    duplicate = serializers.BooleanField()
    runs = serializers.IntegerField()
    runs_finished = serializers.IntegerField()
    model_versions = serializers.IntegerField()
    aliases = serializers.IntegerField()
    skipped = serializers.ListField(child=serializers.CharField())


class MlflowWebhookView(APIView):
    """MLflow's registry webhooks for one connection, authenticated by their HMAC
    signature (X-MLflow-Signature) with the connection's secret, not by an API key."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes: list[Any] = []

    @extend_schema(
        request={"application/json": MLFLOW_WEBHOOK_SCHEMA}, responses={200: MlflowWebhookOut}
    )
    def post(self, request: Request, pk: int) -> Response:
        connection = MlflowConnection.objects.filter(pk=pk).select_related("organization").first()
        if connection is None:
            raise NotFound("No such MLflow connection.")
        outcome = mlflow_import.mlflow_webhook_receive(
            connection=connection,
            body=request.body,
            delivery_id=request.META.get("HTTP_X_MLFLOW_DELIVERY_ID", ""),
            timestamp=request.META.get("HTTP_X_MLFLOW_TIMESTAMP", ""),
            signature=request.META.get("HTTP_X_MLFLOW_SIGNATURE", ""),
            now=time.time(),
        )
        return Response(outcome)
