"""Real ``celery worker -Q gpu`` processes on Redis and PostgreSQL: the whole path,
and a worker killed (SIGKILL) in the middle of a batch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import redis
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from apps.explainability.models import Explanation
from apps.fleet.models import Worker
from apps.ledger.models import Entry
from apps.registry.models import PredictionBatch
from apps.tasks.models import TaskRecord
from audit_platform.celery import app as celery_app
from tests.support import (
    FEATURES,
    make_frame,
    parquet_bytes,
    train_xgboost,
    worker_database_url,
    xgboost_bytes,
)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.needs_services]


@pytest.fixture
def broker(redis_url, monkeypatch):
    """The test Redis server's database 13, which no other test uses; only the gpu
    queue is emptied, so nothing of anyone else's is touched."""
    url = redis_url.rsplit("/", 1)[0] + "/13"
    redis.Redis.from_url(url).delete("gpu")
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "broker_url", url)
    # Eager calls earlier in this process may have made the producer pool with the
    # embedded default's broker; publish through a fresh one, to this Redis.
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        yield url


def start_worker(
    broker_url: str, name: str, pool: tuple[str, ...] = ("--pool", "solo"), **env: str
) -> subprocess.Popen:
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "audit_platform",
            "worker",
            *pool,
            "-Q",
            "gpu",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": broker_url,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "DJANGO_SETTINGS_MODULE": "audit_platform.settings",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Jobs are routed to classes with an online worker (docs/fleet.md): wait for its
    # first heartbeat, as a pipeline submits to a running fleet.
    wait_for(
        lambda: (
            worker.poll() is not None
            or Worker.objects.filter(pid=worker.pid, stopped_at__isnull=True).exists()
        ),
        120,
    )
    return worker


def stop(worker: subprocess.Popen) -> str:
    if worker.poll() is None:
        worker.terminate()
    try:
        return worker.communicate(timeout=30)[0] or ""
    except subprocess.TimeoutExpired:
        worker.kill()
        return worker.communicate()[0] or ""


