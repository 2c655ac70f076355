"""``/api/v1/prediction-batches/run``, ``.../{id}/output`` and row receipts."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.inference import selectors, services
from apps.registry.api import PredictionBatchOut
from apps.registry.models import Artifact, Deployment, ModelVersion, PredictionBatch
from audit_platform.api import StrictSerializer
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.views import RecordView, ScopedPrimaryKey, validated


class PredictionBatchRunIn(StrictSerializer):
    deployment_id = ScopedPrimaryKey(Deployment)
    input_sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$", help_text="An input file (Parquet or CSV) uploaded to artifacts/."
    )
    model_version_id = ScopedPrimaryKey(
        ModelVersion,
        required=False,
        allow_null=True,
        default=None,
        help_text="Must be the version the deployment serves; checked, not chosen.",
    )


class PredictionBatchRunOut(PredictionBatchOut):
    task_id = serializers.UUIDField(source="task.pk", read_only=True)

    class Meta(PredictionBatchOut.Meta):
        fields = [*PredictionBatchOut.Meta.fields, "task_id"]


class PredictionBatchRunView(RecordView):
    """Asks a gpu-queue worker to score an uploaded input file with the model
    version the deployment serves; follow it at ``tasks/{task_id}``."""

    model, serializer_class = PredictionBatch, PredictionBatchRunOut

    @extend_schema(request=PredictionBatchRunIn, responses={201: PredictionBatchRunOut})
    def post(self, request: Request) -> Response:
        data = validated(PredictionBatchRunIn, request)
        artifact = self.in_scope(Artifact).filter(sha256=data["input_sha256"]).first()
        if artifact is None:
            raise InvalidInput(
                "Upload the input file to /api/v1/artifacts/ first.",
                fields={"input_sha256": ["No uploaded artifact has this digest."]},
            )
        batch, receipt, _task = services.batch_run_request(
            actor=self.principal,
            deployment=data["deployment_id"],
            input_artifact=artifact,
            model_version=data["model_version_id"],
        )
        batch.refresh_from_db()
        return Response(
            {**PredictionBatchRunOut(batch).data, "ledger": receipt.as_json()}, status=201
        )


class PredictionBatchOutputView(RecordView):
    """The batch's output file (Parquet), as scored by our worker."""

    model, serializer_class = PredictionBatch, PredictionBatchOut

    @extend_schema(responses={(200, "application/vnd.apache.parquet"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> Any:
        batch = self.scoped_get(PredictionBatch, pk)
        if batch.output_artifact is None:
            raise RuleViolation(f"Prediction batch {batch.pk} is {batch.status}; it has no output.")
        response = FileResponse(
            batch.output_artifact.file.open("rb"),
            content_type="application/vnd.apache.parquet",
            as_attachment=True,
            filename=f"prediction-batch-{batch.pk}-output.parquet",
        )
        response["Digest-SHA256"] = batch.output_artifact.sha256
        return response


class RowReceiptOut(serializers.Serializer):
    format = serializers.CharField()
    prediction_batch = serializers.UUIDField()
    row = serializers.IntegerField()
    rows = serializers.IntegerField()
    rows_root = serializers.CharField()
    leaf = serializers.CharField(help_text="base64 of the row's leaf bytes (spec §6)")
    leaf_json = serializers.JSONField()
    inclusion_proof = serializers.ListField(child=serializers.CharField())
    entry_seq = serializers.IntegerField()
    entry = serializers.JSONField()
    tlog_proof = serializers.CharField(help_text="C2SP tlog-proof of the batch's entry (§7)")


class RowReceiptView(RecordView):
    """One decision's proof, for ``python -m apps.ledger.offline_verifier receipt``."""

    model, serializer_class = PredictionBatch, RowReceiptOut

    @extend_schema(responses=RowReceiptOut)
    def get(self, request: Request, pk: int, n: int) -> Response:
        batch = self.scoped_get(PredictionBatch, pk)
        return Response(selectors.row_receipt(batch=batch, row=n))
