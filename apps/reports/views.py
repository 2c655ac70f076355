"""The reports pages of the web UI: a signed-in member lists the reports of the
organizations they belong to and downloads them. Requesting and verifying go through
the API (and its interactive docs)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.reports.models import Report
from apps.tenancy.models import Membership
from audit_platform.roles import ROLE_CAPABILITIES, Capability


def _readable_organizations(request: HttpRequest) -> list[int]:
    return [
        organization_id
        for organization_id, role in Membership.objects.filter(user=request.user).values_list(
            "organization_id", "role"
        )
        if Capability.READ in ROLE_CAPABILITIES.get(role, frozenset())
    ]


@login_required
def report_list_page(request: HttpRequest) -> HttpResponse:
    reports = (
        Report.objects.filter(organization_id__in=_readable_organizations(request))
        .select_related("organization", "system")
        .order_by("-created_at")[:200]
    )
    return render(request, "reports/ui_list.html", {"reports": reports})


@login_required
def report_pdf_page(request: HttpRequest, pk: int) -> FileResponse:
    report = Report.objects.filter(
        pk=pk,
        organization_id__in=_readable_organizations(request),
        status=Report.Status.SUCCEEDED,
    ).first()
    if report is None or not report.pdf:
        raise Http404("No such report.")
    return FileResponse(
        report.pdf.open("rb"),
        as_attachment=True,
        filename=f"{report.kind}-{report.pk}.pdf",
        content_type="application/pdf",
    )
