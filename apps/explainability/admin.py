"""Explanations in the admin: read-only, like everything that is on the record."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.explainability.models import Explanation


@admin.register(Explanation)
class ExplanationAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "organization",
        "model_version",
        "method",
        "status",
        "rows",
        "additivity_ok",
        "energy_joules",
        "created_at",
    ]
    list_filter = ["organization", "status", "method"]
    search_fields = ["input_sha256", "values_sha256"]
    readonly_fields = [f.name for f in Explanation._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
