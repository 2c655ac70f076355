"""Reports in the admin: listed, read and downloaded; never edited (the ledger has
recorded them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html

from apps.reports.models import Report, SigningCertificate
from apps.reports.views import pdf_response
from audit_platform.admin import ReadOnlyAdmin


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "organization", "subject", "status", "created_at", "download"]
    list_filter = ["kind", "status", "organization"]
    search_fields = ["sha256", "subject_id"]
    readonly_fields = [f.name for f in Report._meta.fields] + ["download"]

    @admin.display(description="subject")
    def subject(self, report: Report) -> str:
        return f"{report.subject_kind}/{report.subject_id}"

    @admin.display(description="PDF")
    def download(self, report: Report) -> str:
        if report.status != Report.Status.SUCCEEDED or not report.pdf:
            return "—"
        url = reverse("admin:reports_report_pdf", args=[report.pk])
        return format_html('<a href="{}">download</a>', url)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<uuid:pk>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="reports_report_pdf",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request: HttpRequest, pk: int) -> FileResponse:
        report = Report.objects.filter(pk=pk, status=Report.Status.SUCCEEDED).first()
        if report is None or not report.pdf or not self.has_view_permission(request, report):
            raise Http404("No PDF for this report.")
        return pdf_response(report)


@admin.register(SigningCertificate)
class SigningCertificateAdmin(admin.ModelAdmin):
    list_display = ["organization", "fingerprint_sha256", "self_signed", "created_at"]
    exclude = ["private_key_encrypted"]
    readonly_fields = ["organization", "certificate_pem", "fingerprint_sha256", "self_signed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
