"""Explanations in the admin: read-only, like everything that is on the record."""

from __future__ import annotations

from django.contrib import admin

from apps.explainability.models import Explanation
from audit_platform.admin import ReadOnlyAdmin


@admin.register(Explanation)
class ExplanationAdmin(ReadOnlyAdmin):
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
