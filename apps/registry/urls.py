from django.urls import path, re_path

from apps.registry import api

urlpatterns = [
    path("artifacts/", api.ArtifactListCreateView.as_view(), name="artifact-list"),
    re_path(
        r"^artifacts/(?P<sha256>[0-9a-f]{64})/content$",
        api.ArtifactContentView.as_view(),
        name="artifact-content",
    ),
    path("systems/", api.AISystemListCreateView.as_view(), name="system-list"),
    path("systems/<uuid:pk>", api.AISystemDetailView.as_view(), name="system-detail"),
    path("systems/<uuid:pk>/status", api.AISystemStatusView.as_view(), name="system-status"),
    path("systems/<uuid:pk>/provider", api.AISystemProviderView.as_view(), name="system-provider"),
    path("datasets/", api.DatasetListCreateView.as_view(), name="dataset-list"),
    path("datasets/<uuid:pk>", api.DatasetDetailView.as_view(), name="dataset-detail"),
    path(
        "datasets/<uuid:dataset_pk>/versions/",
        api.DatasetVersionListCreateView.as_view(),
        name="dataset-version-list",
    ),
    path(
        "datasets/<uuid:dataset_pk>/versions/<uuid:pk>",
        api.DatasetVersionDetailView.as_view(),
        name="dataset-version-detail",
    ),
    path("models/", api.ModelListCreateView.as_view(), name="model-list"),
    path("models/<uuid:pk>", api.ModelDetailView.as_view(), name="model-detail"),
    path(
        "models/<uuid:model_pk>/versions/",
        api.ModelVersionListCreateView.as_view(),
        name="model-version-list",
    ),
    path(
        "models/<uuid:model_pk>/versions/<uuid:pk>",
        api.ModelVersionDetailView.as_view(),
        name="model-version-detail",
    ),
    path("model-signers/", api.ModelSignerListCreateView.as_view(), name="model-signer-list"),
    path(
        "model-signers/<uuid:pk>/revoke",
        api.ModelSignerRevokeView.as_view(),
        name="model-signer-revoke",
    ),
    path("training-runs/", api.TrainingRunListCreateView.as_view(), name="training-run-list"),
    path(
        "training-runs/<uuid:pk>", api.TrainingRunDetailView.as_view(), name="training-run-detail"
    ),
    path(
        "training-runs/<uuid:pk>/complete",
        api.TrainingRunCompleteView.as_view(),
        name="training-run-complete",
    ),
    path(
        "training-runs/<uuid:pk>/fail", api.TrainingRunFailView.as_view(), name="training-run-fail"
    ),
    path(
        "training-runs/<uuid:pk>/abandon",
        api.TrainingRunAbandonView.as_view(),
        name="training-run-abandon",
    ),
    path("deployments/", api.DeploymentListCreateView.as_view(), name="deployment-list"),
    path("deployments/<uuid:pk>", api.DeploymentDetailView.as_view(), name="deployment-detail"),
    path(
        "deployments/<uuid:pk>/activate",
        api.DeploymentActivateView.as_view(),
        name="deployment-activate",
    ),
    path(
        "deployments/<uuid:pk>/rollback",
        api.DeploymentRollbackView.as_view(),
        name="deployment-rollback",
    ),
    path(
        "deployments/<uuid:pk>/history",
        api.DeploymentHistoryView.as_view(),
        name="deployment-history",
    ),
    path(
        "deployments/<uuid:pk>/served-at",
        api.DeploymentServedAtView.as_view(),
        name="deployment-served-at",
    ),
    path(
        "prediction-batches/",
        api.PredictionBatchListCreateView.as_view(),
        name="prediction-batch-list",
    ),
    path(
        "prediction-batches/<uuid:pk>",
        api.PredictionBatchDetailView.as_view(),
        name="prediction-batch-detail",
    ),
    path(
        "prediction-batches/<uuid:pk>/files",
        api.PredictionBatchFilesView.as_view(),
        name="prediction-batch-files",
    ),
    path(
        "prediction-batches/<uuid:pk>/rows",
        api.PredictionBatchRowsView.as_view(),
        name="prediction-batch-rows",
    ),
]
