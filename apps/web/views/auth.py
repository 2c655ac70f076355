"""Signing in and out, and passwords: Django's auth views with the UI's templates."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse
from django.urls import reverse_lazy
from django_otp import login as otp_login

from apps.tenancy import second_factor


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="E-mail or user name",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    code = forms.CharField(
        label="Authentication code",
        required=False,
        max_length=12,
        help_text="The code your authenticator app shows, if you set one up.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    device = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and second_factor.totp_device_confirmed(user=user) is not None:
            code = cleaned.get("code") or ""
            if not code:
                raise forms.ValidationError(
                    {"code": "Your account has an authenticator: type the code it shows."}
                )
            self.device = second_factor.totp_check(user=user, token=code)
            if self.device is None:
                raise forms.ValidationError(
                    {"code": "Wrong or expired code: type the one your authenticator shows now."}
                )
        return cleaned


class LoginView(auth_views.LoginView):
    template_name = "web/auth/login.html"
    form_class = LoginForm
    redirect_authenticated_user = False

    def form_valid(self, form: LoginForm) -> HttpResponse:
        response = super().form_valid(form)
        if form.device is not None:
            otp_login(self.request, form.device)
        return response


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "web/auth/password_change.html"
    success_url = reverse_lazy("web:password-change-done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "web/auth/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "web/auth/password_reset.html"
    email_template_name = "web/auth/password_reset_email.txt"
    subject_template_name = "web/auth/password_reset_subject.txt"
    success_url = reverse_lazy("web:password-reset-done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "web/auth/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "web/auth/password_reset_confirm.html"
    success_url = reverse_lazy("web:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "web/auth/password_reset_complete.html"
