"""The pipeline integrations in the admin, read-only: changes go through the services."""

from __future__ import annotations

from django.contrib import admin

from apps.integrations.models import (
    LineageDataset,
    LineageEvent,
    LineageJobMapping,
    LineageRun,
    MlflowConnection,
    MlflowRecord,
)
from audit_platform.admin import ReadOnlyAdmin


@admin.register(LineageJobMapping)
class LineageJobMappingAdmin(ReadOnlyAdmin):
    list_display = ["namespace", "name", "kind", "system", "organization", "created_at"]
    list_filter = ["organization", "kind"]
    search_fields = ["namespace", "name"]


@admin.register(LineageDataset)
class LineageDatasetAdmin(ReadOnlyAdmin):
    list_display = ["namespace", "name", "dataset", "organization"]
    search_fields = ["namespace", "name"]


@admin.register(LineageRun)
class LineageRunAdmin(ReadOnlyAdmin):
    list_display = ["run_id", "namespace", "name", "training_run", "prediction_batch"]
    list_filter = ["organization"]
    search_fields = ["run_id", "name"]


@admin.register(LineageEvent)
class LineageEventAdmin(ReadOnlyAdmin):
    list_display = ["run", "event_type", "event_time", "received_at"]
    list_filter = ["organization", "event_type"]


@admin.register(MlflowConnection)
class MlflowConnectionAdmin(ReadOnlyAdmin):
    list_display = ["tracking_uri", "system", "organization", "created_at"]
    exclude = ["webhook_secret"]


@admin.register(MlflowRecord)
class MlflowRecordAdmin(ReadOnlyAdmin):
    list_display = ["connection", "kind", "key", "state", "created_at"]
    list_filter = ["kind"]
