"""The approvals inbox (Art. 14): requests waiting for a decision, requesting approval
of a version for a deployment, and approving or rejecting one. A refusal (separation
of duties, role, a request no longer open) is shown in the service's words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.compliance import selectors as compliance_selectors
from apps.compliance import services as compliance_services
from apps.registry import selectors as registry_selectors
from apps.web.views.base import add_service_error, member_required
from audit_platform.errors import ServiceError
from audit_platform.principal import Principal
from audit_platform.roles import Capability

DECIDED_SHOWN = 25


class DecideForm(forms.Form):
    comment = forms.CharField(
        label="Comment (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RequestForm(forms.Form):
    model_version = forms.TypedChoiceField(label="Model version", coerce=str)
    reason = forms.CharField(
        label="Why this version (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, versions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model_version"].choices = [
            (str(v.pk), f"{v.model.name} {v.version}") for v in versions
        ]


def _inbox_context(principal: Principal, bound: dict[Any, Any] | None = None) -> dict[str, Any]:
    organization = principal.organization
    pending = list(
        compliance_selectors.approval_requests_of_organization(
            organization=organization, status="pending"
        )
    )
    for request in pending:
        request.form = (bound or {}).get(request.pk) or DecideForm(prefix=f"r{request.pk}")
        request.mine = request.requested_by_user_id == principal.person_id
    decided = compliance_selectors.approval_requests_of_organization(
        organization=organization
    ).exclude(status="pending")[:DECIDED_SHOWN]
    return {
        "principal": principal,
        "can_decide": principal.can(Capability.COMPLY),
        "pending": pending,
        "decided": decided,
        "required": compliance_selectors.required_approvals(),
    }


@member_required
def inbox(request: HttpRequest) -> HttpResponse:
    principal = request.member.principal
    return render(request, "web/approvals/inbox.html", _inbox_context(principal))


@require_POST
@member_required(write=Capability.COMPLY)
def decide(request: HttpRequest, pk: Any, decision: str) -> HttpResponse:
    principal = request.member.principal
    approval = compliance_selectors.approval_request_of_organization(
        organization=principal.organization, pk=pk
    )
    if approval is None or decision not in ("approve", "reject"):
        raise Http404("No such approval request in this organization.")
    form = DecideForm(request.POST, prefix=f"r{approval.pk}")
    status = 400
    if form.is_valid():
        try:
            compliance_services.approval_decide(
                actor=principal,
                request=approval,
                decision=decision,
                comment=form.cleaned_data["comment"],
            )
        except ServiceError as exc:
            add_service_error(form, exc)
            status = exc.status
        else:
            if not request.htmx:
                return redirect("web:approvals")
            return render(request, "web/approvals/_inbox.html", _inbox_context(principal))
    template = "web/approvals/_inbox.html" if request.htmx else "web/approvals/inbox.html"
    return render(
        request, template, _inbox_context(principal, bound={approval.pk: form}), status=status
    )


@member_required(write=Capability.RECORD)
def request_approval(request: HttpRequest, deployment_pk: Any) -> HttpResponse:
    """Asks for approval of one of the system's versions on this deployment."""
    principal = request.member.principal
    deployment = registry_selectors.record_of_organization(
        organization=principal.organization, kind="deployment", pk=deployment_pk
    )
    if deployment is None:
        raise Http404("No such deployment in this organization.")
    versions = registry_selectors.model_versions_of_system(system=deployment.system)
    form = RequestForm(request.POST or None, versions=versions)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                compliance_services.approval_request_create(
                    actor=principal,
                    deployment=deployment,
                    model_version=versions.get(pk=form.cleaned_data["model_version"]),
                    reason=form.cleaned_data["reason"],
                )
            except ServiceError as exc:
                add_service_error(form, exc)
                status = exc.status
            else:
                return redirect(reverse("web:approvals"))
    return render(
        request,
        "web/approvals/request.html",
        {"deployment": deployment, "form": form, "principal": principal},
        status=status,
    )
