from django.urls import path

from apps.integrations import api

urlpatterns = [
    path("openlineage", api.OpenLineageEventView.as_view(), name="openlineage-events"),
    path("openlineage/jobs/", api.JobMappingListCreateView.as_view(), name="openlineage-job-list"),
    path(
        "openlineage/training-runs/<uuid:pk>",
        api.TrainingRunEmitView.as_view(),
        name="openlineage-training-run",
    ),
    path(
        "openlineage/prediction-batches/<uuid:pk>",
        api.PredictionBatchEmitView.as_view(),
        name="openlineage-prediction-batch",
    ),
    path(
        "mlflow/connections/",
        api.MlflowConnectionListCreateView.as_view(),
        name="mlflow-connection-list",
    ),
    path(
        "mlflow/connections/<uuid:pk>/import",
        api.MlflowImportView.as_view(),
        name="mlflow-import",
    ),
    path(
        "mlflow/connections/<uuid:pk>/webhook",
        api.MlflowWebhookView.as_view(),
        name="mlflow-webhook",
    ),
    path(
        "openlineage/facets/<str:name>.json",
        api.FacetSchemaView.as_view(),
        name="openlineage-facet-schema",
    ),
]
