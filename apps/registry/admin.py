"""The registry in the admin. What the ledger has recorded is shown, never edited:
changes go through the services (and the API), which put them on the record."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.registry.models import (
    AISystem,
    Artifact,
    Dataset,
    DatasetVersion,
    Deployment,
    DeploymentEvent,
    Model,
    ModelVersion,
    PredictionBatch,
    TrainingRun,
)
from audit_platform.admin import ReadOnlyAdmin


@admin.register(AISystem)
class AISystemAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "role", "status", "created_at"]
    list_filter = ["organization", "role", "status"]
    search_fields = ["name"]


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyAdmin):
    list_display = ["sha256", "organization", "size_bytes", "original_name", "created_at"]
    search_fields = ["sha256", "original_name"]


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ["name", "system", "created_at"]


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ReadOnlyAdmin):
    list_display = ["dataset", "version", "split", "row_count", "statistics_state", "created_at"]
    list_filter = ["split", "statistics_state"]
    search_fields = ["sha256", "version"]


@admin.register(Model)
class ModelAdmin(ReadOnlyAdmin):
    list_display = ["name", "system", "created_at"]


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["model", "version", "artifact_format", "framework", "created_at"]
    search_fields = ["artifact_sha256", "version"]


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "system", "status", "started_at", "finished_at"]
    list_filter = ["status"]


class DeploymentEventInline(admin.TabularInline):
    model = DeploymentEvent
    extra = 0
    can_delete = False
    fields = [
        "kind",
        "model_version",
        "previous_model_version",
        "rollback_target",
        "reason",
        "at",
        "ledger_seq",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = ["system", "environment", "status", "model_version"]
    inlines = [DeploymentEventInline]


@admin.register(PredictionBatch)
class PredictionBatchAdmin(ReadOnlyAdmin):
    list_display = ["pk", "deployment", "model_version", "status", "row_count", "created_at"]
    list_filter = ["status"]
    search_fields = ["input_sha256", "output_sha256", "rows_root"]
