"""``/api/v1/tasks/{id}``: progress of queued work."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.tasks.models import TaskRecord
from audit_platform.views import ScopedGenericAPIView


class TaskRecordOut(serializers.ModelSerializer):
    class Meta:
        model = TaskRecord
        fields = [
            "id",
            "kind",
            "subject_kind",
            "subject_id",
            "state",
            "percent",
            "message",
            "result_links",
            "attempts",
            "queue",
            "route",
            "created_at",
            "started_at",
            "finished_at",
        ]


class TaskRecordDetailView(ScopedGenericAPIView):
    base_queryset = TaskRecord.objects.all()
    serializer_class = TaskRecordOut

    def get(self, request: Request, pk: str) -> Response:
        return Response(TaskRecordOut(self.get_object()).data)
