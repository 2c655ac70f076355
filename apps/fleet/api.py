"""``/api/v1/deployments/{id}/online/...``: online decisions logged by serving systems,
their sealing and receipts, and the organization's serving policy."""

from __future__ import annotations

import codecs
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.fleet import cloudevents, energy, profiles, selectors
from apps.fleet.fastjson import strict_loads
from apps.fleet.models import (
    HeartbeatRejection,
    OnlineExchange,
    QueueWaitAlert,
    RoutingRefusal,
    ServingPolicy,
    Worker,
)
from apps.fleet.services import online, queues
from apps.registry.models import Deployment, ModelVersion, PredictionBatch
from audit_platform.api import StrictSerializer
from audit_platform.errors import InvalidInput, NotFound, RuleViolation
from audit_platform.parsers import RefusedJson, StrictJSONParser, loads
from audit_platform.roles import Capability
from audit_platform.schema import JSON_VALUE
from audit_platform.views import RecordListView, RecordView, ScopedGenericAPIView, validated


def _read_text(stream: Any, parser_context: Any) -> str:
    """The body as text, refused past FLEET_MAX_BODY_BYTES."""
    limit = settings.FLEET_MAX_BODY_BYTES
    raw = stream.read(limit + 1) if stream is not None else b""
    if len(raw) > limit:
        raise InvalidInput(
            f"The body is larger than {limit} bytes (FLEET_MAX_BODY_BYTES): send it in parts.",
            fields={"body": ["Too large."]},
        )
    encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
    try:
        return codecs.decode(raw, encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise RefusedJson(
            f"The body is not valid {encoding}: {exc}. Send UTF-8.",
            fields={"body": ["Not valid UTF-8."]},
        ) from None


class JsonLinesParser(BaseParser):
    """``application/x-ndjson`` (also ``application/jsonl``): one JSON document a line,
    each refused as the API's JSON parser refuses a body, naming its line."""

    media_type = "application/x-ndjson"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        documents = []
        for number, line in enumerate(_read_text(stream, parser_context).split("\n"), start=1):
            if not line.strip():
                continue
            try:
                documents.append(strict_loads(line))
            except RefusedJson as exc:
                raise RefusedJson(
                    f"Line {number}: {exc.message}", fields={f"line {number}": [exc.message]}
                ) from None
        return documents


class JsonlParser(JsonLinesParser):
    media_type = "application/jsonl"


class StructuredCloudEventParser(BaseParser):
    """A CloudEvent in structured content mode (CloudEvents HTTP binding, 3.2)."""

    media_type = "application/cloudevents+json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return loads(_read_text(stream, parser_context))


class CloudEventsBatchParser(StructuredCloudEventParser):
    """A JSON array of structured CloudEvents (CloudEvents HTTP binding, 3.3)."""

    media_type = "application/cloudevents-batch+json"


_INFERENCE_BODY: dict[str, Any] = {
    "type": "object",
    "description": "The body the model server got (request) or gave (response): KServe V1 "
    '(`{"instances": [...]}` / `{"predictions": [...]}`) or the Open Inference Protocol '
    '(`{"inputs": [tensors]}` / `{"outputs": [tensors]}`).',
    "additionalProperties": JSON_VALUE,
    "example": {"instances": [{"age": 41, "income": 52000.5}]},
}
_STRUCTURED_EVENT: dict[str, Any] = {
    "type": "object",
    "description": "A CloudEvent in structured mode (CloudEvents 1.0 JSON format).",
    "properties": {
        "specversion": {"type": "string", "enum": ["1.0"]},
        "id": {"type": "string", "description": "Pairs a request with its response."},
        "type": {"type": "string", "enum": [cloudevents.REQUEST_TYPE, cloudevents.RESPONSE_TYPE]},
        "source": {"type": "string"},
        "datacontenttype": {"type": "string", "example": "application/json"},
        "data": _INFERENCE_BODY,
        **{name: {"type": "string"} for name in cloudevents.EXTENSIONS},
    },
    "required": ["specversion", "id", "type", "source", "data"],
}
_DECISION_LINE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "The request's id; a repeated id is a duplicate."},
        "input": {"type": "object", "additionalProperties": JSON_VALUE},
        "output": JSON_VALUE,
    },
    "required": ["id", "input", "output"],
}


