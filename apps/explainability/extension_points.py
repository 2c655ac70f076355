"""Extension points of explainability: apps above it told when an explanation finishes.

Reports sit above explainability, so explainability cannot import them to say that the
SHAP values a decision explanation (Art. 86) waits for are ready; reports register a
hook here from their ``AppConfig.ready`` (docs/extension-points.md).
"""

from __future__ import annotations

from typing import Any, Protocol

from django.db import transaction


class ExplanationFinishedHook(Protocol):
    def __call__(self, *, explanation_id: Any) -> None:
        """Told, after the commit, that an explanation completed or finally failed."""


_explanation_finished_hooks: list[ExplanationFinishedHook] = []


def explanation_finished_hook_register(hook: ExplanationFinishedHook) -> None:
    """Adds ``hook``; registering the same hook twice keeps one."""
    if hook not in _explanation_finished_hooks:
        _explanation_finished_hooks.append(hook)


def explanation_finished(*, explanation_id: Any) -> None:
    """Calls every hook once the current transaction (the one that completed or failed
    the explanation) commits."""
    for hook in tuple(_explanation_finished_hooks):
        transaction.on_commit(lambda hook=hook: hook(explanation_id=explanation_id))
