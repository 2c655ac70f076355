from django.urls import path

from apps.registry import api

urlpatterns = [
    path("artifacts/", api.ArtifactListCreateView.as_view(), name="artifact-list"),
    path("systems/", api.AISystemListCreateView.as_view(), name="system-list"),
    path("systems/<int:pk>", api.AISystemDetailView.as_view(), name="system-detail"),
    path("systems/<int:pk>/status", api.AISystemStatusView.as_view(), name="system-status"),
    path("systems/<int:pk>/provider", api.AISystemProviderView.as_view(), name="system-provider"),
    path("datasets/", api.DatasetListCreateView.as_view(), name="dataset-list"),
    path("datasets/<int:pk>", api.DatasetDetailView.as_view(), name="dataset-detail"),
    path(
        "datasets/<int:dataset_pk>/versions/",
        api.DatasetVersionListCreateView.as_view(),
        name="dataset-version-list",
    ),
    path(
        "datasets/<int:dataset_pk>/versions/<int:pk>",
        api.DatasetVersionDetailView.as_view(),
        name="dataset-version-detail",
    ),
    path("models/", api.ModelListCreateView.as_view(), name="model-list"),
    path("models/<int:pk>", api.ModelDetailView.as_view(), name="model-detail"),
    path(
        "models/<int:model_pk>/versions/",
        api.ModelVersionListCreateView.as_view(),
        name="model-version-list",
    ),
    path(
        "models/<int:model_pk>/versions/<int:pk>",
        api.ModelVersionDetailView.as_view(),
        name="model-version-detail",
    ),
    path("model-signers/", api.ModelSignerListCreateView.as_view(), name="model-signer-list"),
    path("training-runs/", api.TrainingRunListCreateView.as_view(), name="training-run-list"),
    path("training-runs/<int:pk>", api.TrainingRunDetailView.as_view(), name="training-run-detail"),
    path(
        "training-runs/<int:pk>/complete",
        api.TrainingRunCompleteView.as_view(),
        name="training-run-complete",
    ),
    path(
        "training-runs/<int:pk>/fail", api.TrainingRunFailView.as_view(), name="training-run-fail"
    ),
    path(
        "training-runs/<int:pk>/abandon",
        api.TrainingRunAbandonView.as_view(),
        name="training-run-abandon",
    ),
    path("deployments/", api.DeploymentListCreateView.as_view(), name="deployment-list"),
    path("deployments/<int:pk>", api.DeploymentDetailView.as_view(), name="deployment-detail"),
    path(
        "deployments/<int:pk>/activate",
        api.DeploymentActivateView.as_view(),
        name="deployment-activate",
    ),
    path(
        "deployments/<int:pk>/rollback",
        api.DeploymentRollbackView.as_view(),
        name="deployment-rollback",
    ),
    path(
        "deployments/<int:pk>/history",
        api.DeploymentHistoryView.as_view(),
        name="deployment-history",
    ),
    path(
        "deployments/<int:pk>/served-at",
        api.DeploymentServedAtView.as_view(),
        name="deployment-served-at",
    ),
    path(
        "prediction-batches/",
        api.PredictionBatchListCreateView.as_view(),
        name="prediction-batch-list",
    ),
    path(
        "prediction-batches/<int:pk>",
        api.PredictionBatchDetailView.as_view(),
        name="prediction-batch-detail",
    ),
    path(
        "prediction-batches/<int:pk>/files",
        api.PredictionBatchFilesView.as_view(),
        name="prediction-batch-files",
    ),
    path(
        "prediction-batches/<int:pk>/rows",
        api.PredictionBatchRowsView.as_view(),
        name="prediction-batch-rows",
    ),
]
