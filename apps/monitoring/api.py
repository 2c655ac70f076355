"""``/api/v1/monitoring/`` endpoints: policies, drift and performance reports, labels,
alerts (acknowledge, resolve) with their notifications, retraining triggers and their
chain. Views validate, call one service or selector, and answer with the record.

Reads need READ. Setting a policy, running a window and uploading labels need RECORD
(pipelines and ML engineers do them); acknowledging and resolving an alert need a
person (the service refuses an API key)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.monitoring import selectors, services
from apps.monitoring.api_schema import (
    ActivationThresholdsField,
    FeatureThresholdsField,
    LabelsField,
    RowsField,
)
from apps.monitoring.models import (
    Alert,
    Delivery,
    DeliveryAttempt,
    DriftReport,
    MonitoringPolicy,
    PerformanceReport,
    RetrainingTrigger,
)
from apps.monitoring.services.findings import window_batches
from apps.registry.models import DatasetVersion, Deployment, PredictionBatch
from audit_platform.api import StrictSerializer
from audit_platform.errors import InvalidInput
from audit_platform.parsers import MAX_INT32
from audit_platform.roles import Capability
from audit_platform.views import (
    RecordDetailView,
    RecordListView,
    RecordView,
    ScopedPrimaryKey,
    receipt_response,
    validated,
)


class MonitoringView(RecordView):
    read_capability = Capability.READ
    write_capability = Capability.RECORD


# --- Policies -----------------------------------------------------------------------------


class PolicyOut(serializers.ModelSerializer):
    plan = serializers.SerializerMethodField(help_text="The plan in words (Annex IV 9).")

    class Meta:
        model = MonitoringPolicy
        exclude = ["webhook_secret"]

    def get_plan(self, policy: MonitoringPolicy) -> str:
        return selectors.monitoring_plan(policy)


class PolicyIn(StrictSerializer):
    deployment_id = ScopedPrimaryKey(Deployment)
    reference_dataset_version_id = ScopedPrimaryKey(DatasetVersion, required=False, allow_null=True)
    reference_batch_id = ScopedPrimaryKey(PredictionBatch, required=False, allow_null=True)
    features = serializers.ListField(child=serializers.CharField(), required=False)
    tests = serializers.DictField(child=serializers.CharField(), required=False)
    thresholds = FeatureThresholdsField(child=serializers.JSONField(), required=False)
    drift_share = serializers.FloatField(required=False)
    task = serializers.ChoiceField(choices=MonitoringPolicy.Task.choices, required=False)
    score_column = serializers.CharField(required=False, allow_blank=True)
    decision_threshold = serializers.FloatField(required=False)
    performance_metric = serializers.CharField(required=False)
    performance_drop = serializers.FloatField(required=False)
    label_delay_hours = serializers.IntegerField(required=False, min_value=0, max_value=MAX_INT32)
    window_hours = serializers.IntegerField(required=False, min_value=0, max_value=24 * 366)
    email_recipients = serializers.ListField(child=serializers.EmailField(), required=False)
    webhook_urls = serializers.ListField(child=serializers.CharField(), required=False)
    on_decay = serializers.ChoiceField(choices=MonitoringPolicy.OnDecay.choices, required=False)
    pipeline_url = serializers.CharField(required=False, allow_blank=True)
    dispatch_event_type = serializers.CharField(required=False, max_length=100)
    trigger_deadline_hours = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_INT32
    )
    auto_activate = serializers.BooleanField(required=False)
    activation_thresholds = ActivationThresholdsField(required=False)


class PolicyListCreateView(MonitoringView, RecordListView):
    """GET lists the policies; POST sets a deployment's policy (a new revision when it
    has one). The webhook signing secret is in the answer once, when the policy is made."""

    model, out, serializer_class = MonitoringPolicy, PolicyOut, PolicyOut
    filters = {"deployment": "deployment_id"}
    idempotency_secret_fields = ("webhook_secret",)

    @extend_schema(request=PolicyIn, responses={201: PolicyOut})
    def post(self, request: Request) -> Response:
        data = dict(validated(PolicyIn, request))
        deployment = data.pop("deployment_id")
        for key in ("reference_dataset_version_id", "reference_batch_id"):
            if key in data:
                data[key.removesuffix("_id")] = data.pop(key)
        policy, receipt, secret = services.monitoring_policy_set(
            actor=self.principal, deployment=deployment, **data
        )
        out = dict(PolicyOut(policy).data)
        if secret:
            out["webhook_secret"] = secret
        return receipt_response(out, receipt)


class PolicyDetailView(MonitoringView, RecordDetailView):
    model, out, serializer_class = MonitoringPolicy, PolicyOut, PolicyOut


class DriftReportOut(serializers.ModelSerializer):
    class Meta:
        model = DriftReport
        fields = "__all__"


class WindowIn(StrictSerializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class PolicyWindowView(MonitoringView):
    """POST runs drift over a time window now (once per window; a second call answers
    the first report)."""

    model, serializer_class = MonitoringPolicy, WindowIn

    @extend_schema(request=WindowIn, responses={201: DriftReportOut})
    def post(self, request: Request, pk: int) -> Response:
        policy = self.scoped_get(MonitoringPolicy, pk)
        data = validated(WindowIn, request)
        if data["start"] >= data["end"]:
            raise InvalidInput("start must be before end.", fields={"end": ["After start."]})
        if not window_batches(policy=policy, start=data["start"], end=data["end"]):
            raise InvalidInput(
                "The window is empty: no prediction batch with an input file was created "
                "between start and end.",
                fields={"start": ["No batch in the window."]},
            )
        report = services.drift_report_for_window(
            policy_id=policy.pk, start=data["start"], end=data["end"]
        )
        return Response(DriftReportOut(report).data, status=201)


# --- Findings -----------------------------------------------------------------------------


class DriftReportListView(MonitoringView, RecordListView):
    model, out, serializer_class = DriftReport, DriftReportOut, DriftReportOut
    filters = {"policy": "policy_id", "batch": "batch_id", "status": "status"}


class DriftReportDetailView(MonitoringView, RecordDetailView):
    model, out, serializer_class = DriftReport, DriftReportOut, DriftReportOut


class DriftChartsOut(serializers.Serializer):
    distributions = serializers.ListField(
        child=serializers.CharField(), help_text="One SVG image per watched feature."
    )


class DriftChartsView(MonitoringView):
    """GET the report's per-feature reference vs current distributions, as SVG."""

    model, serializer_class = DriftReport, DriftChartsOut

    @extend_schema(responses=DriftChartsOut)
    def get(self, request: Request, pk: int) -> Response:
        report = self.scoped_get(DriftReport, pk)
        from apps.monitoring import charts

        return Response({"distributions": charts.distributions(report)})