class LogOutcomeOut(serializers.Serializer):
    decisions = serializers.IntegerField(help_text="New decisions logged, waiting to be sealed.")
    duplicates = serializers.IntegerField(help_text="Sent before: recorded once.")
    waiting = serializers.IntegerField(help_text="Logged halves still waiting for the other.")
    rejected = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text='{"id", "reason"} of each half or decision refused.',
    )


def _halves(request: Request) -> list[cloudevents.Half]:
    """The request's events: a batch, one structured event, or one in binary mode."""
    media = request.content_type.split(";")[0].strip().lower()
    try:
        if media == CloudEventsBatchParser.media_type:
            events = request.data
            if not isinstance(events, list) or not events:
                raise cloudevents.EventError("a batch must be a non-empty JSON array of events")
        elif media == StructuredCloudEventParser.media_type:
            events = [request.data]
        else:
            attributes = {
                key[len("HTTP_CE_") :].lower(): value
                for key, value in request.META.items()
                if key.startswith("HTTP_CE_")
            }
            if "specversion" not in attributes:
                raise cloudevents.EventError(
                    "send a CloudEvent: in binary mode with the ce-specversion, ce-id, "
                    "ce-type and ce-source headers, or as application/cloudevents+json"
                )
            return [cloudevents.event_from_attributes(attributes, request.data)]
    except cloudevents.EventError as exc:
        raise InvalidInput(f"Malformed CloudEvent: {exc}.", fields={"event": [str(exc)]}) from None
    halves, problems = [], {}
    for position, event in enumerate(events):
        try:
            halves.append(cloudevents.structured_event(event))
        except cloudevents.EventError as exc:
            problems[f"events[{position}]"] = [str(exc)]
    if problems:
        first = next(iter(problems.items()))
        raise InvalidInput(
            f"Malformed CloudEvent at {first[0]}: {first[1][0]}; nothing was logged.",
            fields=dict(list(problems.items())[:10]),
        )
    return halves


class OnlineCloudEventsView(RecordView):
    """Receives KServe's inference logger: request and response CloudEvents (binary or
    structured mode, or a batch of structured ones), paired by id in either order.
    Point the InferenceService's ``logger.url`` here (docs/online-serving.md)."""

    model = Deployment
    parser_classes = [StrictJSONParser, StructuredCloudEventParser, CloudEventsBatchParser]
    # A serving system logs every inference: refusing it for its rate would lose them.
    throttle_classes: list[Any] = []
    # Decisions go on the ledger when they are sealed into a batch, not when logged.
    answers_with_receipt = False

    @extend_schema(
        request={
            "application/json": _INFERENCE_BODY,
            StructuredCloudEventParser.media_type: _STRUCTURED_EVENT,
            CloudEventsBatchParser.media_type: {"type": "array", "items": _STRUCTURED_EVENT},
        },
        responses={202: LogOutcomeOut},
    )
    def post(self, request: Request, pk: int) -> Response:
        deployment = self.scoped_get(Deployment, pk)
        outcome = online.online_events_log(deployment=deployment, halves=_halves(request))
        return Response(outcome.as_json(), status=202)


class OnlineDecisionsView(RecordView):
    """Logs complete decisions as JSON Lines (``application/x-ndjson``): one
    ``{"id", "input": {column: value}, "output"}`` a line; or the same objects as one
    JSON array (``application/json``)."""

    model = Deployment
    parser_classes = [JsonLinesParser, JsonlParser, StrictJSONParser]
    throttle_classes: list[Any] = []
    # Decisions go on the ledger when they are sealed into a batch, not when logged.
    answers_with_receipt = False

    @extend_schema(
        request={
            JsonLinesParser.media_type: {
                "type": "string",
                "description": "One decision object a line (see application/json's items).",
            },
            "application/json": {"type": "array", "items": _DECISION_LINE},
        },
        responses={202: LogOutcomeOut},
    )
    def post(self, request: Request, pk: int) -> Response:
        deployment = self.scoped_get(Deployment, pk)
        lines = request.data
        if not isinstance(lines, list):
            raise InvalidInput(
                "Send JSON Lines (application/x-ndjson) or a JSON array of decisions.",
                fields={"body": ["Not a list of decisions."]},
            )
        outcome = online.online_decisions_log(deployment=deployment, lines=lines)
        return Response(outcome.as_json(), status=202)


