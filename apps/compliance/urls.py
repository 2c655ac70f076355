from django.urls import path

from apps.compliance import api

urlpatterns = [
    path(
        "compliance/questionnaire",
        api.QuestionnaireView.as_view(),
        name="compliance-questionnaire",
    ),
    path("compliance/gaps", api.GapAnalysisView.as_view(), name="compliance-gaps"),
    path("deployments/<uuid:pk>/gate", api.DeploymentGateView.as_view(), name="deployment-gate"),
    path(
        "classifications/",
        api.ClassificationListCreateView.as_view(),
        name="classification-list",
    ),
    path(
        "classifications/<uuid:pk>",
        api.ClassificationDetailView.as_view(),
        name="classification-detail",
    ),
    path(
        "systems/<uuid:pk>/obligations",
        api.SystemObligationsView.as_view(),
        name="system-obligations",
    ),
    path(
        "obligation-evidence/",
        api.ObligationEvidenceListCreateView.as_view(),
        name="obligation-evidence-list",
    ),
    path("risks/", api.RiskListCreateView.as_view(), name="risk-list"),
    path("risks/<uuid:pk>", api.RiskDetailView.as_view(), name="risk-detail"),
    path("assessments/", api.AssessmentListCreateView.as_view(), name="assessment-list"),
    path("assessments/<uuid:pk>", api.AssessmentDetailView.as_view(), name="assessment-detail"),
    path(
        "assessments/<uuid:pk>/test-report",
        api.AssessmentTestReportView.as_view(),
        name="assessment-test-report",
    ),
    path("assessments/<uuid:pk>/sign", api.AssessmentSignView.as_view(), name="assessment-sign"),
    path(
        "classifications/<uuid:pk>/decide",
        api.ClassificationDecideView.as_view(),
        name="classification-decide",
    ),
    path("gate-alerts/", api.GateAlertListView.as_view(), name="gate-alert-list"),
    path("approvals/", api.ApprovalListCreateView.as_view(), name="approval-list"),
    path("approvals/<uuid:pk>", api.ApprovalDetailView.as_view(), name="approval-detail"),
    path("approvals/<uuid:pk>/decide", api.ApprovalDecideView.as_view(), name="approval-decide"),
    path("deployments/<uuid:pk>/stop", api.DeploymentStopView.as_view(), name="deployment-stop"),
    path(
        "decision-overrides/",
        api.DecisionOverrideListCreateView.as_view(),
        name="decision-override-list",
    ),
    path("incidents/", api.IncidentListCreateView.as_view(), name="incident-list"),
    path("incidents/<uuid:pk>", api.IncidentDetailView.as_view(), name="incident-detail"),
    path("incidents/<uuid:pk>/reports", api.IncidentReportView.as_view(), name="incident-report"),
    path(
        "incidents/<uuid:pk>/authority-informed",
        api.IncidentAuthorityInformedView.as_view(),
        name="incident-authority-informed",
    ),
    path("incidents/<uuid:pk>/close", api.IncidentCloseView.as_view(), name="incident-close"),
    path("frias/", api.FriaListCreateView.as_view(), name="fria-list"),
    path("frias/<uuid:pk>", api.FriaDetailView.as_view(), name="fria-detail"),
    path("retention-settings/", api.RetentionListCreateView.as_view(), name="retention-list"),
    path("registrations/", api.RegistrationListCreateView.as_view(), name="registration-list"),
    path(
        "systems/<uuid:pk>/registration",
        api.SystemRegistrationView.as_view(),
        name="system-registration",
    ),
    path("biometric-uses/", api.BiometricUseListCreateView.as_view(), name="biometric-use-list"),
    path(
        "biometric-uses/<uuid:pk>",
        api.BiometricUseDetailView.as_view(),
        name="biometric-use-detail",
    ),
    path(
        "biometric-uses/<uuid:pk>/end",
        api.BiometricUseEndView.as_view(),
        name="biometric-use-end",
    ),
    path(
        "biometric-uses/<uuid:pk>/matches",
        api.BiometricMatchCreateView.as_view(),
        name="biometric-match-create",
    ),
    path(
        "biometric-matches/<uuid:pk>",
        api.BiometricMatchDetailView.as_view(),
        name="biometric-match-detail",
    ),
    path(
        "biometric-matches/<uuid:pk>/verify",
        api.BiometricMatchVerifyView.as_view(),
        name="biometric-match-verify",
    ),
    path(
        "biometric-matches/<uuid:pk>/act",
        api.BiometricMatchActView.as_view(),
        name="biometric-match-act",
    ),
    path(
        "dual-verification-settings/",
        api.DualVerificationListCreateView.as_view(),
        name="dual-verification-list",
    ),
    path(
        "gpai-documentation/",
        api.GpaiDocumentationListCreateView.as_view(),
        name="gpai-documentation-list",
    ),
]
