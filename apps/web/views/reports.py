"""Reports: generate one (its rendering's progress shown in place), the list with
downloads, and "verify a PDF": upload a file and read, in words, whether it is exactly
a report generated here."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from apps.registry import selectors as registry_selectors
from apps.reports import selectors as report_selectors
from apps.reports import services as report_services
from apps.reports.models import Report
from apps.reports.views import pdf_response
from apps.web.templatetags.web import local_time
from apps.web.views.base import add_service_error, member_required
from audit_platform.errors import ServiceError
from audit_platform.roles import Capability

REPORTS_PER_PAGE = 25


class GenerateForm(forms.Form):
    """What a report is about. Which fields a kind needs is the service's to say: a
    missing one comes back next to its field."""

    kind = forms.ChoiceField(label="Kind", choices=Report.Kind.choices)
    system_id = forms.ChoiceField(label="AI system", required=False)
    model_version_id = forms.ChoiceField(
        label="Model version",
        required=False,
        help_text="A model card's version; for other documents about a system, the version "
        "covered (else the one serving).",
    )
    time_from = forms.DateTimeField(
        label="From (UTC)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Audit trails and post-market reports cover a time range.",
    )
    time_to = forms.DateTimeField(
        label="To (UTC)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    stage = forms.ChoiceField(
        label="Stage (serious-incident reports)",
        required=False,
        choices=[("", "—"), *((s, s.replace("_", "-")) for s in report_services.STAGES)],
    )
    signatory_name = forms.CharField(label="Signatory (declarations)", required=False)
    signatory_function = forms.CharField(label="Signatory's function", required=False)
    place_of_issue = forms.CharField(label="Place of issue", required=False)

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.systems = registry_selectors.systems_of_organization(organization=organization)
        self.versions = registry_selectors.model_versions_of_organization(organization=organization)
        self.fields["system_id"].choices = [("", "—")] + [(str(s.pk), s.name) for s in self.systems]
        self.fields["model_version_id"].choices = [("", "—")] + [
            (str(v.pk), f"{v.model.system.name}: {v.model.name} {v.version}") for v in self.versions
        ]

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        signatory = {name: data[name] for name in report_services.SIGNATORY_FIELDS}
        return {
            "kind": data["kind"],
            "system": self.systems.filter(pk=data["system_id"]).first()
            if data["system_id"]
            else None,
            "model_version": self.versions.filter(pk=data["model_version_id"]).first()
            if data["model_version_id"]
            else None,
            "time_from": data["time_from"],
            "time_to": data["time_to"],
            "stage": data["stage"] or None,
            "signatory": signatory if any(signatory.values()) else None,
        }


class VerifyForm(forms.Form):
    file = forms.FileField(label="PDF to verify")


class ReportTable(tables.Table):
    pk = tables.Column(verbose_name="#")
    kind = tables.Column(verbose_name="Kind")
    about = tables.Column(verbose_name="About", accessor="subject_id", orderable=False)
    status = tables.Column(verbose_name="Status")
    created_at = tables.Column(verbose_name="Requested")
    sha256 = tables.Column(verbose_name="SHA-256")
    download = tables.Column(verbose_name="PDF", accessor="pk", orderable=False)

    class Meta:
        orderable = False
        attrs = {"class": "reports"}

    def render_kind(self, record: Report) -> str:
        return record.get_kind_display()

    def render_about(self, record: Report) -> str:
        return record.system.name if record.system else f"{record.subject_kind} {record.subject_id}"

    def render_status(self, record: Report) -> str:
        if record.failure_reason:
            return f"{record.status}: {record.failure_reason}"
        return record.status

    def render_created_at(self, value: Any) -> str:
        return local_time(value)

    def render_sha256(self, value: str) -> str:
        return format_html('<code class="digest" title="{}">{}…</code>', value, value[:16])

    def render_download(self, record: Report) -> str:
        if record.status != Report.Status.SUCCEEDED:
            return "—"
        return format_html('<a href="{}">download</a>', reverse("web:report-pdf", args=[record.pk]))


def _page(request: HttpRequest, **bound: Any) -> dict[str, Any]:
    organization = request.member.organization
    table = ReportTable(report_selectors.reports_of_organization(organization=organization))
    tables.RequestConfig(request, paginate={"per_page": REPORTS_PER_PAGE}).configure(table)
    initial = {"system_id": request.GET.get("system", "")}
    return {
        "table": table,
        "generate_form": bound.get("generate_form")
        or GenerateForm(organization=organization, initial=initial),
        "verify_form": bound.get("verify_form") or VerifyForm(),
        "verification": bound.get("verification"),
        "can_generate": request.member.can(Capability.RECORD),
    }


@member_required
def report_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/reports/list.html", _page(request))


@require_POST
@member_required(write=Capability.RECORD)
def generate(request: HttpRequest) -> HttpResponse:
    form = GenerateForm(request.POST, organization=request.member.organization)
    status = 400
    if form.is_valid():
        try:
            report, _ = report_services.report_request(
                actor=request.member.principal, **form.service_arguments()
            )
        except ServiceError as exc:
            add_service_error(form, exc)
            status = exc.status
        else:
            if request.htmx:
                return render(
                    request, "web/reports/_generate.html", {**_page(request), "started": report}
                )
            return redirect("web:report-progress", pk=report.pk)
    template = "web/reports/_generate.html" if request.htmx else "web/reports/list.html"
    return render(request, template, _page(request, generate_form=form), status=status)


def _report(request: HttpRequest, pk: Any) -> Report:
    report = report_selectors.report_of_organization(
        organization=request.member.organization, pk=pk
    )
    if report is None:
        raise Http404("No such report in this organization.")
    return report


@member_required
def progress(request: HttpRequest, pk: Any) -> HttpResponse:
    """How far the report's rendering got: a fragment that polls itself with htmx until
    the report succeeded or failed, or the whole page without."""
    report = _report(request, pk)
    template = "web/reports/_progress.html" if request.htmx else "web/reports/progress.html"
    return render(request, template, {"report": report})


@member_required
def pdf(request: HttpRequest, pk: Any) -> FileResponse:
    report = report_selectors.report_pdf_of_organization(
        organization=request.member.organization, pk=pk
    )
    if report is None:
        raise Http404("No such report with a PDF in this organization.")
    return pdf_response(report)


@require_POST
@member_required(write=Capability.READ)
def verify(request: HttpRequest) -> HttpResponse:
    """Reading the file changes nothing: any member may ask whether a PDF is ours."""
    form = VerifyForm(request.POST, request.FILES)
    verification = None
    if form.is_valid():
        verification = report_selectors.report_verification(
            organization=request.member.organization, file=form.cleaned_data["file"]
        )
    template = "web/reports/_verify.html" if request.htmx else "web/reports/list.html"
    return render(
        request,
        template,
        _page(request, verify_form=form, verification=verification),
        status=200 if form.is_valid() else 400,
    )
