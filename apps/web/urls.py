"""The web UI's routes (namespace "web"). Each area's pages add their paths here."""

from django.urls import path

from apps.web.views import auth, base, dashboard

app_name = "web"

urlpatterns = [
    path("", dashboard.home, name="home"),
    # Signing in and out, passwords.
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("account/password/", auth.PasswordChangeView.as_view(), name="password-change"),
    path(
        "account/password/done/",
        auth.PasswordChangeDoneView.as_view(),
        name="password-change-done",
    ),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", auth.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/done/",
        auth.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
    path("organization/", base.organization_switch, name="organization-switch"),
]
