from django.urls import path

from apps.tasks import api

urlpatterns = [
    path("tasks/<uuid:pk>", api.TaskRecordDetailView.as_view(), name="task-detail"),
]
