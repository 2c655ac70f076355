"""Monitoring in the admin, read-only: policies, reports, alerts, triggers and every
delivery attempt are shown; changes go through the services (and the API), which put
them on the ledger. Schedules are django-celery-beat's own admin pages."""

from __future__ import annotations

from django.contrib import admin

from apps.monitoring.models import (
    Alert,
    Delivery,
    DeliveryAttempt,
    DriftReport,
    MonitoringPolicy,
    PerformanceReport,
    RetrainingTrigger,
)
from audit_platform.admin import ReadOnlyAdmin


@admin.register(MonitoringPolicy)
class MonitoringPolicyAdmin(ReadOnlyAdmin):
    list_display = ["deployment", "revision", "on_decay", "window_hours", "updated_at"]
    exclude = ["webhook_secret"]


@admin.register(DriftReport)
class DriftReportAdmin(ReadOnlyAdmin):
    list_display = ["pk", "policy", "window_key", "status", "dataset_drifted", "share"]
    list_filter = ["status", "dataset_drifted"]


@admin.register(PerformanceReport)
class PerformanceReportAdmin(ReadOnlyAdmin):
    list_display = ["pk", "batch", "kind", "metric", "value", "declared"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["pk", "policy", "kind", "severity", "status", "created_at"]
    list_filter = ["kind", "severity", "status"]


@admin.register(RetrainingTrigger)
class RetrainingTriggerAdmin(ReadOnlyAdmin):
    list_display = ["pk", "policy", "action", "status", "deadline", "training_run"]


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "ok", "status_code", "error", "latency_ms", "at"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["pk", "channel", "target", "event", "status", "created_at"]
    list_filter = ["channel", "status"]
    inlines = [AttemptInline]
