"""Signing in and out, and passwords: Django's auth views with the UI's templates."""

from __future__ import annotations

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.urls import reverse_lazy


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="E-mail or user name",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )


class LoginView(auth_views.LoginView):
    template_name = "web/auth/login.html"
    form_class = LoginForm
    redirect_authenticated_user = False


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
