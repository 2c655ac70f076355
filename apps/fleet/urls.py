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
    path("fleet/workers/<int:pk>", api.WorkerDetailView.as_view(), name="worker-detail"),
    path(
        "fleet/heartbeat-rejections",
        api.HeartbeatRejectionListView.as_view(),
        name="heartbeat-rejection-list",
    ),
]
