"""``/api/v1/explanations/``: start SHAP explanations, follow them, fetch values."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.utils import OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.explainability import services
from apps.explainability.models import Explanation
from apps.registry.models import DatasetVersion, ModelVersion, PredictionBatch
from audit_platform.api import StrictSerializer
from audit_platform.errors import RuleViolation
from audit_platform.views import (
    RecordDetailView,
    RecordListView,
    RecordView,
    ScopedPrimaryKey,
    receipt_response,
    validated,
)


class ExplanationOut(serializers.ModelSerializer):
    task_id = serializers.UUIDField(default=None, read_only=True)

    class Meta:
        model = Explanation
        fields = [
            "id",
            "model_version",
            "dataset_version",
            "prediction_batch",
            "input_sha256",
            "status",
            "method",
            "background_rows",
            "estimated_cost_seconds",
            "rows",
            "feature_names",
            "values_sha256",
            "global_importance",
            "additivity_max_error",
            "additivity_ok",
            "ran_on",
            "telemetry",
            "energy_joules",
            "task_id",
            "failure_reason",
            "ledger_seq",
            "created_at",
            "started_at",
            "finished_at",
        ]


class ExplanationIn(StrictSerializer):
    model_version_id = ScopedPrimaryKey(ModelVersion)
    dataset_version_id = ScopedPrimaryKey(
        DatasetVersion, required=False, allow_null=True, default=None
    )
    prediction_batch_id = ScopedPrimaryKey(
        PredictionBatch, required=False, allow_null=True, default=None
    )
    background_rows = serializers.IntegerField(
        required=False, default=100, min_value=1, max_value=services.MAX_BACKGROUND_ROWS
    )


# The operation id this list had before it moved onto the shared base; clients use it.
@extend_schema_view(get=extend_schema(operation_id="explanations_list"))
class ExplanationListCreateView(RecordListView):
    model, out, serializer_class = Explanation, ExplanationOut, ExplanationOut
    filters = {
        "status": "status",
        "model_version": "model_version_id",
        "prediction_batch": "prediction_batch_id",
        "dataset_version": "dataset_version_id",
    }

    @extend_schema(request=ExplanationIn, responses={201: ExplanationOut})
    def post(self, request: Request) -> Response:
        data = validated(ExplanationIn, request)
        explanation, receipt = services.explanation_request(
            actor=self.principal,
            model_version=data["model_version_id"],
            dataset_version=data["dataset_version_id"],
            prediction_batch=data["prediction_batch_id"],
            background_rows=data["background_rows"],
        )
        return receipt_response(ExplanationOut(explanation).data, receipt)


class ExplanationDetailView(RecordDetailView):
    model, out, serializer_class = Explanation, ExplanationOut, ExplanationOut


class ExplanationValuesView(RecordView):
    """The per-row values: .npy, float32 [rows, features + 1], base value last."""

    model, serializer_class = Explanation, ExplanationOut

    @extend_schema(responses={(200, "application/x-npy"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> Any:
        explanation = self.get_object()
        if explanation.values_artifact is None:
            raise RuleViolation(f"Explanation {explanation.pk} is {explanation.status}; no values.")
        response = FileResponse(
            explanation.values_artifact.file.open("rb"),
            content_type="application/x-npy",
            as_attachment=True,
            filename=f"explanation-{explanation.pk}-values.npy",
        )
        response["Digest-SHA256"] = explanation.values_sha256
        return response
