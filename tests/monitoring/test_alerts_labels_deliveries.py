"""Labels turn an estimate into a realized figure; a drop raises an alert; people
acknowledge and resolve alerts; failed deliveries are retried and every attempt kept."""

from __future__ import annotations

import numpy as np
import pytest

from apps.monitoring.models import Alert, Delivery, PerformanceReport
from tests.monitoring.conftest import frame, record_batch, scores_for
from tests.support import entry_types, last_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(post, monitored):
    return post(
        "monitoring-policy-list",
        {
            "deployment_id": monitored["deployment"].pk,
            "reference_dataset_version_id": monitored["reference"].pk,
            "performance_drop": 0.05,
        },
    )


@pytest.fixture
def scored(monitored, policy, django_capture_on_commit_callbacks):
    """A batch of 400 rows with calibrated scores, recorded with its files."""
    inputs = frame(400, seed=7)
    with django_capture_on_commit_callbacks(execute=True):
        batch = record_batch(monitored["deployment"], inputs)
    return batch, scores_for(inputs)


def test_estimate_then_realized_accuracy_replaces_it_and_a_drop_alerts(org, post, scored):
    batch, scores = scored
    estimate = PerformanceReport.objects.get(batch=batch, kind="estimated")
    assert estimate.lower < estimate.value < estimate.upper and estimate.rows == 400
    assert last_entry(org, "performance.estimated")["data"]["method"] == "CBPE"
    # Labels that disagree with the model on a third of the rows: realized accuracy
    # falls far below the declared 0.9.
    rng = np.random.default_rng(0)
    predicted = (scores >= 0.5).astype(int)
    flip = rng.random(400) < 0.35
    labels = np.where(flip, 1 - predicted, predicted)
    answer = post(
        "batch-labels",
        {"rows": list(range(400)), "labels": [int(v) for v in labels]},
        pk=batch.pk,
    )
    assert answer["kind"] == "realized"
    assert answer["value"] == pytest.approx(1 - flip.mean())
    realized = last_entry(org, "performance.realized")["data"]
    assert realized["replaces"] == {"kind": "performance_report", "id": str(estimate.pk)}
    alert = Alert.objects.get(kind="performance", severity="critical")
    assert alert.figures["declared"] == 0.9
    assert "realized" in alert.cause
    # Labels land once per batch.
    post("batch-labels", {"rows": [0], "labels": [1]}, pk=batch.pk, status=409)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"rows": [0, 400], "labels": [1, 0]}, "rows"),
        ({"rows": [0, -1], "labels": [1, 0]}, "rows"),
        ({"rows": [0, 0], "labels": [1, 0]}, "rows"),
        ({"rows": ["a"], "labels": [1]}, "rows"),
        ({"rows": [0, 1], "labels": [1, "yes"]}, "labels"),
        ({"rows": [0, 1], "labels": [1, 2]}, "labels"),
        ({"rows": [0, 1], "labels": [1]}, "labels"),
    ],
)
def test_bad_labels_are_refused_with_the_field_to_fix(post, scored, payload, field):
    batch, _ = scored
    answer = post("batch-labels", payload, pk=batch.pk, status=400)
    assert field in answer["error"]["fields"], answer


def test_people_acknowledge_and_resolve_an_alert_with_a_note(org, post, scored, person):
    batch, _ = scored
    post("batch-labels", {"rows": [0, 1, 2], "labels": [0, 0, 0]}, pk=batch.pk)
    alert = Alert.objects.filter(kind="performance").latest("pk")
    # A pipeline's key cannot; a person can, with a note.
    refused = post("alert-acknowledge", {"note": "seen"}, pk=alert.pk, status=403)
    assert "people" in refused["error"]["message"]
    client, _ = person("ml_engineer", "eng@acme.example")
    post("alert-acknowledge", {"note": ""}, pk=alert.pk, status=400, client=client)
    post("alert-acknowledge", {"note": "Looking at it"}, pk=alert.pk, status=200, client=client)
    done = post(
        "alert-resolve", {"note": "Labels were wrong"}, pk=alert.pk, status=200, client=client
    )
    assert done["status"] == "resolved" and done["resolved_by"].startswith("user:")
    types = entry_types(org)
    assert types.index("alert.acknowledged") < types.index("alert.resolved")
    post("alert-resolve", {"note": "again"}, pk=alert.pk, status=409, client=client)


def test_a_receiver_that_fails_twice_gets_the_third_attempt(
    post, monitored, receiver, django_capture_on_commit_callbacks
):
    hook = receiver(fail=2)
    post(
        "monitoring-policy-list",
        {
            "deployment_id": monitored["deployment"].pk,
            "reference_dataset_version_id": monitored["reference"].pk,
            "webhook_urls": [hook.url],
            "email_recipients": ["oncall@acme.example"],
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        record_batch(
            monitored["deployment"], frame(1500, seed=8, shift={f: 1.0 for f in ("age", "income")})
        )
    webhook = Delivery.objects.get(channel="webhook")
    assert webhook.status == "delivered"
    attempts = list(webhook.attempts.values_list("number", "ok", "status_code"))
    assert attempts == [(1, False, 500), (2, False, 500), (3, True, 200)]
    assert all(a.latency_ms > 0 for a in webhook.attempts.all())
    assert len(hook.requests) == 3
    from django.core import mail

    email = Delivery.objects.get(channel="email")
    assert email.status == "delivered"
    assert mail.outbox[-1].to == ["oncall@acme.example"]


def test_a_delivery_that_never_succeeds_fails_with_every_attempt_listed(
    post, monitored, receiver, django_capture_on_commit_callbacks
):
    from apps.tasks.jobs import MAX_RETRIES

    hook = receiver(fail=100)
    post(
        "monitoring-policy-list",
        {
            "deployment_id": monitored["deployment"].pk,
            "reference_dataset_version_id": monitored["reference"].pk,
            "webhook_urls": [hook.url],
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        record_batch(monitored["deployment"], frame(1500, seed=9, shift={"age": 1.0, "debt": 1.0}))
    delivery = Delivery.objects.get(channel="webhook")
    assert delivery.status == "failed" and "HTTP 500" in delivery.failure_reason
    assert delivery.attempts.count() == MAX_RETRIES + 1
