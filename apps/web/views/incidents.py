"""The incident desk (Art. 73): open incidents with the time left to each reporting
deadline, and one incident's report stages (initial, follow-up, final, authority
informed, closed) with the forms that move it on.

Deadlines are computed on the server (the incident's record); the page shows them as
text, and a small static script (static/js/countdown.js) only counts down to them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.compliance import rules
from apps.compliance import selectors as compliance_selectors
from apps.compliance import services as compliance_services
from apps.web.views.base import add_service_error, member_required
from audit_platform.errors import ServiceError
from audit_platform.principal import Principal
from audit_platform.roles import Capability

REPORT_KINDS = [("initial", "Initial"), ("follow_up", "Follow-up"), ("final", "Final")]


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label="Stage", choices=REPORT_KINDS)
    content = forms.CharField(label="Report", widget=forms.Textarea(attrs={"rows": 4}))
    root_cause = forms.CharField(
        label="Root cause (final report)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    corrective_actions = forms.CharField(
        label="Corrective actions (final report)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class InformedForm(forms.Form):
    informed_at = forms.DateTimeField(
        label="Authority informed at (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    member_state = forms.ChoiceField(
        label="Member State",
        required=False,
        choices=[("", "as recorded")] + [(c, c) for c in rules.EU_MEMBER_STATES],
    )
    receiving_authority = forms.CharField(
        label="Receiving authority", required=False, max_length=300
    )


class CloseForm(forms.Form):
    confirm = forms.BooleanField(label="I confirm the incident is closed", required=True)


_FORMS: dict[str, type[forms.Form]] = {
    "report": ReportForm,
    "informed": InformedForm,
    "close": CloseForm,
}


def stages(incident: Any) -> list[dict[str, Any]]:
    """The Art. 73 stages in order, each done (with when) or not yet."""
    filed = {report.kind: report for report in incident.reports.all()}
    rows = [
        {
            "name": label + " report",
            "done": kind in filed,
            "at": filed[kind].created_at if kind in filed else None,
            "seq": filed[kind].ledger_seq if kind in filed else None,
        }
        for kind, label in REPORT_KINDS
    ]
    rows.append(
        {
            "name": "Authority informed",
            "done": incident.authority_informed_at is not None,
            "at": incident.authority_informed_at,
            "seq": None,
        }
    )
    rows.append(
        {
            "name": "Closed",
            "done": incident.closed_at is not None,
            "at": incident.closed_at,
            "seq": None,
        }
    )
    return rows


@member_required
def desk(request: HttpRequest) -> HttpResponse:
    principal = request.member.principal
    incidents = list(
        compliance_selectors.incidents_of_organization(
            organization=principal.organization, open_only=True
        )
    )
    for incident in incidents:
        incident.stages = stages(incident)
    return render(
        request,
        "web/incidents/desk.html",
        {"incidents": incidents, "now": timezone.now(), "principal": principal},
    )


def _incident(principal: Principal, pk: Any) -> Any:
    incident = compliance_selectors.incident_of_organization(
        organization=principal.organization, pk=pk
    )
    if incident is None:
        raise Http404("No such incident in this organization.")
    return incident


def _detail_context(
    principal: Principal, incident: Any, bound: dict[str, forms.Form] | None = None
) -> dict[str, Any]:
    bound = bound or {}
    return {
        "incident": incident,
        "principal": principal,
        "now": timezone.now(),
        "stages": stages(incident),
        "deadlines": compliance_selectors.incident_deadlines(incident=incident),
        "can_comply": principal.can(Capability.COMPLY),
        "forms": {name: bound.get(name) or cls(prefix=name) for name, cls in _FORMS.items()},
    }


@member_required
def incident_page(request: HttpRequest, pk: Any) -> HttpResponse:
    principal = request.member.principal
    incident = _incident(principal, pk)
    return render(request, "web/incidents/detail.html", _detail_context(principal, incident))


@require_POST
@member_required(write=Capability.COMPLY)
def incident_action(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    principal = request.member.principal
    incident = _incident(principal, pk)
    if action not in _FORMS:
        raise Http404("No such action.")
    form = _FORMS[action](request.POST, prefix=action)
    status = 400
    if form.is_valid():
        try:
            _apply(principal, incident, action, form.cleaned_data)
        except ServiceError as exc:
            add_service_error(form, exc)
            status = exc.status
        else:
            return redirect(reverse("web:incident", args=[incident.pk]))
    return render(
        request,
        "web/incidents/detail.html",
        _detail_context(principal, incident, {action: form}),
        status=status,
    )


def _apply(principal: Principal, incident: Any, action: str, data: dict[str, Any]) -> None:
    if action == "report":
        compliance_services.incident_report_add(actor=principal, incident=incident, **data)
    elif action == "informed":
        compliance_services.incident_authority_informed(
            actor=principal,
            incident=incident,
            informed_at=data["informed_at"],
            member_state=data["member_state"],
            receiving_authority=data["receiving_authority"],
        )
    else:
        compliance_services.incident_close(actor=principal, incident=incident)
