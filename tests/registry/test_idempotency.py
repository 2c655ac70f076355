"""Retried registry writes with the same Idempotency-Key record one row and one entry."""

from __future__ import annotations

from django.urls import reverse

from apps.ledger.models import Entry
from apps.registry.models import AISystem, TrainingRun
from tests.support import assert_nothing_written

SYSTEM = {"name": "Scoring", "intended_purpose": "Credit", "role": "provider"}


def test_same_key_same_body_records_once(org, pipeline):
    url = reverse("system-list")
    first = pipeline.post(url, SYSTEM, format="json", HTTP_IDEMPOTENCY_KEY="sys-1")
    entries = Entry.objects.filter(log__organization=org).count()
    again = pipeline.post(url, SYSTEM, format="json", HTTP_IDEMPOTENCY_KEY="sys-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert AISystem.objects.count() == 1
    assert Entry.objects.filter(log__organization=org).count() == entries


def test_same_key_different_body_is_422_and_writes_nothing(org, pipeline, post, system):
    url = reverse("training-run-list")
    pipeline.post(url, {"system_id": system["id"]}, format="json", HTTP_IDEMPOTENCY_KEY="run-1")
    entries = Entry.objects.filter(log__organization=org).count()
    with assert_nothing_written():
        response = pipeline.post(
            url,
            {"system_id": system["id"], "code_revision": "abc"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="run-1",
        )
    assert response.status_code == 422
    assert TrainingRun.objects.count() == 1
    assert Entry.objects.filter(log__organization=org).count() == entries
