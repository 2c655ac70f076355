from django.urls import path

from apps.compliance import api

urlpatterns = [
    path(
        "compliance/questionnaire",
        api.QuestionnaireView.as_view(),
        name="compliance-questionnaire",
    ),
    path("compliance/gaps", api.GapAnalysisView.as_view(), name="compliance-gaps"),
    path("deployments/<int:pk>/gate", api.DeploymentGateView.as_view(), name="deployment-gate"),
    path(
        "classifications/",
        api.ClassificationListCreateView.as_view(),
        name="classification-list",
    ),
    path(
        "classifications/<int:pk>",
        api.ClassificationDetailView.as_view(),
        name="classification-detail",
    ),
    path(
        "systems/<int:pk>/obligations",
        api.SystemObligationsView.as_view(),
        name="system-obligations",
    ),
    path(
        "obligation-evidence/",
        api.ObligationEvidenceListCreateView.as_view(),
        name="obligation-evidence-list",
    ),
    path("risks/", api.RiskListCreateView.as_view(), name="risk-list"),
    path("risks/<int:pk>", api.RiskDetailView.as_view(), name="risk-detail"),
    path("assessments/", api.AssessmentListCreateView.as_view(), name="assessment-list"),
    path("assessments/<int:pk>", api.AssessmentDetailView.as_view(), name="assessment-detail"),
    path(
        "classifications/<int:pk>/decide",
        api.ClassificationDecideView.as_view(),
        name="classification-decide",
    ),
    path("gate-alerts/", api.GateAlertListView.as_view(), name="gate-alert-list"),
    path("approvals/", api.ApprovalListCreateView.as_view(), name="approval-list"),
    path("approvals/<int:pk>", api.ApprovalDetailView.as_view(), name="approval-detail"),
    path("approvals/<int:pk>/decide", api.ApprovalDecideView.as_view(), name="approval-decide"),
    path("deployments/<int:pk>/stop", api.DeploymentStopView.as_view(), name="deployment-stop"),
    path(
        "decision-overrides/",
        api.DecisionOverrideListCreateView.as_view(),
        name="decision-override-list",
    ),
    path("incidents/", api.IncidentListCreateView.as_view(), name="incident-list"),
    path("incidents/<int:pk>", api.IncidentDetailView.as_view(), name="incident-detail"),
    path("incidents/<int:pk>/reports", api.IncidentReportView.as_view(), name="incident-report"),
    path(
        "incidents/<int:pk>/authority-informed",
        api.IncidentAuthorityInformedView.as_view(),
        name="incident-authority-informed",
    ),
    path("incidents/<int:pk>/close", api.IncidentCloseView.as_view(), name="incident-close"),
    path("frias/", api.FriaListCreateView.as_view(), name="fria-list"),
    path("frias/<int:pk>", api.FriaDetailView.as_view(), name="fria-detail"),
    path("retention-settings/", api.RetentionListCreateView.as_view(), name="retention-list"),
    path("registrations/", api.RegistrationListCreateView.as_view(), name="registration-list"),
    path(
        "systems/<int:pk>/registration",
        api.SystemRegistrationView.as_view(),
        name="system-registration",
    ),
]
