"""A real Celery worker process, on Redis, picks up queued work and finishes it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery

from apps.ledger.tasks import log_verify_task
from apps.tasks.models import TaskRecord
from apps.tasks.services import task_record_create
from tests.support import worker_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_worker_process_runs_a_queued_ledger_verification(redis_url, request):
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
        # A client of its own: the project's app may hold a connection cached by
        # in-process (eager) runs earlier in the session. Not made the current app, so
        # the project's tasks still resolve against the project's app in later tests.
        with Celery("test-client", broker=redis_url, set_as_current=False) as client:
            client.send_task(log_verify_task.name, args=[str(record.pk)], queue=queue)
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
