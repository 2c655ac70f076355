"""``manage.py demo`` as production runs it: PostgreSQL, Redis, and a real ``celery
worker`` process taking the default, gpu and reports queues; the story ends in the same
state as in-process (steps in order, ledger verifies, a summer decision's receipt
verifies offline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.test.utils import override_settings

from apps.demo import story as demo
from apps.fleet.models import Worker
from apps.inference import selectors as inference_selectors
from apps.ledger import offline_verifier
from apps.ledger.selectors import log_for, verifier_keys
from apps.ledger.stored_log_check import log_verify
from apps.registry.models import PredictionBatch
from apps.tenancy.models import Organization
from audit_platform.celery import app as celery_app
from tests.demo.test_demo_command import MILESTONES, in_order, run_demo
from tests.support import entry_types, worker_database_url

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.needs_services]
QUEUES = ("demo-default", "gpu", "reports")
WORKER = [sys.executable, "-m", "celery", "-A", "audit_platform", "worker", "--pool", "solo"]
WORKER += ["-n", "demo@%h", "--without-gossip", "--without-mingle"]


@pytest.fixture
def broker(redis_url, monkeypatch, settings, tmp_path):
    """Tasks go to the test Redis (its database is this run's own, emptied first);
    files are kept where the worker finds them."""
    redis.Redis.from_url(redis_url).flushdb()
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "broker_url", redis_url)
    monkeypatch.setitem(celery_app.conf, "task_default_queue", QUEUES[0])
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        yield redis_url


@pytest.fixture
def worker(broker, transactional_db, settings):
    # One worker takes every queue of the story: declared as the one class that takes
    # the jobs (batches and explanations are routed to online workers, docs/fleet.md).
    classes = {"all": {"queues": list(QUEUES), "job_queue": "gpu"}}
    settings.FLEET_WORKER_CLASSES = classes
    process = subprocess.Popen(
        [*WORKER, "-Q", ",".join(QUEUES)],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": broker,
            "CELERY_DEFAULT_QUEUE": QUEUES[0],
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "VAR_DIR": str(settings.VAR_DIR),
            "INFERENCE_DEVICE": "cpu",
            "FLEET_WORKER_CLASSES": json.dumps(classes),
            # The demo's webhook receiver listens on loopback in the test's process.
            "MONITORING_WEBHOOK_ALLOW_LOOPBACK": "true",
            "DJANGO_SETTINGS_MODULE": "audit_platform.settings",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Jobs are routed to classes with an online worker (docs/fleet.md): the story starts
    # once the worker's first heartbeat is in, as a pipeline submits to a running fleet.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if Worker.objects.filter(pid=process.pid, stopped_at__isnull=True).exists():
            break
        time.sleep(0.5)
    yield process
    process.terminate()
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


def test_the_demo_runs_on_a_real_worker_process(postgres, worker):
    output = run_demo()
    assert "The demo story was told in" in output, output
    organization = Organization.objects.get(slug=demo.ORGANIZATION_SLUG)
    assert in_order(MILESTONES, entry_types(organization)) == []
    log = log_for(organization=organization)
    assert log_verify(log=log).ok
    summer = (
        PredictionBatch.objects.filter(
            deployment__system__organization=organization, status="completed"
        )
        .order_by("-created_at")
        .first()
    )
    receipt = inference_selectors.row_receipt(batch=summer, row=11)
    assert offline_verifier.verify_receipt(receipt, verifier_keys(log=log))
