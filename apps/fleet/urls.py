from django.urls import path

from apps.fleet import api

urlpatterns = [
    path(
        "deployments/<uuid:pk>/online",
        api.OnlineSummaryView.as_view(),
        name="online-summary",
    ),
    path(
        "deployments/<uuid:pk>/online/cloudevents",
        api.OnlineCloudEventsView.as_view(),
        name="online-cloudevents",
    ),
    path(
        "deployments/<uuid:pk>/online/decisions",
        api.OnlineDecisionsView.as_view(),
        name="online-decisions",
    ),
    path(
        "deployments/<uuid:pk>/online/decisions/<str:request_id>/receipt",
        api.DecisionReceiptView.as_view(),
        name="online-decision-receipt",
    ),
    path(
        "deployments/<uuid:pk>/online/exchanges",
        api.OnlineExchangeListView.as_view(),
        name="online-exchange-list",
    ),
    path("deployments/<uuid:pk>/online/seal", api.OnlineSealView.as_view(), name="online-seal"),
    path("online/policy", api.ServingPolicyView.as_view(), name="serving-policy"),
    path("fleet/workers", api.WorkerListView.as_view(), name="worker-list"),
    path(
        "models/<uuid:model_pk>/versions/<uuid:pk>/resource-profile",
        api.ResourceProfileView.as_view(),
        name="resource-profile",
    ),
    path("fleet/energy", api.EnergyView.as_view(), name="energy"),
    path("fleet/energy.svg", api.EnergyChartView.as_view(), name="energy-chart"),
    path("fleet/workers/<uuid:pk>", api.WorkerDetailView.as_view(), name="worker-detail"),
    path(
        "fleet/routing-refusals", api.RoutingRefusalListView.as_view(), name="routing-refusal-list"
    ),
    path("fleet/queue-alerts", api.QueueWaitAlertListView.as_view(), name="queue-alert-list"),
    path(
        "fleet/queue-alerts/<uuid:pk>/acknowledge",
        api.QueueWaitAlertActionView.as_view(action="acknowledge"),
        name="queue-alert-acknowledge",
    ),
    path(
        "fleet/queue-alerts/<uuid:pk>/resolve",
        api.QueueWaitAlertActionView.as_view(action="resolve"),
        name="queue-alert-resolve",
    ),
    path(
        "fleet/heartbeat-rejections",
        api.HeartbeatRejectionListView.as_view(),
        name="heartbeat-rejection-list",
    ),
]
