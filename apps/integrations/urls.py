from django.urls import path

from apps.integrations import api

urlpatterns = [
    path("openlineage", api.OpenLineageEventView.as_view(), name="openlineage-events"),
    path("openlineage/jobs/", api.JobMappingListCreateView.as_view(), name="openlineage-job-list"),
    path(
        "openlineage/training-runs/<int:pk>",
        api.TrainingRunEmitView.as_view(),
        name="openlineage-training-run",
    ),
    path(
        "openlineage/prediction-batches/<int:pk>",
        api.PredictionBatchEmitView.as_view(),
        name="openlineage-prediction-batch",
    ),
    path(
        "openlineage/facets/<str:name>.json",
        api.FacetSchemaView.as_view(),
        name="openlineage-facet-schema",
    ),
]
