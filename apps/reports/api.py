"""``/api/v1/reports/``: request, list, read and download reports, and verify a PDF.

Requesting needs RECORD (declarations of conformity and serious-incident reports
need COMPLY, checked by the service); reading and downloading need READ; verifying
needs VERIFY, so auditors can check a file they were handed.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from drf_spectacular.utils import OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.ledger.digests import stream_sha256
from apps.registry.models import AISystem, ModelVersion, PredictionBatch
from apps.reports import selectors, services
from apps.reports.models import Report
from apps.reports.views import pdf_response
from audit_platform.api import StrictSerializer
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.parsers import StrictJSONParser
from audit_platform.roles import Capability
from audit_platform.views import RecordDetailView, RecordListView, RecordView, receipt_response

SHA256_PATTERN = r"^[0-9a-f]{64}$"


class ReportOut(serializers.ModelSerializer):
    subject = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()
    task = serializers.UUIDField(source="task_id", allow_null=True)

    class Meta:
        model = Report
        fields = [
            "id",
            "kind",
            "subject",
            "system",
            "model_version",
            "params",
            "status",
            "failure_reason",
            "task",
            "requested_by",
            "requested_seq",
            "sha256",
            "size_bytes",
            "page_count",
            "cited_seqs",
            "checkpoint_size",
            "ledger_seq",
            "created_at",
            "generated_at",
            "pdf_url",
        ]

    def get_subject(self, report: Report) -> dict[str, str]:
        return {"kind": report.subject_kind, "id": report.subject_id}

    def get_pdf_url(self, report: Report) -> str | None:
        if report.status != Report.Status.SUCCEEDED:
            return None
        return f"/api/v1/reports/{report.pk}/pdf"


class ReportIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=Report.Kind.choices)
    system_id = serializers.UUIDField(required=False)
    model_version_id = serializers.UUIDField(required=False)
    time_from = serializers.DateTimeField(required=False)
    time_to = serializers.DateTimeField(required=False)
    stage = serializers.ChoiceField(choices=services.STAGES, required=False)
    incident_id = serializers.UUIDField(
        required=False,
        help_text="serious_incident only: the incident to report (one of system_id's); "
        "default: the system's latest.",
    )
    signatory_name = serializers.CharField(
        required=False, max_length=200, help_text="declaration_of_conformity: who signs it."
    )
    signatory_function = serializers.CharField(
        required=False, max_length=200, help_text="declaration_of_conformity: their function."
    )
    place_of_issue = serializers.CharField(
        required=False, max_length=200, help_text="declaration_of_conformity: where issued."
    )
    prediction_batch_id = serializers.UUIDField(
        required=False,
        help_text="decision_explanation: the prediction batch of the decision explained.",
    )
    row = serializers.IntegerField(
        required=False, min_value=0, help_text="decision_explanation: the decision's row."
    )


# The operation id this list had before it moved onto the shared base; clients use it.
@extend_schema_view(get=extend_schema(operation_id="reports_list"))
class ReportListCreateView(RecordListView):
    model, out, serializer_class = Report, ReportOut, ReportOut
    filters = {"kind": "kind", "status": "status", "system": "system_id", "sha256": "sha256"}

    @extend_schema(request=ReportIn, responses={201: ReportOut})
    def post(self, request: Request) -> Response:
        incoming = ReportIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        # Another organization's system or model version reads as not found (404).
        if "system_id" in data:
            data["system"] = self.scoped_get(AISystem, data.pop("system_id"))
        if "model_version_id" in data:
            data["model_version"] = self.scoped_get(ModelVersion, data.pop("model_version_id"))
        if "prediction_batch_id" in data:
            data["prediction_batch"] = self.scoped_get(
                PredictionBatch, data.pop("prediction_batch_id")
            )
        signatory = {name: data.pop(name) for name in services.SIGNATORY_FIELDS if name in data}
        report, receipt = services.report_request(actor=self.principal, signatory=signatory, **data)
        # 202 while the rendering is still to come; once finished (in-process), 201 with
        # the report as it stands: succeeded with its PDF link, or failed with the reason.
        pending = report.status in (Report.Status.QUEUED, Report.Status.RUNNING)
        return receipt_response(
            ReportOut(report).data, receipt, status_code=202 if pending else 201
        )


class ReportDetailView(RecordDetailView):
    model, out, serializer_class = Report, ReportOut, ReportOut


class ReportRecordsView(RecordView):
    """The records a generated report was made from, as JSON: its ``records.json``,
    read from the signed PDF itself (a decision explanation's JSON, for instance)."""

    model, serializer_class = Report, ReportOut

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: int) -> Response:
        report = self.get_object()
        if report.status != Report.Status.SUCCEEDED or not report.pdf:
            raise RuleViolation(f"Report {report.pk} is {report.status}: it has no records yet.")
        return Response(selectors.report_records(report=report))


