from django.urls import path

from apps.inference import api

urlpatterns = [
    path(
        "prediction-batches/run",
        api.PredictionBatchRunView.as_view(),
        name="prediction-batch-run",
    ),
    path(
        "prediction-batches/<uuid:pk>/output",
        api.PredictionBatchOutputView.as_view(),
        name="prediction-batch-output",
    ),
    path(
        "prediction-batches/<uuid:pk>/rows/<int:n>/receipt",
        api.RowReceiptView.as_view(),
        name="prediction-batch-row-receipt",
    ),
]
