"""With a real worker on Redis: a batch scored by our worker with drift planted in its
input ends in a drift report, an alert on the ledger, and a signed webhook, delivered
on the third attempt to a receiver that fails twice, every attempt in the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from apps.fleet.models import Worker
from apps.monitoring import webhooks
from apps.monitoring.models import Alert, Delivery, DriftReport
from audit_platform.celery import app as celery_app
from tests.factories import DatasetVersionFactory
from tests.monitoring.conftest import Receiver, frame
from tests.support import entry_types, parquet_bytes, sha256, worker_database_url

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.needs_services]


@pytest.fixture
def queue(redis_url, monkeypatch):
    """A queue of its own on the test Redis, for this process and the worker."""
    name = f"monitoring-{uuid.uuid4().hex[:12]}"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "broker_url", redis_url)
    monkeypatch.setitem(celery_app.conf, "task_default_queue", name)
    # Scoring goes to the gpu queue by route; here to this test's queue too.
    monkeypatch.setitem(celery_app.conf, "task_routes", {})
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    # Celery keeps the router it made on the first send of the run, so scoring may
    # still be routed to the gpu queue: the worker reads that one too, emptied here.
    redis.Redis.from_url(redis_url).delete("gpu")
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        yield name
    redis.Redis.from_url(redis_url).delete(name, "gpu")


def worker_classes(queue: str) -> dict:
    """The fleet's classes with this test's worker declared: it consumes its own queue
    and the gpu queue, where batches are routed (docs/fleet.md)."""
    return {
        "default": {"queues": ["default", "reports"]},
        "gpu": {"queues": [queue, "gpu"], "job_queue": "gpu"},
    }


def start_worker(redis_url: str, queue: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "audit_platform",
            "worker",
            "--pool",
            "solo",
            "-Q",
            f"{queue},gpu",
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": redis_url,
            "CELERY_DEFAULT_QUEUE": queue,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "DJANGO_SETTINGS_MODULE": "audit_platform.settings",
            "DEBUG": "false",
            "MONITORING_WEBHOOK_ALLOW_LOOPBACK": "true",
            "INFERENCE_DEVICE": "cpu",
            "FLEET_WORKER_CLASSES": json.dumps(worker_classes(queue)),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(predicate, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return None


def test_worker_batch_with_planted_drift_ends_in_a_signed_webhook_after_two_failures(
    request, postgres, redis_url, queue, org, served, run_batch, post, settings
):
    settings.MONITORING_WEBHOOK_ALLOW_LOOPBACK = True
    settings.FLEET_WORKER_CLASSES = worker_classes(queue)
    ids = served()
    system_id = ids["system"]["id"]
    from apps.registry.models import AISystem

    reference = DatasetVersionFactory(
        dataset__system=AISystem.objects.get(pk=system_id), columns=frame(2000, seed=1)
    )
    hook = Receiver(fail=2)
    policy = post(
        "monitoring-policy-list",
        {
            "deployment_id": ids["deployment"]["id"],
            "reference_dataset_version_id": reference.pk,
            "webhook_urls": [hook.url],
        },
    )
    worker = start_worker(redis_url, queue)
    try:
        # Jobs are routed to classes with an online worker (docs/fleet.md): wait for its
        # first heartbeat, as a pipeline submits to a running fleet.
        wait_for(
            lambda: (
                worker.poll() is not None
                or Worker.objects.filter(pid=worker.pid, stopped_at__isnull=True).exists()
            )
        )
        data = parquet_bytes(frame(3000, seed=2, shift={"age": 1.5, "income": 1.0, "debt": 1.0}))
        batch = run_batch(ids["deployment"]["id"], data)
        delivery = wait_for(
            lambda: Delivery.objects.filter(
                alert__policy_id=policy["id"], status__in=["delivered", "failed"]
            ).first()
        )
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
        hook.close()
    assert delivery is not None, output[-4000:]
    report = DriftReport.objects.get(batch_id=batch["id"])
    assert report.dataset_drifted and report.status == "completed"
    alert = Alert.objects.get(policy_id=policy["id"], kind="drift")
    assert "alert.raised" in entry_types(org)
    assert delivery.alert_id == alert.pk and delivery.status == "delivered", output[-4000:]
    attempts = list(delivery.attempts.order_by("number"))
    assert [(a.number, a.ok, a.status_code) for a in attempts] == [
        (1, False, 500),
        (2, False, 500),
        (3, True, 200),
    ]
    assert all(a.latency_ms > 0 for a in attempts)
    # Backoff: the attempts are spaced (Celery's exponential backoff with full jitter).
    assert attempts[2].at >= attempts[0].at
    third = hook.requests[2]
    assert webhooks.signature_valid(
        secret=policy["webhook_secret"],
        header=third["headers"][webhooks.SIGNATURE_HEADER],
        body=third["body"],
    )
    assert sha256(third["body"]) == sha256(delivery.body.encode())
    assert "apps.monitoring.batch_monitor" in output
    assert reverse("alert-detail", kwargs={"pk": alert.pk})
