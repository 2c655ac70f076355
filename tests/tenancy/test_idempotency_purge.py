"""Stored Idempotency-Key answers are kept for IDEMPOTENCY_RETENTION_HOURS: a retry
within it is replayed, and once the answer is purged the same key runs as new."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apps.ledger.models import Entry
from apps.tenancy import services
from apps.tenancy.models import ApiKey, IdempotencyRecord
from apps.tenancy.tasks import idempotency_records_purge_task
from audit_platform.celery import app

KEY = "nightly-2024-06-01-step-3"
API_KEYS = reverse("api-key-list")
BODY = {"role": "pipeline", "name": "nightly"}


def _post(client, key: str = KEY):
    return client.post(API_KEYS, BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _hours_from_now(hours: float):
    return timezone.now() + timedelta(hours=hours)


def _age(org, key: str, hours: float) -> None:
    IdempotencyRecord.objects.filter(organization=org, key=key).update(
        created_at=_hours_from_now(-hours)
    )


@pytest.mark.embedded
def test_a_retry_within_the_retention_is_replayed_after_a_purge(org, owner):
    first = _post(owner)
    _age(org, KEY, settings.IDEMPOTENCY_RETENTION_HOURS - 1)

    assert services.idempotency_records_purge() == 0
    retry = _post(owner)

    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert ApiKey.objects.filter(organization=org, name="nightly").count() == 1


@pytest.mark.embedded
def test_after_the_purge_a_retried_key_runs_as_a_new_request(org, owner):
    first = _post(owner)
    entries = Entry.objects.filter(log__organization=org, type="api_key.created").count()
    _age(org, KEY, settings.IDEMPOTENCY_RETENTION_HOURS + 1)

    assert services.idempotency_records_purge() == 1
    again = _post(owner)

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert again.json()["id"] != first.json()["id"]
    assert ApiKey.objects.filter(organization=org, name="nightly").count() == 2
    assert Entry.objects.filter(log__organization=org, type="api_key.created").count() == (
        entries + 1
    )
    # The new answer is kept in turn, so a retry of this request is replayed again.
    assert _post(owner)["Idempotent-Replayed"] == "true"


def test_purge_deletes_only_expired_records_of_every_organization_in_batches(
    org, other_org, client_for
):
    clients = {org: client_for(org, "owner"), other_org: client_for(other_org, "owner")}
    for organization, client in clients.items():
        for n in range(5):
            assert _post(client, key=f"old-{n}").status_code == 201
            _age(organization, f"old-{n}", settings.IDEMPOTENCY_RETENTION_HOURS + 2)
        assert _post(client, key="fresh").status_code == 201

    assert services.idempotency_records_purge(batch_size=3) == 10
    assert sorted(IdempotencyRecord.objects.values_list("organization__slug", "key")) == [
        ("acme", "fresh"),
        ("globex", "fresh"),
    ]
    assert services.idempotency_records_purge(batch_size=3) == 0


def test_retention_is_counted_from_when_the_answer_was_stored(org, owner, settings):
    settings.IDEMPOTENCY_RETENTION_HOURS = 2
    _post(owner)

    assert services.idempotency_records_purge(now=_hours_from_now(1.9)) == 0
    assert services.idempotency_records_purge(now=_hours_from_now(2.1)) == 1


def test_purge_command_prints_one_line_with_the_count(org, owner):
    _post(owner)
    _age(org, KEY, settings.IDEMPOTENCY_RETENTION_HOURS + 1)
    out = StringIO()

    call_command("purge_idempotency_records", stdout=out)

    hours = settings.IDEMPOTENCY_RETENTION_HOURS
    assert out.getvalue() == f"purged 1 idempotency record(s) older than {hours} hours\n"
    assert not IdempotencyRecord.objects.exists()


def test_purge_task_is_on_the_hourly_beat_schedule_and_safe_to_run_twice(org, owner):
    entry = app.conf.beat_schedule["idempotency-records-purge"]
    assert entry["task"] == idempotency_records_purge_task.name
    assert entry["schedule"] == 3600
    _post(owner)
    _age(org, KEY, settings.IDEMPOTENCY_RETENTION_HOURS + 1)

    assert idempotency_records_purge_task.apply().get() == 1
    assert idempotency_records_purge_task.apply().get() == 0
    assert not IdempotencyRecord.objects.exists()