class PerformanceOut(serializers.ModelSerializer):
    class Meta:
        model = PerformanceReport
        fields = "__all__"


class PerformanceListView(MonitoringView, RecordListView):
    model, out, serializer_class = PerformanceReport, PerformanceOut, PerformanceOut
    filters = {"policy": "policy_id", "batch": "batch_id", "kind": "kind"}


class PerformanceDetailView(MonitoringView, RecordDetailView):
    model, out, serializer_class = PerformanceReport, PerformanceOut, PerformanceOut


class LabelsIn(StrictSerializer):
    rows = RowsField(child=serializers.JSONField(), help_text="Row numbers (0-based).")
    labels = LabelsField(child=serializers.JSONField(), help_text="0 or 1 per row.")


class BatchLabelsView(MonitoringView):
    """POST ground-truth labels for rows of a batch: the realized metric replaces the
    estimate; a drop beyond the policy raises an alert."""

    model, serializer_class = PredictionBatch, LabelsIn

    @extend_schema(request=LabelsIn, responses={201: PerformanceOut})
    def post(self, request: Request, pk: int) -> Response:
        batch = self.scoped_get(PredictionBatch, pk)
        data = validated(LabelsIn, request)
        labels = [int(v) if isinstance(v, bool) else v for v in data["labels"]]
        report, receipt = services.labels_upload(
            actor=self.principal, batch=batch, rows=data["rows"], labels=labels
        )
        return receipt_response(PerformanceOut(report).data, receipt)


# --- Alerts -------------------------------------------------------------------------------


class AttemptOut(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "ok", "status_code", "error", "latency_ms", "at"]


class DeliveryOut(serializers.ModelSerializer):
    attempts = AttemptOut(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "channel",
            "target",
            "event",
            "status",
            "failure_reason",
            "created_at",
            "delivered_at",
            "attempts",
        ]


class AlertOut(serializers.ModelSerializer):
    deliveries = DeliveryOut(many=True, read_only=True)

    class Meta:
        model = Alert
        fields = "__all__"


class AlertListView(MonitoringView, RecordListView):
    model, out, serializer_class = Alert, AlertOut, AlertOut
    filters = {"policy": "policy_id", "status": "status", "kind": "kind"}


class AlertDetailView(MonitoringView, RecordDetailView):
    model, out, serializer_class = Alert, AlertOut, AlertOut


class NoteIn(StrictSerializer):
    note = serializers.CharField(allow_blank=True)


class AlertActionView(MonitoringView):
    model, serializer_class = Alert, NoteIn
    action = "acknowledge"

    @extend_schema(request=NoteIn, responses=AlertOut)
    def post(self, request: Request, pk: int) -> Response:
        alert = self.scoped_get(Alert, pk)
        act = getattr(services, f"alert_{self.action}")
        alert, receipt = act(
            actor=self.principal, alert=alert, note=validated(NoteIn, request)["note"]
        )
        return receipt_response(AlertOut(alert).data, receipt, status_code=200)


# --- Triggers -----------------------------------------------------------------------------


class TriggerOut(serializers.ModelSerializer):
    deliveries = DeliveryOut(many=True, read_only=True)
    chain = serializers.SerializerMethodField(
        help_text="trigger -> run -> version -> assessments -> approval -> deployment"
    )

    class Meta:
        model = RetrainingTrigger
        fields = "__all__"

    def get_chain(self, trigger: RetrainingTrigger) -> list[dict[str, Any]]:
        return selectors.retraining_chain(trigger=trigger)


class TriggerListView(MonitoringView, RecordListView):
    model, out, serializer_class = RetrainingTrigger, TriggerOut, TriggerOut
    filters = {"policy": "policy_id", "status": "status"}


class TriggerDetailView(MonitoringView, RecordDetailView):
    model, out, serializer_class = RetrainingTrigger, TriggerOut, TriggerOut
