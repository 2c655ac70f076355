"""The AI system pages: the list, and one system at a glance (classification,
obligations and gaps, risks, model versions and their lineage, deployments with their
timeline and the activate, roll back and stop actions, assessments, reports)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.compliance import selectors as compliance_selectors
from apps.compliance import services as compliance_services
from apps.monitoring import selectors as monitoring_selectors
from apps.registry import selectors as registry_selectors
from apps.registry import services as registry_services
from apps.registry.lifecycle import STATUS_TRANSITIONS, status_label
from apps.reports import selectors as report_selectors
from apps.web.views.assessments import SignForm, signing_rows
from apps.web.views.base import add_service_error, member_required, one_of
from audit_platform.errors import ServiceError
from audit_platform.principal import Principal
from audit_platform.roles import Capability

# The period the monitoring charts cover, up to now.
MONITORING_DAYS = 90
# How many of a system's model versions the page lists (newest first); the versions'
# own pages and the API list every one.
VERSIONS_SHOWN = 25


@member_required
def system_list(request: HttpRequest) -> HttpResponse:
    principal = request.member.principal
    systems = registry_selectors.systems_of_organization(organization=principal.organization)
    return render(request, "web/systems/list.html", {"systems": systems, "principal": principal})


def _system(principal: Principal, pk: Any) -> Any:
    system = registry_selectors.system_of_organization(organization=principal.organization, pk=pk)
    if system is None:
        raise Http404("No such AI system in this organization.")
    return system


class ActivateForm(forms.Form):
    model_version = forms.TypedChoiceField(label="Model version", coerce=str)
    reason = forms.CharField(label="Reason", required=False, max_length=2000)

    def __init__(self, *args: Any, versions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model_version"].choices = [
            (str(v.pk), f"{v.model.name} {v.version}") for v in versions
        ]


class ConfirmedReasonForm(forms.Form):
    """A change that takes a served version away: the reason goes on the record, and
    the person confirms (no JavaScript dialog needed)."""

    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(label="I confirm", required=True)


class StatusForm(forms.Form):
    """Moving the system along its lifecycle: only the moves it allows from where it is,
    with the reason that goes on the record."""

    status = forms.ChoiceField(label="New status")
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, system: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix="lifecycle", **kwargs)
        # In lifecycle order, so the next step is offered first and "retired" last.
        allowed = STATUS_TRANSITIONS[system.status]
        self.fields["status"].choices = [
            (status, status_label(status)) for status in type(system).Status if status in allowed
        ]


def _deployment_forms(deployments: list[Any], versions: list[Any], bound: dict[str, Any]) -> None:
    for deployment in deployments:
        prefix = f"d{deployment.pk}"
        deployment.forms = {
            "activate": bound.get(("activate", deployment.pk))
            or ActivateForm(prefix=f"{prefix}-activate", versions=versions),
            "rollback": bound.get(("rollback", deployment.pk))
            or ConfirmedReasonForm(prefix=f"{prefix}-rollback"),
            "stop": bound.get(("stop", deployment.pk))
            or ConfirmedReasonForm(prefix=f"{prefix}-stop"),
        }


def _deployments_context(
    principal: Principal, system: Any, bound: dict[str, Any] | None = None
) -> dict[str, Any]:
    versions = list(registry_selectors.model_versions_of_system(system=system))
    deployments = list(registry_selectors.deployments_of_system(system=system))
    _deployment_forms(deployments, versions, bound or {})
    return {
        "system": system,
        "principal": principal,
        "can_record": principal.can(Capability.RECORD),
        "deployments": deployments,
        "timeline": list(registry_selectors.deployment_timeline(system=system)[:50]),
    }


# Which gaps come first: what is due now before what applies later.
_GAP_ORDER = {"prohibited": 0, "overdue": 1, "missing": 2, "upcoming": 3}


def _gaps(obligations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The obligations without evidence, the most pressing first, each by its date."""
    gaps = [item for item in obligations if item["status"] != "evidenced"]
    return sorted(gaps, key=lambda item: (_GAP_ORDER.get(item["status"], 9), item["applies_from"]))


def _page_context(
    principal: Principal, system: Any, *, bound_signature: SignForm | None = None
) -> dict[str, Any]:
    versions = registry_selectors.model_versions_of_system(system=system)
    checklist = compliance_selectors.obligations_for_system(system=system)
    now = timezone.now()
    return {
        **_deployments_context(principal, system),
        "classification": compliance_selectors.classification_current(system=system),
        "classification_pending": compliance_selectors.classification_pending(system=system),
        "checklist": checklist["obligations"],
        "gaps": _gaps(checklist["obligations"]),
        "evidenced": sum(1 for item in checklist["obligations"] if item["status"] == "evidenced"),
        "status_counts": sorted(
            Counter(
                item["status"] for item in checklist["obligations"] if item["status"] != "evidenced"
            ).items()
        ),
        "risks": compliance_selectors.risks_of_system(system=system).select_related("owner"),
        "versions": list(versions[:VERSIONS_SHOWN]),
        "versions_total": versions.count(),
        "assessments": signing_rows(
            principal=principal,
            assessments=list(
                compliance_selectors.assessments_completed(system=system).prefetch_related(
                    "signatures"
                )[:25]
            ),
            bound=bound_signature,
        ),
        "incidents": compliance_selectors.incidents_of_system(system=system)[:10],
        "reports": report_selectors.reports_of_system(system=system)[:25],
        "status_form": StatusForm(system=system) if STATUS_TRANSITIONS[system.status] else None,
        "monitoring": monitoring_selectors.system_monitoring(
            system=system, time_from=now - timedelta(days=MONITORING_DAYS), time_to=now
        ),
        "monitoring_days": MONITORING_DAYS,
    }


