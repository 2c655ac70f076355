from django.urls import path

from apps.monitoring import api

urlpatterns = [
    path("policies/", api.PolicyListCreateView.as_view(), name="monitoring-policy-list"),
    path("policies/<uuid:pk>", api.PolicyDetailView.as_view(), name="monitoring-policy-detail"),
    path(
        "policies/<uuid:pk>/windows",
        api.PolicyWindowView.as_view(),
        name="monitoring-policy-window",
    ),
    path("drift-reports/", api.DriftReportListView.as_view(), name="drift-report-list"),
    path(
        "drift-reports/<uuid:pk>", api.DriftReportDetailView.as_view(), name="drift-report-detail"
    ),
    path(
        "drift-reports/<uuid:pk>/charts",
        api.DriftChartsView.as_view(),
        name="drift-report-charts",
    ),
    path("performance/", api.PerformanceListView.as_view(), name="performance-list"),
    path("performance/<uuid:pk>", api.PerformanceDetailView.as_view(), name="performance-detail"),
    path("batches/<uuid:pk>/labels", api.BatchLabelsView.as_view(), name="batch-labels"),
    path("alerts/", api.AlertListView.as_view(), name="alert-list"),
    path("alerts/<uuid:pk>", api.AlertDetailView.as_view(), name="alert-detail"),
    path(
        "alerts/<uuid:pk>/acknowledge",
        api.AlertActionView.as_view(action="acknowledge"),
        name="alert-acknowledge",
    ),
    path(
        "alerts/<uuid:pk>/resolve",
        api.AlertActionView.as_view(action="resolve"),
        name="alert-resolve",
    ),
    path("triggers/", api.TriggerListView.as_view(), name="trigger-list"),
    path("triggers/<uuid:pk>", api.TriggerDetailView.as_view(), name="trigger-detail"),
]
