from django.urls import path

from apps.fleet import api

urlpatterns = [
    path(
        "deployments/<int:pk>/online",
        api.OnlineSummaryView.as_view(),
        name="online-summary",
    ),
    path(
        "deployments/<int:pk>/online/cloudevents",
        api.OnlineCloudEventsView.as_view(),
        name="online-cloudevents",
    ),
    path(
        "deployments/<int:pk>/online/decisions",
        api.OnlineDecisionsView.as_view(),
        name="online-decisions",
    ),
    path(
        "deployments/<int:pk>/online/decisions/<str:request_id>/receipt",
        api.DecisionReceiptView.as_view(),
        name="online-decision-receipt",
    ),
    path(
        "deployments/<int:pk>/online/exchanges",
        api.OnlineExchangeListView.as_view(),
        name="online-exchange-list",
    ),
    path("deployments/<int:pk>/online/seal", api.OnlineSealView.as_view(), name="online-seal"),
    path("online/policy", api.ServingPolicyView.as_view(), name="serving-policy"),
    path("fleet/workers", api.WorkerListView.as_view(), name="worker-list"),
    path(
        "models/<int:model_pk>/versions/<int:pk>/resource-profile",
        api.ResourceProfileView.as_view(),
        name="resource-profile",
    ),
    path("fleet/energy", api.EnergyView.as_view(), name="energy"),
    path("fleet/energy.svg", api.EnergyChartView.as_view(), name="energy-chart"),
    path("fleet/workers/<int:pk>", api.WorkerDetailView.as_view(), name="worker-detail"),
    path(
        "fleet/heartbeat-rejections",
        api.HeartbeatRejectionListView.as_view(),
        name="heartbeat-rejection-list",
    ),
]