class SealOut(serializers.Serializer):
    prediction_batches = serializers.ListField(child=serializers.UUIDField())


class OnlineSealView(RecordView):
    """Seals the deployment's open decisions into prediction batches now, without
    waiting for FLEET_SEAL_ROWS or FLEET_SEAL_SECONDS."""

    model = Deployment

    @extend_schema(request=None, responses={201: SealOut})
    def post(self, request: Request, pk: int) -> Response:
        deployment = self.scoped_get(Deployment, pk)
        sealed = online.online_seal(deployment_id=deployment.pk, force=True)
        if not sealed:
            raise RuleViolation(
                f"Deployment {deployment.pk} has no open decisions: everything logged is "
                "sealed already."
            )
        return Response({"prediction_batches": sealed}, status=201)


class OnlineSummaryOut(serializers.Serializer):
    open_decisions = serializers.IntegerField(help_text="Logged, not yet sealed.")
    sealed_decisions = serializers.IntegerField()
    sealed_batches = serializers.IntegerField()
    exchanges = serializers.DictField(
        child=serializers.IntegerField(), help_text="CloudEvents exchanges by state."
    )
    seal_rows = serializers.IntegerField()
    seal_seconds = serializers.IntegerField()
    store_inputs = serializers.BooleanField()


class OnlineSummaryView(RecordView):
    """The deployment's online decisions: open, sealed, and exchanges by state."""

    model = Deployment

    @extend_schema(responses=OnlineSummaryOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(selectors.online_summary(deployment=self.scoped_get(Deployment, pk)))


class OnlineExchangeOut(serializers.ModelSerializer):
    class Meta:
        model = OnlineExchange
        fields = [
            "request_id",
            "state",
            "reason",
            "request_at",
            "response_at",
            "duplicates",
            "source",
            "created_at",
        ]


class OnlineExchangeListView(RecordListView):
    """The deployment's CloudEvents exchanges; ``?state=unpaired`` or ``rejected`` are
    the ones never sealed, with the reason."""

    model, out = OnlineExchange, OnlineExchangeOut
    filters = {"state": "state"}

    def get_queryset(self) -> Any:
        deployment = self.scoped_get(Deployment, self.kwargs["pk"])
        return OnlineExchange.objects.filter(deployment=deployment).order_by("created_at", "id")

    @extend_schema(responses=OnlineExchangeOut(many=True))
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class DecisionReceiptView(RecordView):
    """One online decision's receipt, found by its request id (and ``part``, its
    instance in the request): the row receipt of the batch it was sealed in, for
    ``python -m apps.ledger.offline_verifier receipt``."""

    model = Deployment

    @extend_schema(
        parameters=[OpenApiParameter("part", int, description="The instance; 0 by default.")],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, pk: int, request_id: str) -> Response:
        deployment = self.scoped_get(Deployment, pk)
        raw = request.query_params.get("part", "0")
        if not raw.isdigit() or len(raw) > 9:
            raise InvalidInput(
                "part must be a whole number from 0.", fields={"part": ["A whole number."]}
            )
        return Response(
            selectors.decision_receipt(deployment=deployment, request_id=request_id, part=int(raw))
        )


class ServingPolicyIn(StrictSerializer):
    store_inputs = serializers.BooleanField(
        help_text="Store the inputs of online decisions, not only their digests."
    )


class ServingPolicyOut(serializers.ModelSerializer):
    updated_at = serializers.DateTimeField(
        allow_null=True, read_only=True, help_text="Null while the default applies."
    )

    class Meta:
        model = ServingPolicy
        fields = ["store_inputs", "updated_at"]


class ServingPolicyView(ScopedGenericAPIView):
    """Whether the inputs of the organization's online decisions are stored or only
    digested (the default: inputs often hold personal data)."""

    base_queryset = ServingPolicy.objects.all()
    serializer_class = ServingPolicyOut
    write_capability = Capability.COMPLY

    @extend_schema(responses=ServingPolicyOut)
    def get(self, request: Request) -> Response:
        return Response(selectors.serving_policy(organization=self.principal.organization))

    @extend_schema(request=ServingPolicyIn, responses=ServingPolicyOut)
    def put(self, request: Request) -> Response:
        data = validated(ServingPolicyIn, request)
        policy, receipt = online.serving_policy_set(
            actor=self.principal, store_inputs=data["store_inputs"]
        )
        return Response({**ServingPolicyOut(policy).data, "ledger": receipt.as_json()})


# --- the worker inventory ---------------------------------------------------------------


class GpuOut(serializers.Serializer):
    name = serializers.CharField()
    uuid = serializers.CharField()
    driver = serializers.CharField()
    memory_total_bytes = serializers.IntegerField()
    memory_used_bytes = serializers.IntegerField()
    mig_mode = serializers.CharField(allow_null=True, help_text="enabled, disabled, or null.")
    temperature_c = serializers.FloatField(allow_null=True)
    power_w = serializers.FloatField(allow_null=True)


class WorkerOut(serializers.ModelSerializer):
    state = serializers.SerializerMethodField(help_text="online, offline or stopped.")
    gpus = GpuOut(many=True)
    queues = serializers.ListField(child=serializers.CharField())
    software = serializers.DictField(child=serializers.CharField())

    class Meta:
        model = Worker
        fields = [
            "id",
            "name",
            "state",
            "worker_class",
            "host",
            "pid",
            "queues",
            "pool",
            "concurrency",
            "software",
            "gpus",
            "no_gpu_reason",
            "hardware_sha256",
            "first_seen_at",
            "last_seen_at",
            "stopped_at",
        ]

    def get_state(self, worker: Worker) -> str:
        return selectors.worker_state(worker=worker)


class FleetView(ScopedGenericAPIView):
    """The workers are the service's own, shared by every organization: any member
    may see them; they hold no organization's data."""

    def scoped(self, queryset: Any) -> Any:
        return queryset


class WorkerListView(FleetView):
    """Every worker that reported a heartbeat, with its state: offline once silent for
    FLEET_OFFLINE_SECONDS."""

    list_view = True
    base_queryset = Worker.objects.all()
    serializer_class = WorkerOut

    @extend_schema(responses=WorkerOut(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WorkerOut(page, many=True).data)


class WorkerDetailView(FleetView):
    """One worker: its last heartbeat (GPUs, software, queues) and its state."""

    base_queryset = Worker.objects.all()
    serializer_class = WorkerOut

    @extend_schema(responses=WorkerOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(WorkerOut(self.get_object()).data)


class HeartbeatRejectionOut(serializers.ModelSerializer):
    class Meta:
        model = HeartbeatRejection
        fields = ["worker_name", "reason", "at"]


class HeartbeatRejectionListView(FleetView):
    """Heartbeats refused, newest first, with the reason."""

    list_view = True
    base_queryset = HeartbeatRejection.objects.all()
    serializer_class = HeartbeatRejectionOut

    @extend_schema(responses=HeartbeatRejectionOut(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(HeartbeatRejectionOut(page, many=True).data)


# --- routing and queue waits ----------------------------------------------------------


class RoutingRefusalOut(serializers.ModelSerializer):
    class Meta:
        model = RoutingRefusal
        fields = [
            "id",
            "kind",
            "model_version",
            "needed_gpu_memory_bytes",
            "considered",
            "reason",
            "at",
        ]


class RoutingRefusalListView(RecordListView):
    """Batch and explanation jobs of this organization refused at submission because
    no online worker could fit them, newest first, with what was needed and available."""

    model, out = RoutingRefusal, RoutingRefusalOut
    filters = {"model_version": "model_version_id", "kind": "kind"}

    @extend_schema(responses=RoutingRefusalOut(many=True))
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class QueueWaitAlertOut(serializers.ModelSerializer):
    class Meta:
        model = QueueWaitAlert
        fields = "__all__"


class QueueWaitAlertListView(FleetView):
    """Queues whose oldest job waited past FLEET_QUEUE_WAIT_ALERT_SECONDS, newest
    first; ``?status=open`` for those nobody has looked at."""

    list_view = True
    base_queryset = QueueWaitAlert.objects.all()
    serializer_class = QueueWaitAlertOut

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=QueueWaitAlert.Status.values)],
        responses=QueueWaitAlertOut(many=True),
    )
    def get(self, request: Request) -> Response:
        queryset = self.get_queryset()
        status = request.query_params.get("status")
        if status:
            if status not in QueueWaitAlert.Status.values:
                raise InvalidInput(
                    f"status must be one of {', '.join(QueueWaitAlert.Status.values)}.",
                    fields={"status": ["Not a queue alert status."]},
                )
            queryset = queryset.filter(status=status)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(QueueWaitAlertOut(page, many=True).data)


class AlertNoteIn(StrictSerializer):
    note = serializers.CharField(allow_blank=True)


class QueueWaitAlertActionView(FleetView):
    """An operator (staff, signed in) acknowledges or resolves a queue alert, with a
    note."""

    base_queryset = QueueWaitAlert.objects.all()
    serializer_class = AlertNoteIn
    action = "acknowledge"

    @extend_schema(request=AlertNoteIn, responses=QueueWaitAlertOut)
    def post(self, request: Request, pk: str) -> Response:
        act = getattr(queues, f"queue_wait_alert_{self.action}")
        alert = act(
            actor=self.principal,
            alert=self.get_object(),
            note=validated(AlertNoteIn, request)["note"],
        )
        return Response(QueueWaitAlertOut(alert).data)


# --- resource profiles and energy -------------------------------------------------------


def _query_int(request: Request, name: str, *, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidInput(
            f"{name} must be a whole number from {low} to {high}.",
            fields={name: [f"A whole number from {low} to {high}."]},
        )
    return int(raw)


def _query_time(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise InvalidInput(
            f"{name} must be an RFC 3339 time with its offset (2026-12-01T00:00:00Z).",
            fields={name: ["An RFC 3339 time with offset."]},
        )
    return value


class ResourceProfileView(RecordView):
    """What the version's batches took on our workers, per device kind (rows/s, peak
    GPU and host memory, energy per 1,000 rows, with their spread) once it has three
    completed jobs; with ``?rows=N``, what a batch of N rows will take, and the error
    that prediction had on the jobs measured (leave-one-out)."""

    model = ModelVersion

    @extend_schema(
        parameters=[
            OpenApiParameter("rows", int, description="Predict a batch of this many rows."),
            OpenApiParameter("device", str, description="cuda or cpu (default: most jobs)."),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, model_pk: int, pk: int) -> Response:
        version = self.scoped_get(ModelVersion, pk)
        if version.model_id != model_pk:
            raise NotFound(f"Model {model_pk} has no version {pk}.")
        profile = profiles.resource_profile(model_version=version)
        rows = _query_int(request, "rows", low=1, high=10**12)
        prediction = None
        if rows is not None:
            prediction = profiles.predicted_need(
                profile=profile, rows=rows, device=request.query_params.get("device")
            )
        return Response({**profile, "prediction": prediction})


class EnergyView(RecordView):
    """Energy (kWh) and its cost at FLEET_ENERGY_PRICE_PER_KWH per AI system, model
    version or deployment (``group_by``), from the energy measured for each batch our
    workers ran, between ``from`` and ``to``."""

    model = PredictionBatch

    @extend_schema(
        parameters=[
            OpenApiParameter("group_by", str, enum=sorted(energy.GROUPS)),
            OpenApiParameter("from", OpenApiTypes.DATETIME),
            OpenApiParameter("to", OpenApiTypes.DATETIME),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        group_by = request.query_params.get("group_by", "system")
        if group_by not in energy.GROUPS:
            raise InvalidInput(
                f"group_by must be one of {', '.join(sorted(energy.GROUPS))}.",
                fields={"group_by": [f"One of {', '.join(sorted(energy.GROUPS))}."]},
            )
        return Response(
            energy.energy_by(
                organization=self.principal.organization,
                group_by=group_by,
                start=_query_time(request, "from"),
                end=_query_time(request, "to"),
                system_ids=self.principal.system_ids,
            )
        )


class EnergyChartView(RecordView):
    """Energy per day (kWh) as an SVG bar chart, between ``from`` and ``to``."""

    model = PredictionBatch

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATETIME),
            OpenApiParameter("to", OpenApiTypes.DATETIME),
        ],
        responses={(200, "image/svg+xml"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> HttpResponse:
        days = energy.energy_per_day(
            organization=self.principal.organization,
            start=_query_time(request, "from"),
            end=_query_time(request, "to"),
            system_ids=self.principal.system_ids,
        )
        return HttpResponse(energy.energy_chart_svg(days), content_type="image/svg+xml")
