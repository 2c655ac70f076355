"""Reads of explanations for other apps (reports)."""

from __future__ import annotations

from typing import Any

from apps.explainability.models import Explanation


def explanation_latest_completed(*, model_version: Any) -> Explanation | None:
    """The model version's most recently finished completed explanation, or None."""
    return (
        Explanation.objects.filter(model_version=model_version, status=Explanation.Status.COMPLETED)
        .order_by("-finished_at", "-pk")
        .first()
    )