def wait_for(predicate, timeout: float = 180, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return None


def setup_batch(request, rows: int, trees: int, depth: int):
    """Org, pipeline client, a served XGBoost model and an uploaded input file."""

    org = request.getfixturevalue("org")
    served = request.getfixturevalue("served")
    upload = request.getfixturevalue("upload")
    pipeline = request.getfixturevalue("pipeline")
    booster = train_xgboost(rows=2000, trees=trees, depth=depth)
    ids = served(xgboost_bytes(booster))
    data = parquet_bytes(make_frame(rows, seed=11))
    upload(data, name="input.parquet")
    return org, pipeline, ids, data, booster


def entries(org, type_: str) -> list[dict]:
    return [
        json.loads(bytes(body))
        for body in Entry.objects.filter(log__organization=org, type=type_)
        .order_by("seq")
        .values_list("body", flat=True)
    ]


def test_worker_scores_50000_rows_explains_them_and_a_receipt_verifies(
    request, postgres, broker, tmp_path
):
    org, pipeline, ids, data, booster = setup_batch(request, rows=50_000, trees=50, depth=6)
    worker = start_worker(broker, "e2e")
    try:
        answer = pipeline.post(
            reverse("prediction-batch-run"),
            {"deployment_id": ids["deployment"]["id"], "input_sha256": _sha(data)},
            format="json",
        )
        assert answer.status_code == 201, answer.content
        batch_id = answer.json()["id"]
        batch = wait_for(
            lambda: PredictionBatch.objects.filter(
                pk=batch_id, status__in=["completed", "failed"]
            ).first()
        )
        assert batch is not None and batch.status == "completed", batch and batch.failure_reason
        explained = pipeline.post(
            reverse("explanation-list"),
            {"model_version_id": ids["version"]["id"], "prediction_batch_id": batch_id},
            format="json",
        )
        assert explained.status_code == 201, explained.content
        explanation = wait_for(
            lambda: Explanation.objects.filter(
                pk=explained.json()["id"], status__in=["completed", "failed"]
            ).first()
        )
    finally:
        output = stop(worker)
    assert explanation is not None and explanation.status == "completed", output[-3000:]
    # Outputs, digests, rows root and telemetry on the record and on the ledger.
    assert batch.row_count == 50_000 and len(batch.rows_root) == 64
    assert batch.output_sha256 == batch.output_artifact.sha256
    assert batch.telemetry["device"] in ("cpu", "cuda")
    assert batch.telemetry["wall_seconds"] > 0
    (completed,) = entries(org, "prediction_batch.completed")
    assert completed["data"]["rows_root"] == batch.rows_root
    assert completed["data"]["telemetry"]["device"] == batch.telemetry["device"]
    assert completed["actor"]["kind"] == "system"
    assert batch.ran_on["pid"] != os.getpid()
    # The SHAP values: artifact, additivity and global importance.
    assert explanation.values_artifact.sha256 == explanation.values_sha256
    assert explanation.rows == 50_000 and explanation.additivity_max_error <= 1e-4
    assert set(explanation.global_importance) == set(FEATURES)
    (done,) = entries(org, "explanation.completed")
    assert done["data"]["values_sha256"] == explanation.values_sha256
    # A receipt for one decision verifies offline with the log's key.
    n = 31_337
    receipt = pipeline.get(
        reverse("prediction-batch-row-receipt", kwargs={"pk": batch_id, "n": n})
    ).json()
    import pyarrow.parquet as pq

    with batch.input_artifact.file.open("rb") as f:
        table = pq.read_table(f)
    row = {name: table.column(name)[n].as_py() for name in table.column_names}
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    (tmp_path / "row.json").write_text(json.dumps(row))
    vkey = pipeline.get(reverse("ledger-keys")).content.decode().split()[0]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "apps.ledger.offline_verifier",
            "receipt",
            str(tmp_path / "receipt.json"),
            "--vkey",
            vkey,
            "--input",
            str(tmp_path / "row.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    expected = float(
        booster.inplace_predict(np.array([[row[f] for f in FEATURES]], dtype=np.float32))[0]
    )
    assert receipt["leaf_json"]["output"] == pytest.approx(expected, abs=1e-7)


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_worker_killed_mid_batch_is_finished_once_by_the_next(request, postgres, broker):
    org, pipeline, ids, data, _ = setup_batch(request, rows=50_000, trees=100, depth=6)
    # Small steps make the run long enough, and its progress fine enough, to kill it
    # in the middle; a short visibility timeout lets Redis hand the unacknowledged
    # task to the next worker at its start.
    env = {
        "INFERENCE_CHUNK_ROWS": "250",
        "INFERENCE_PROGRESS_MS": "0",
        "CELERY_VISIBILITY_TIMEOUT": "2",
    }
    first = start_worker(broker, "first", **env)
    second = None
    try:
        answer = pipeline.post(
            reverse("prediction-batch-run"),
            {"deployment_id": ids["deployment"]["id"], "input_sha256": _sha(data)},
            format="json",
        )
        assert answer.status_code == 201, answer.content
        batch_id, task_id = answer.json()["id"], answer.json()["task_id"]
        progressed = wait_for(
            lambda: TaskRecord.objects.filter(pk=task_id, percent__gte=20, percent__lt=80).first()
        )
        assert progressed is not None, stop(first)[-3000:]
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        killed_at = TaskRecord.objects.get(pk=task_id)
        assert killed_at.state == "running" and killed_at.percent < 100
        assert PredictionBatch.objects.get(pk=batch_id).status == "running"
        time.sleep(2.5)  # past the visibility timeout
        second = start_worker(broker, "second", **env)
        batch = wait_for(
            lambda: PredictionBatch.objects.filter(
                pk=batch_id, status__in=["completed", "failed"]
            ).first()
        )
    finally:
        output = stop(first) + (stop(second) if second else "")
    assert batch is not None and batch.status == "completed", output[-3000:]
    assert len(entries(org, "prediction_batch.completed")) == 1
    stored = [e["data"]["sha256"] for e in entries(org, "artifact.stored")]
    assert stored.count(batch.output_sha256) == 1
    assert len(stored) == 4  # model, input, one output, one rows file
    task = TaskRecord.objects.get(pk=task_id)
    assert task.state == "succeeded" and task.attempts == 2


GPU_WORKER_POOL = ("--pool", "prefork", "--concurrency", "1")
FRAMEWORKS = ("xgboost", "onnxruntime", "shap", "torch", "lightgbm", "cupy")


def test_worker_parent_never_imports_the_frameworks():
    # A prefork pool forks its child from the parent: CUDA (or a framework's
    # threads) started in the parent would be unusable in the child. The parent
    # loads the Celery app, Django and every task module; none imports a framework.
    code = (
        "import sys\n"
        "from audit_platform.celery import app\n"
        "app.loader.import_default_modules()\n"
        "import apps.inference.tasks, apps.explainability.tasks\n"
        "assert 'apps.inference.tasks' in sys.modules\n"
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "audit_platform.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "[]"


def test_readme_runs_gpu_workers_as_a_one_process_prefork_pool():
    # The solo pool ignores time limits; a one-process prefork pool enforces them.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [line for line in readme.splitlines() if "worker -Q gpu" in line]
    assert commands
    for line in commands:
        assert " ".join(GPU_WORKER_POOL) in line and "solo" not in line, line


def test_one_process_prefork_gpu_worker_scores_a_batch(request, postgres, broker):
    _, pipeline, ids, data, _ = setup_batch(request, rows=2000, trees=10, depth=3)
    worker = start_worker(broker, "prefork", pool=GPU_WORKER_POOL)
    try:
        answer = pipeline.post(
            reverse("prediction-batch-run"),
            {"deployment_id": ids["deployment"]["id"], "input_sha256": _sha(data)},
            format="json",
        )
        assert answer.status_code == 201, answer.content
        batch = wait_for(
            lambda: PredictionBatch.objects.filter(
                pk=answer.json()["id"], status__in=["completed", "failed"]
            ).first()
        )
    finally:
        output = stop(worker)
    assert batch is not None and batch.status == "completed", output[-3000:]
    assert "concurrency: 1 (prefork)" in output
    assert batch.ran_on["pid"] != worker.pid  # scored in the forked child
