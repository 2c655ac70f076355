"""A real Celery worker process, on Redis, picks up queued work and finishes it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.test import override_settings

from apps.ledger.tasks import log_verify_task
from apps.tasks.models import TaskRecord
from apps.tasks.services import task_record_create
from audit_platform.celery import app as celery_app
from tests.support import worker_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_worker_process_runs_a_queued_ledger_verification(redis_url, monkeypatch, request):
    request.getfixturevalue("postgres")
    from apps.tenancy.services import organization_create

    org = organization_create(slug="queued", name="Queued")
    record = task_record_create(organization=org, kind="ledger.verify")
    # A queue of its own: no other worker on this Redis can take the task.
    queue = f"test-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "audit_platform.settings",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "audit_platform",
            "worker",
            "--pool",
            "solo",
            "--queues",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
            monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
            monkeypatch.setitem(celery_app.conf, "broker_url", redis_url)
            log_verify_task.apply_async(args=[str(record.pk)], queue=queue)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            record.refresh_from_db()
            if record.state in (TaskRecord.State.SUCCEEDED, TaskRecord.State.FAILED):
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert record.state == TaskRecord.State.SUCCEEDED, output[-3000:]
    assert record.message.startswith("OK localhost/queued: 1 entries canonical")
    assert record.attempts == 1
    assert "apps.ledger.log_verify" in output
