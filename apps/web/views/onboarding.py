"""Onboarding: a new organization's owner is walked through the three first steps:
an API key for the pipeline (its secret shown once), the first AI system, and the
classification questionnaire for it. Each step says whether it is done, from the
record, so the walk-through can be left and resumed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.compliance import rules
from apps.compliance import selectors as compliance_selectors
from apps.compliance import services as compliance_services
from apps.registry import selectors as registry_selectors
from apps.registry import services as registry_services
from apps.tenancy import selectors as tenancy_selectors
from apps.tenancy import services as tenancy_services
from apps.web.views.base import add_service_error, member_required
from audit_platform.errors import ServiceError
from audit_platform.roles import Capability, Role

YES_NO = [("yes", "Yes"), ("no", "No")]


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Key name", max_length=100, initial="training pipeline", help_text="Who uses it."
    )
    role = forms.ChoiceField(
        label="Role",
        choices=[
            (Role.PIPELINE.value, Role.PIPELINE.label),
            (Role.ML_ENGINEER.value, Role.ML_ENGINEER.label),
        ],
        help_text="A pipeline key records lifecycle events and reads; it administers nothing.",
    )


class SystemForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    intended_purpose = forms.CharField(
        label="Intended purpose", widget=forms.Textarea(attrs={"rows": 3})
    )
    role = forms.ChoiceField(
        label="Your organization is its",
        choices=[("provider", "Provider (you develop it)"), ("deployer", "Deployer (you use it)")],
    )


class QuestionnaireForm(forms.Form):
    """The classification questionnaire (apps/compliance/rules.py QUESTIONS), one field
    per question. A question asked only under some answers says so; left blank when it
    is not asked, it is left out of the answers."""

    def __init__(self, *args: Any, role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role = role
        for question in rules.QUESTIONS:
            self.fields[question.key] = _field(question)

    def answers(self) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for question in rules.QUESTIONS:
            value = self.cleaned_data.get(question.key)
            if value in (None, "", []) and question.kind != "choices":
                continue
            if question.kind == "bool":
                value = value == "yes"
            answers[question.key] = list(value) if question.kind == "choices" else value
        # A question the answers so far do not ask is left out (answered "not asked").
        return {
            key: value
            for key, value in answers.items()
            if (q := _QUESTIONS[key]).when is None or q.when(answers, self.role)
        }


_QUESTIONS = {question.key: question for question in rules.QUESTIONS}


def _field(question: rules.Question) -> forms.Field:
    help_text = f"Asked only when {question.when_text}." if question.when_text else ""
    if question.kind == "choices":
        return forms.MultipleChoiceField(
            label=question.text,
            choices=[(o, o.replace("_", " ")) for o in question.options],
            widget=forms.CheckboxSelectMultiple,
            required=False,
            help_text=help_text,
        )
    if question.kind == "bool":
        return forms.ChoiceField(
            label=question.text,
            choices=[("", "—"), *YES_NO],
            required=False,
            help_text=help_text,
        )
    if question.kind == "choice":
        return forms.ChoiceField(
            label=question.text,
            choices=[("", "—"), *((o, o.replace("_", " ")) for o in question.options)],
            required=False,
            help_text=help_text,
        )
    return forms.CharField(
        label=question.text,
        required=False,
        help_text=" ".join(filter(None, [f"YYYY-MM-DD or '{rules.NOT_YET}'.", help_text])),
    )


def _steps(request: HttpRequest) -> dict[str, Any]:
    organization = request.member.organization
    systems = registry_selectors.systems_of_organization(organization=organization)
    first = systems.first()
    return {
        "has_key": tenancy_selectors.api_keys_of(organization=organization).exists(),
        "system": first,
        "classified": first is not None
        and compliance_selectors.classification_current(system=first) is not None,
    }


@member_required(write=Capability.ADMINISTER)
def onboarding(request: HttpRequest) -> HttpResponse:
    """The three steps and where the organization stands; step 1's form is here."""
    form = ApiKeyForm(request.POST or None)
    secret = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                _, secret, _ = tenancy_services.api_key_create(
                    organization=request.member.organization,
                    actor=request.member.principal,
                    **form.cleaned_data,
                )
                status, form = 201, ApiKeyForm()
            except ServiceError as exc:
                add_service_error(form, exc)
                status = exc.status
    return render(
        request,
        "web/onboarding/start.html",
        {**_steps(request), "form": form, "secret": secret},
        status=status,
    )


@member_required(write=Capability.ADMINISTER)
def first_system(request: HttpRequest) -> HttpResponse:
    form = SystemForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                registry_services.ai_system_register(
                    actor=request.member.principal, **form.cleaned_data
                )
            except ServiceError as exc:
                add_service_error(form, exc)
                status = exc.status
            else:
                return redirect("web:onboarding-classify")
    return render(
        request, "web/onboarding/system.html", {**_steps(request), "form": form}, status=status
    )


@member_required(write=Capability.COMPLY)
def classify(request: HttpRequest) -> HttpResponse:
    steps = _steps(request)
    system = steps["system"]
    if system is None:
        return redirect("web:onboarding-system")
    form = QuestionnaireForm(request.POST or None, role=system.role)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                compliance_services.classification_record(
                    actor=request.member.principal, system=system, answers=form.answers()
                )
            except ServiceError as exc:
                _questionnaire_errors(form, exc)
                status = exc.status
            else:
                return redirect("web:system", pk=system.pk)
    return render(request, "web/onboarding/classify.html", {**steps, "form": form}, status=status)


def _questionnaire_errors(form: QuestionnaireForm, exc: ServiceError) -> None:
    """The service names answers as ``answers.<question>``: each goes next to its question."""
    for name, messages in exc.fields.items():
        key = name.removeprefix("answers.")
        for message in messages:
            form.add_error(key if key in form.fields else None, message)
    form.add_error(None, exc.message)
