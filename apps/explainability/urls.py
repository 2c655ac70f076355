from django.urls import path

from apps.explainability import api

urlpatterns = [
    path("explanations/", api.ExplanationListCreateView.as_view(), name="explanation-list"),
    path("explanations/<uuid:pk>", api.ExplanationDetailView.as_view(), name="explanation-detail"),
    path(
        "explanations/<uuid:pk>/values",
        api.ExplanationValuesView.as_view(),
        name="explanation-values",
    ),
]
