"""How a ledger entry's subject reads on a page: the record's name in words, linked to
its page where it has one, instead of its kind and id ("Credit scoring", not
"ai_system 3"). Subjects without a name (an incident, an approval request) read as
their kind in words and a short id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse

from apps.registry import selectors as registry_selectors

KIND_WORDS = {
    "ai_system": "AI system",
    "alert": "alert",
    "api_key": "API key",
    "approval_request": "approval request",
    "assessment": "assessment",
    "dataset": "dataset",
    "dataset_version": "dataset version",
    "deployment": "deployment",
    "drift_report": "drift report",
    "explanation": "explanation",
    "incident": "incident",
    "invitation": "invitation",
    "ledger": "the ledger",
    "ledger_key": "ledger signing key",
    "membership": "membership",
    "model": "model",
    "model_version": "model version",
    "monitoring_policy": "monitoring policy",
    "organization": "organization",
    "performance_report": "performance report",
    "prediction_batch": "prediction batch",
    "report": "report",
    "retraining_trigger": "retraining trigger",
    "risk": "risk",
    "training_run": "training run",
    "worker": "worker",
}
SHORT_ID = 8  # characters of an id shown where a subject has no name


def _url(kind: str, pk: str) -> str | None:
    if kind == "ai_system":
        return reverse("web:system", args=[pk])
    if kind in registry_selectors.RECORD_KINDS:
        return reverse("web:record", args=[kind, pk])
    if kind == "incident":
        return reverse("web:incident", args=[pk])
    return None


def subject_labels(
    *, organization: Any, subjects: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, str | None]]:
    """``{(kind, id): {"text", "url"}}`` for each subject; one query per named kind."""
    subjects = list(subjects)
    names = registry_selectors.record_names(organization=organization, subjects=subjects)
    labels: dict[tuple[str, str], dict[str, str | None]] = {}
    for kind, pk in subjects:
        key = (kind, str(pk))
        words = KIND_WORDS.get(kind, kind.replace("_", " "))
        name = names.get(key)
        if name is not None:
            labels[key] = {"text": f"{words} {name}", "url": _url(kind, key[1])}
        else:
            short = key[1] if len(key[1]) <= SHORT_ID else f"{key[1][:SHORT_ID]}…"
            # Incidents have pages of their own though no name; registry records that
            # are not the organization's (or no longer there) get no link.
            url = _url(kind, key[1]) if kind == "incident" else None
            labels[key] = {"text": f"{words} {short}".strip(), "url": url}
    return labels


def with_subject_labels(
    *, organization: Any, entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The entries (dicts with subject_kind and subject_id), each with its ``about``."""
    labels = subject_labels(
        organization=organization,
        subjects=[(e["subject_kind"], str(e["subject_id"])) for e in entries],
    )
    return [{**e, "about": labels[(e["subject_kind"], str(e["subject_id"]))]} for e in entries]
