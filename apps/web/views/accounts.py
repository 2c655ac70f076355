"""A person's own account (second factor), accepting an invitation, and the
organization's members and API keys. Every change goes through the tenancy services,
which put it on the organization's ledger."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from apps.tenancy import invitations, second_factor, services
from apps.tenancy import selectors as tenancy
from apps.web.views.base import (
    SESSION_ORGANIZATION,
    add_service_error,
    member_required,
    one_of,
    safe_next,
)
from audit_platform.errors import ServiceError
from audit_platform.roles import MEMBER_ROLE_CHOICES, Capability, Role

# --- Second factor ----------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Authentication code",
        max_length=12,
        help_text="The 6-digit code your authenticator app shows now.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


@never_cache
@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Sets up (or replaces) the person's authenticator: scan the code, type what it shows."""
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = second_factor.totp_device_confirm(
                user=request.user, token=form.cleaned_data["code"]
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            otp_login(request, device)
            messages.success(
                request, "Your authenticator is set up: log in with its code from now on."
            )
            return HttpResponseRedirect(safe_next(request))
    device = second_factor.totp_device_pending(user=request.user)
    return render(
        request,
        "web/account/two_factor.html",
        {
            "form": form,
            "qr": second_factor.totp_qr_svg(device=device, account=request.user.get_username()),
            "secret": second_factor.totp_secret_words(device=device),
            "has_device": second_factor.totp_device_confirmed(user=request.user) is not None,
            "next": request.GET.get("next", ""),
        },
    )


# --- Invitations ------------------------------------------------------------------------


class AcceptForm(forms.Form):
    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="The same password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ: type the same one twice.")
        return cleaned


@never_cache
def invitation_accept(request: HttpRequest) -> HttpResponse:
    """The page the invitation's one-time link opens (?token=...)."""
    token = request.POST.get("token") or request.GET.get("token") or ""
    invitation = invitations.invitation_usable(token=token)
    if invitation is None:
        return render(request, "web/account/invitation_unusable.html", status=404)
    signed_in = request.user.is_authenticated
    form = None if signed_in else AcceptForm(request.POST or None)
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            membership, _ = invitations.invitation_accept(
                token=token,
                user=request.user if signed_in else None,
                password=None if form is None else form.cleaned_data["password1"],
            )
        except ServiceError as error:
            if form is None:
                messages.error(request, error.message)
            else:
                if "password" in error.fields:
                    error.fields["password1"] = error.fields.pop("password")
                add_service_error(form, error)
        else:
            if not signed_in:
                auth_login(
                    request, membership.user, backend="django.contrib.auth.backends.ModelBackend"
                )
            request.session[SESSION_ORGANIZATION] = str(membership.organization_id)
            messages.success(request, f"Welcome to {membership.organization.name}.")
            if second_factor.role_needs_second_factor(role=membership.role):
                messages.warning(
                    request,
                    f"As {Role(membership.role).label} you approve deployments and close "
                    "incidents, which needs a second factor: set up your authenticator now.",
                )
                return HttpResponseRedirect(reverse("web:two-factor"))
            return HttpResponseRedirect(reverse("web:home"))
    return render(
        request,
        "web/account/invitation_accept.html",
        {"invitation": invitation, "form": form, "token": token},
    )


# --- Members ----------------------------------------------------------------------------


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(label="Role", choices=MEMBER_ROLE_CHOICES)


@member_required(read=Capability.SEE_MEMBERS, write=Capability.ADMINISTER)
def members(request: HttpRequest) -> HttpResponse:
    member = request.member
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.invitation_create(
                organization=member.organization,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor=member.principal,
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                f"Invitation sent to {form.cleaned_data['email']}: the link works once, "
                "for a limited time.",
            )
            return HttpResponseRedirect(reverse("web:members"))
    return render(
        request,
        "web/account/members.html",
        {
            "memberships": tenancy.memberships_of(organization=member.organization).order_by(
                "user__email"
            ),
            "invitations": invitations.invitations_open(organization=member.organization)
            if member.can(Capability.ADMINISTER)
            else (),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@require_POST
@member_required(read=Capability.ADMINISTER, write=Capability.ADMINISTER)
def member_remove(request: HttpRequest, pk: str) -> HttpResponse:
    found = one_of(tenancy.memberships_of(organization=request.member.organization), pk)
    if found is None:
        raise Http404("No such member.")
    try:
        services.membership_remove(membership=found, actor=request.member.principal)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{found.user.email or found.user} is no longer a member.")
    return HttpResponseRedirect(reverse("web:members"))


@require_POST
@member_required(read=Capability.ADMINISTER, write=Capability.ADMINISTER)
def invitation_revoke(request: HttpRequest, pk: str) -> HttpResponse:
    invitation = one_of(invitations.invitations_open(organization=request.member.organization), pk)
    if invitation is None:
        raise Http404("No such open invitation.")
    try:
        invitations.invitation_revoke(invitation=invitation, actor=request.member.principal)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The invitation to {invitation.email} is revoked.")
    return HttpResponseRedirect(reverse("web:members"))


# --- API keys ---------------------------------------------------------------------------


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=200, help_text="What uses the key, e.g. 'training pipeline'."
    )
    role = forms.ChoiceField(
        label="Role",
        choices=[(r.value, r.label) for r in Role],
        initial=Role.PIPELINE,
        help_text="Pipelines record what they did; give a key no more than it needs.",
    )
    expires_at = forms.DateTimeField(
        label="Expires at (UTC)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for a key that works until it is revoked.",
    )


def _keys_page(request: HttpRequest, form: ApiKeyForm, **extra: Any) -> HttpResponse:
    response = render(
        request,
        "web/account/api_keys.html",
        {"keys": tenancy.api_keys_of(organization=request.member.organization), "form": form}
        | extra,
        status=400 if form.errors else 200,
    )
    # A page that shows a secret is kept by no cache, the browser's included.
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@member_required(read=Capability.ADMINISTER, write=Capability.ADMINISTER)
def api_keys(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            api_key, secret, _ = services.api_key_create(
                organization=request.member.organization,
                role=form.cleaned_data["role"],
                name=form.cleaned_data["name"],
                expires_at=form.cleaned_data["expires_at"],
                actor=request.member.principal,
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            return _keys_page(request, ApiKeyForm(), created=api_key, secret=secret)
    return _keys_page(request, form)


@require_POST
@member_required(read=Capability.ADMINISTER, write=Capability.ADMINISTER)
def api_key_revoke(request: HttpRequest, pk: str) -> HttpResponse:
    api_key = one_of(tenancy.api_keys_of(organization=request.member.organization), pk)
    if api_key is None:
        raise Http404("No such API key.")
    try:
        services.api_key_revoke(api_key=api_key, actor=request.member.principal)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"API key {api_key.prefix} is revoked: it works no more.")
    return HttpResponseRedirect(reverse("web:api-keys"))
