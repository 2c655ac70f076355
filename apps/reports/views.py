"""The report's PDF as a download: one response for the UI, the admin and the API."""

from __future__ import annotations

from django.http import FileResponse

from apps.reports.models import Report


def pdf_response(report: Report) -> FileResponse:
    """The report's signed PDF as a download, the same from the UI, the admin and the API."""
    return FileResponse(
        report.pdf.open("rb"),
        as_attachment=True,
        filename=f"{report.kind}-{report.pk}.pdf",
        content_type="application/pdf",
    )
