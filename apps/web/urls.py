"""The web UI's routes (namespace "web"). Each area's pages add their paths here.

Record ids are matched as path segments (``<str:pk>``), whatever their type: the
views look them up within the organization, so an unknown or foreign id is a 404."""

from django.urls import path

from apps.web.views import (
    accounts,
    approvals,
    auth,
    base,
    dashboard,
    fleet,
    incidents,
    ledger,
    onboarding,
    records,
    reports,
    systems,
    tasks,
)

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
    path("account/two-factor/", accounts.two_factor_setup, name="two-factor"),
    # The invitation e-mail's one-time link (INVITATION_ACCEPT_URL).
    path("invitations/accept", accounts.invitation_accept, name="invitation-accept"),
    path("organization/", base.organization_switch, name="organization-switch"),
    # The domain pages.
    path("systems/", systems.system_list, name="systems"),
    path("systems/<str:pk>/", systems.system_page, name="system"),
    path("systems/<str:pk>/status", systems.system_status_change, name="system-status"),
    path(
        "systems/<str:pk>/deployments/<str:deployment_pk>/<str:action>",
        systems.deployment_action,
        name="deployment-action",
    ),
    path(
        "systems/<str:pk>/assessments/<str:assessment_pk>/sign",
        systems.assessment_sign,
        name="assessment-sign",
    ),
    path("approvals/", approvals.inbox, name="approvals"),
    path("approvals/<str:pk>/<str:decision>", approvals.decide, name="approval-decide"),
    path(
        "deployments/<str:deployment_pk>/request-approval",
        approvals.request_approval,
        name="approval-request",
    ),
    path("incidents/", incidents.desk, name="incidents"),
    path("incidents/<str:pk>/", incidents.incident_page, name="incident"),
    path("incidents/<str:pk>/<str:action>", incidents.incident_action, name="incident-action"),
    path("records/<str:kind>/<str:pk>/", records.record_page, name="record"),
    path("records/prediction_batch/<str:pk>/receipt", records.row_receipt, name="row-receipt"),
    path(
        "records/prediction_batch/<str:pk>/explanation",
        records.explanation_request,
        name="explanation-request",
    ),
    path("fleet/", fleet.fleet_page, name="fleet"),
    path("ledger/", ledger.explorer, name="ledger"),
    path("ledger/entries/<str:seq>/", ledger.entry_page, name="ledger-entry"),
    path("ledger/entries/<str:seq>/proof", ledger.entry_proof, name="ledger-entry-proof"),
    path("ledger/verify", ledger.verify_now, name="ledger-verify"),
    path("ledger/export", ledger.export, name="ledger-export"),
    path("tasks/<str:task_id>/", tasks.task_progress, name="task"),
    path("reports/", reports.report_list, name="reports"),
    path("reports/generate", reports.generate, name="report-generate"),
    path("reports/verify", reports.verify, name="report-verify"),
    path("reports/<str:pk>/", reports.progress, name="report-progress"),
    path("reports/<str:pk>/pdf", reports.pdf, name="report-pdf"),
    path("getting-started/", onboarding.onboarding, name="onboarding"),
    path("getting-started/system", onboarding.first_system, name="onboarding-system"),
    path("getting-started/classify", onboarding.classify, name="onboarding-classify"),
    path("members/", accounts.members, name="members"),
    path("members/<uuid:pk>/remove", accounts.member_remove, name="member-remove"),
    path("invitations/<uuid:pk>/revoke", accounts.invitation_revoke, name="invitation-revoke"),
    path("api-keys/", accounts.api_keys, name="api-keys"),
    path("api-keys/<uuid:pk>/revoke", accounts.api_key_revoke, name="api-key-revoke"),
]