@member_required
def system_page(request: HttpRequest, pk: Any) -> HttpResponse:
    principal = request.member.principal
    system = _system(principal, pk)
    return render(request, "web/systems/detail.html", _page_context(principal, system))


_ACTIONS = ("activate", "rollback", "stop")


@require_POST
@member_required(write=Capability.RECORD)
def deployment_action(
    request: HttpRequest, pk: Any, deployment_pk: Any, action: str
) -> HttpResponse:
    """Activate a version, roll back or stop, from the system page. With htmx the
    deployments section is swapped in place; without, the page is shown again (after a
    change, by a redirect so that reloading does not post twice)."""
    principal = request.member.principal
    system = _system(principal, pk)
    if action not in _ACTIONS:
        raise Http404("No such action.")
    deployment = next(
        (
            d
            for d in registry_selectors.deployments_of_system(system=system)
            if str(d.pk) == str(deployment_pk)
        ),
        None,
    )
    if deployment is None:
        raise Http404("No such deployment of this system.")
    prefix = f"d{deployment.pk}-{action}"
    if action == "activate":
        versions = registry_selectors.model_versions_of_system(system=system)
        form: forms.Form = ActivateForm(request.POST, prefix=prefix, versions=versions)
    else:
        form = ConfirmedReasonForm(request.POST, prefix=prefix)
    status = 400
    if form.is_valid():
        try:
            _apply(
                principal,
                deployment,
                action,
                form.cleaned_data,
                versions if action == "activate" else None,
            )
        except ServiceError as exc:
            add_service_error(form, exc)
            status = exc.status
        else:
            if not request.htmx:
                return redirect(reverse("web:system", args=[system.pk]) + "#deployments")
            return render(
                request, "web/systems/_deployments.html", _deployments_context(principal, system)
            )
    context = _deployments_context(principal, system, bound={(action, deployment.pk): form})
    template = "web/systems/_deployments.html" if request.htmx else "web/systems/detail.html"
    if not request.htmx:
        context = {**_page_context(principal, system), **context}
    return render(request, template, context, status=status)


def _apply(
    principal: Principal, deployment: Any, action: str, data: dict[str, Any], versions: Any
) -> None:
    if action == "activate":
        version = versions.filter(pk=data["model_version"]).first()
        registry_services.deployment_activate(
            actor=principal, deployment=deployment, model_version=version, reason=data["reason"]
        )
    elif action == "rollback":
        registry_services.deployment_rollback(
            actor=principal, deployment=deployment, reason=data["reason"]
        )
    else:
        registry_services.deployment_stop(
            actor=principal, deployment=deployment, reason=data["reason"]
        )


@require_POST
@member_required(write=Capability.RECORD)
def system_status_change(request: HttpRequest, pk: Any) -> HttpResponse:
    """Moves the system along its lifecycle with a reason (on the ledger); a move the
    lifecycle does not allow, or no reason, is shown next to the field."""
    principal = request.member.principal
    system = _system(principal, pk)
    form = StatusForm(request.POST, system=system)
    status = 400
    if form.is_valid():
        try:
            registry_services.ai_system_status_change(
                actor=principal,
                system=system,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as exc:
            add_service_error(form, exc)
            status = exc.status
        else:
            return redirect(reverse("web:system", args=[system.pk]) + "#lifecycle")
    context = {**_page_context(principal, system), "status_form": form}
    return render(request, "web/systems/detail.html", context, status=status)


@require_POST
@member_required(write=Capability.RECORD)
def assessment_sign(request: HttpRequest, pk: Any, assessment_pk: Any) -> HttpResponse:
    """Signs a completed assessment's test report (views/assessments.py says how); a
    refusal (no second factor, a role that does not sign, a report changed since it was
    read) comes back on the form with its reason."""
    principal = request.member.principal
    system = _system(principal, pk)
    assessment = one_of(compliance_selectors.assessments_completed(system=system), assessment_pk)
    if assessment is None:
        raise Http404("No such completed assessment of this system.")
    form = SignForm(request.POST, assessment_pk=assessment.pk)
    status = 400
    if form.is_valid():
        try:
            compliance_services.assessment_sign(
                actor=principal,
                assessment=assessment,
                report_sha256=form.cleaned_data["report_sha256"],
                function=form.cleaned_data["function"],
            )
        except ServiceError as exc:
            add_service_error(form, exc)
            status = exc.status
        else:
            messages.success(request, f"You signed the {assessment.get_kind_display()} report.")
            return redirect(reverse("web:system", args=[system.pk]) + "#assessments")
    context = _page_context(principal, system, bound_signature=form)
    return render(request, "web/systems/detail.html", context, status=status)