class ReportDownloadView(RecordView):
    model, serializer_class = Report, ReportOut

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> FileResponse:
        report = self.get_object()
        if report.status != Report.Status.SUCCEEDED or not report.pdf:
            raise RuleViolation(
                f"Report {report.pk} is {report.status}: there is no PDF to download."
            )
        response = pdf_response(report)
        response["X-Content-SHA256"] = report.sha256
        return response


class PdfParser(BaseParser):
    """A raw ``application/pdf`` body, hashed as it streams in (never held whole)."""

    media_type = "application/pdf"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        digest, size = stream_sha256(stream or io.BytesIO())
        return {"_pdf_sha256": digest, "_pdf_size": size}


class VerifyIn(StrictSerializer):
    file = serializers.FileField(required=False, help_text="The PDF (multipart).")
    sha256 = serializers.RegexField(SHA256_PATTERN, required=False)


class VerifiedReportOut(serializers.Serializer):
    id = serializers.UUIDField(source="pk")
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    subject = serializers.SerializerMethodField()
    generated_at = serializers.DateTimeField(allow_null=True)
    generated_by = serializers.JSONField(source="requested_by")
    ledger_seq = serializers.IntegerField(allow_null=True)
    checkpoint_size = serializers.IntegerField()
    size_bytes = serializers.IntegerField()

    def get_subject(self, report: Report) -> dict[str, str]:
        return {"kind": report.subject_kind, "id": report.subject_id}


class VerifyOut(serializers.Serializer):
    sha256 = serializers.CharField()
    known = serializers.BooleanField()
    message = serializers.CharField()
    report = VerifiedReportOut(allow_null=True)
    proof_url = serializers.CharField(allow_null=True)


class ReportVerifyView(RecordView):
    model = Report
    write_capability = Capability.VERIFY
    parser_classes = [MultiPartParser, PdfParser, StrictJSONParser]
    serializer_class = VerifyOut
    answers_with_receipt = False  # verifying reads; it records nothing

    @extend_schema(
        request={"multipart/form-data": VerifyIn, "application/json": VerifyIn},
        responses={200: VerifyOut},
    )
    def post(self, request: Request) -> Response:
        digest, uploaded = self._digest_or_file(request.data)
        verification = selectors.report_verification(
            organization=self.principal.organization, sha256=digest, file=uploaded
        )
        return Response(VerifyOut(verification).data)

    @staticmethod
    def _digest_or_file(data: Any) -> tuple[str | None, UploadedFile | None]:
        """What to verify, from whichever form the body took: a raw PDF (hashed as it
        arrived), a multipart file, or a digest. A file wins over a digest sent with it."""
        if "_pdf_sha256" in data:
            if not data["_pdf_size"]:
                raise InvalidInput("The body is empty.", fields={"file": ["Empty."]})
            return data["_pdf_sha256"], None
        incoming = VerifyIn(data=data)
        incoming.is_valid(raise_exception=True)
        uploaded = incoming.validated_data.get("file")
        if uploaded is not None:
            return None, uploaded
        digest = incoming.validated_data.get("sha256")
        if digest is None:
            raise InvalidInput(
                "Send the PDF (multipart 'file' or an application/pdf body) or its sha256.",
                fields={"file": ["Required unless sha256 is given."]},
            )
        return digest, None
