"""Two real ``celery worker`` processes on Redis, of two declared classes (a 16 GiB
and an 80 GiB GPU, described by a stand-in NVML): a batch whose model version needs
24 GiB runs on the large class; one needing 108 GiB is refused at submission."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from apps.fleet.models import Worker
from apps.registry.models import PredictionBatch
from audit_platform.celery import app as celery_app
from tests.fleet.test_routing import CLASSES, measured
from tests.inference.test_worker_process import stop, wait_for
from tests.support import make_frame, parquet_bytes, sha256, worker_database_url

ROOT = Path(__file__).resolve().parents[2]
FAKE_NVML = Path(__file__).resolve().parent / "fake_nvml"
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.needs_services]


def start_worker(broker_url: str, name: str, queue: str, gpu: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DJANGO_SETTINGS_MODULE": "audit_platform.settings",
        "FLEET_WORKER_CLASSES": json.dumps(CLASSES),
        "FLEET_HEARTBEAT_SECONDS": "1",
        "INFERENCE_DEVICE": "cpu",
        "FAKE_NVML_GPU": gpu,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(FAKE_NVML), os.environ.get("PYTHONPATH")])),
    }
    env.pop("CUDA_VISIBLE_DEVICES", None)
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
            queue,
            "-n",
            f"{name}@%h",
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


@pytest.fixture
def broker_on(redis_url, monkeypatch):
    """``broker_on()``: from now on jobs are published to the test Redis (its own
    database, TEST_REDIS_URL) for the workers; until then they run in this process."""

    def switch() -> str:
        redis.Redis.from_url(redis_url).delete("gpu-small", "gpu-large")
        monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
        monkeypatch.setitem(celery_app.conf, "broker_url", redis_url)
        monkeypatch.setattr(celery_app, "_pool", None)
        monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
        live = override_settings(CELERY_TASK_ALWAYS_EAGER=False, FLEET_WORKER_CLASSES=CLASSES)
        live.enable()
        switched.append(live)
        return redis_url

    switched: list = []
    yield switch
    for live in switched:
        live.disable()


def test_a_job_runs_on_the_class_that_fits_and_one_nothing_fits_is_refused(
    postgres, served, run_batch, upload, pipeline, broker_on
):
    ids = served()
    for seed, rows in enumerate((200, 400, 800)):
        run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(rows, seed=seed)))
    measured(ids, 20)  # needs 24 GiB with the margin: only the large GPU has it free
    url = broker_on()
    workers = {
        "small": start_worker(url, "small", "gpu-small", "GPU-5ma11,16,2"),
        "large": start_worker(url, "large", "gpu-large", "GPU-1a49e,80,4"),
    }
    try:
        online = wait_for(lambda: Worker.objects.filter(stopped_at__isnull=True).count() == 2, 120)
        assert online, "both workers report a heartbeat"
        listed = pipeline.get(reverse("worker-list")).json()["results"]
        assert {(w["worker_class"], w["state"]) for w in listed} == {
            ("gpu-small", "online"),
            ("gpu-large", "online"),
        }
        data = parquet_bytes(make_frame(300, seed=9))
        upload(data, name="input.parquet")
        body = {"deployment_id": ids["deployment"]["id"], "input_sha256": sha256(data)}
        answer = pipeline.post(reverse("prediction-batch-run"), body, format="json")
        assert answer.status_code == 201, answer.content
        task = pipeline.get(reverse("task-detail", kwargs={"pk": answer.json()["task_id"]}))
        route = task.json()["route"]
        assert (route["worker_class"], route["queue"]) == ("gpu-large", "gpu-large")
        batch = wait_for(
            lambda: PredictionBatch.objects.filter(
                pk=answer.json()["id"], status__in=["completed", "failed"]
            ).first(),
            120,
        )
        assert batch is not None and batch.status == "completed"
        assert batch.ran_on["pid"] == workers["large"].pid
        measured(ids, 90)  # needs 108 GiB: no online worker has it
        refused = pipeline.post(reverse("prediction-batch-run"), body, format="json")
        assert refused.status_code == 409
        message = refused.json()["error"]["message"]
        assert "needs 108.0 GiB" in message and "gpu-large: 1 online" in message
        assert "gpu-small: 1 online" in message
        assert PredictionBatch.objects.filter(model_version_id=ids["version"]["id"]).count() == 4
    finally:
        outputs = {name: stop(worker) for name, worker in workers.items()}
    assert all(worker.returncode is not None for worker in workers.values()), outputs
