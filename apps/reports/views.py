"""The reports pages of the web UI: a signed-in member lists the reports of the
organizations they belong to and downloads them. Requesting and verifying go through
the API (and its interactive docs)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.reports import selectors
from apps.reports.models import Report


@login_required
def report_list_page(request: HttpRequest) -> HttpResponse:
    reports = (
        selectors.reports_readable_by(user=request.user)
        .select_related("organization", "system")
        .order_by("-created_at")[:200]
    )
    return render(request, "reports/ui_list.html", {"reports": reports})


@login_required
def report_pdf_page(request: HttpRequest, pk: int) -> FileResponse:
    report = selectors.report_pdf_readable_by(user=request.user, pk=pk)
    if report is None:
        raise Http404("No such report.")
    return pdf_response(report)


def pdf_response(report: Report) -> FileResponse:
    """The report's signed PDF as a download, the same from the UI, the admin and the API."""
    return FileResponse(
        report.pdf.open("rb"),
        as_attachment=True,
        filename=f"{report.kind}-{report.pk}.pdf",
        content_type="application/pdf",
    )
