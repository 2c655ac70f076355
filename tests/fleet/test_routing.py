"""Capacity-aware routing (jobs go to the class whose free GPU memory fits the model
version's profile; a job nothing fits is refused at submission, with the reason) and
queue-wait alerts. Real worker processes: tests/fleet/test_worker_classes.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.fleet.models import QueueWaitAlert, RoutingRefusal
from apps.fleet.services.routing import job_route
from apps.fleet.services.workers import worker_heartbeat
from apps.fleet.tasks import queue_wait_check_task
from apps.registry.models import ModelVersion, PredictionBatch
from apps.tasks.models import TaskRecord
from audit_platform.env import worker_classes
from audit_platform.errors import RuleViolation
from tests.factories import MembershipFactory
from tests.support import make_frame, parquet_bytes, sign_in_with_second_factor

pytestmark = pytest.mark.django_db

GIB = 2**30
CLASSES = {
    "default": {"queues": ["default", "reports"]},
    "gpu-small": {"queues": ["gpu-small"], "job_queue": "gpu-small"},
    "gpu-large": {"queues": ["gpu-large"], "job_queue": "gpu-large"},
}


@pytest.fixture
def fleet(settings):
    """``fleet()``: from now on a fleet with a broker (routing is skipped while tasks
    run in-process): one worker with a 16 GiB GPU (2 in use), one with an 80 GiB GPU
    (4 in use)."""

    def go_live():
        _go_live(settings)
        return settings

    return go_live


def _go_live(settings):
    settings.FLEET_WORKER_CLASSES = CLASSES
    settings.FLEET_ROUTING_MARGIN_PERCENT = 20
    for name, queue, total, used, uuid in (
        ("small@node-a", "gpu-small", 16, 2, "GPU-5ma11"),
        ("large@node-b", "gpu-large", 80, 4, "GPU-1a49e"),
    ):
        worker_heartbeat(
            report={
                "name": name,
                "worker_class": queue,
                "host": name.split("@")[1],
                "pid": 100,
                "queues": [queue],
                "pool": "solo",
                "concurrency": 1,
                "gpus": [
                    {
                        "name": "NVIDIA test GPU",
                        "uuid": uuid,
                        "driver": "550.54.15",
                        "memory_total_bytes": total * GIB,
                        "memory_used_bytes": used * GIB,
                    }
                ],
            }
        )
    settings.CELERY_TASK_ALWAYS_EAGER = False


@pytest.fixture
def profiled(served, run_batch):
    """A served version with three completed jobs (on this CPU)."""
    ids = served()
    for seed, rows in enumerate((200, 400, 800)):
        run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(rows, seed=seed)))
    return ids


def measured(ids, peak_gib: float | None) -> None:
    """The version's jobs as if measured on a GPU at that peak (None: on the CPU)."""
    for batch in PredictionBatch.objects.filter(model_version_id=ids["version"]["id"]):
        telemetry = {**batch.telemetry, "device": "cuda" if peak_gib else "cpu"}
        telemetry["gpu_peak_memory_bytes"] = int(peak_gib * GIB) if peak_gib else None
        PredictionBatch.objects.filter(pk=batch.pk).update(telemetry=telemetry)


def route(org, ids):
    version = ModelVersion.objects.get(pk=ids["version"]["id"])
    return job_route(
        organization=org, model_version=version, kind="prediction_batch", default_queue="gpu"
    )


def test_a_job_goes_to_the_smallest_class_whose_free_gpu_memory_fits(org, profiled, fleet):
    fleet()
    measured(profiled, 20)
    big = route(org, profiled)  # needs 24 GiB: only the 76 GiB free fits
    assert (big.worker_class, big.queue) == ("gpu-large", "gpu-large")
    assert big.needed_gpu_memory_bytes == 24 * GIB
    assert "peak 20.0 GiB measured + 20 % margin" in big.why
    assert {c["worker_class"] for c in big.considered} == {"gpu-small", "gpu-large"}
    measured(profiled, 10)
    small = route(org, profiled)  # needs 12 GiB: 14 GiB free is enough, the large stays free
    assert (small.worker_class, small.queue) == ("gpu-small", "gpu-small")
    measured(profiled, None)
    cpu = route(org, profiled)
    assert cpu.needed_gpu_memory_bytes == 0 and "CPU only" in cpu.why


def test_a_job_no_online_worker_fits_is_refused_up_front_with_the_reason(
    org, profiled, fleet, run_batch, pipeline
):
    ids = profiled
    measured(ids, 90)
    fleet()
    data = parquet_bytes(make_frame(100, seed=7))
    refused = run_batch(ids["deployment"]["id"], data, status=409, refusal_recorded=True)
    message = refused["error"]["message"]
    assert "needs 108.0 GiB (peak 90.0 GiB measured + 20 % margin)" in message
    assert "gpu-large: 1 online, the most free GPU memory 76.0 GiB" in message
    assert "gpu-small: 1 online, the most free GPU memory 14.0 GiB" in message
    # Nothing queued: three completed profile jobs, no fourth batch, no queued task.
    assert PredictionBatch.objects.filter(model_version_id=ids["version"]["id"]).count() == 3
    assert not TaskRecord.objects.filter(state="queued").exists()
    listed = pipeline.get(reverse("routing-refusal-list")).json()["results"]
    assert len(listed) == 1 and listed[0]["reason"] == message
    assert listed[0]["needed_gpu_memory_bytes"] == 108 * GIB
    assert listed[0]["model_version"] == ids["version"]["id"]


def test_with_every_job_class_offline_a_job_is_refused(org, profiled, fleet):
    ids = profiled
    fleet().FLEET_OFFLINE_SECONDS = 1
    from apps.fleet.models import Worker

    Worker.objects.update(last_seen_at=timezone.now() - timedelta(seconds=5))
    with pytest.raises(RuleViolation, match="gpu-large: no online worker on gpu-large"):
        route(org, ids)
    assert RoutingRefusal.objects.filter(organization=org).count() == 1


def test_without_a_broker_jobs_run_in_process_and_are_not_routed(profiled, run_batch, pipeline):
    ids = profiled
    measured(ids, 500)  # fits no GPU anywhere; in-process it runs on this CPU
    answer = run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(50, seed=3)))
    task = pipeline.get(reverse("task-detail", kwargs={"pk": answer["task_id"]})).json()
    assert task["state"] == "succeeded" and task["queue"] == "gpu"
    assert "in this process" in task["route"]["why"]


def test_a_job_queue_must_be_one_of_the_class_queues():
    with pytest.raises(ImproperlyConfigured, match="job_queue must be one of its queues"):
        worker_classes('{"gpu": {"queues": ["gpu"], "job_queue": "other"}}', default={})


def queued(queue: str, minutes: int, org) -> TaskRecord:
    task = TaskRecord.objects.create(
        organization=org, kind="inference.prediction_batch", queue=queue
    )
    TaskRecord.objects.filter(pk=task.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes)
    )
    return task


def test_a_queue_whose_oldest_job_waits_too_long_raises_one_alert(org, settings, pipeline):
    settings.FLEET_QUEUE_WAIT_ALERT_SECONDS = 600
    oldest = queued("gpu-large", 15, org)
    queued("gpu-large", 2, org)
    queued("gpu-small", 5, org)  # within the threshold
    queue_wait_check_task.delay()
    queue_wait_check_task.delay()  # run twice: still one alert
    alerts = pipeline.get(reverse("queue-alert-list")).json()["results"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert["queue"], alert["status"], alert["jobs_waiting"]) == ("gpu-large", "open", 2)
    assert alert["oldest_task_id"] == str(oldest.pk) and alert["waited_seconds"] >= 900
    assert pipeline.get(reverse("queue-alert-list"), {"status": "late"}).status_code == 400


def test_operators_acknowledge_and_resolve_a_queue_alert_with_a_note(org, settings, pipeline):
    queued("gpu", 30, org)
    queue_wait_check_task.delay()
    alert = QueueWaitAlert.objects.get()
    url = reverse("queue-alert-acknowledge", kwargs={"pk": alert.pk})
    refused = pipeline.post(url, {"note": "seen"}, format="json")
    assert refused.status_code == 403 and "operator" in refused.json()["error"]["message"]
    membership = MembershipFactory(organization=org, email="ops@acme.example", role="owner")
    membership.user.is_staff = True
    membership.user.save()
    operator = APIClient()
    sign_in_with_second_factor(operator, membership.user)
    assert operator.post(url, {"note": ""}, format="json").status_code == 400
    assert operator.post(url, {"note": "GPU node rebooting"}, format="json").status_code == 200
    resolve = reverse("queue-alert-resolve", kwargs={"pk": alert.pk})
    done = operator.post(resolve, {"note": "Node back"}, format="json").json()
    assert done["status"] == "resolved" and done["resolved_by"].startswith("user:")
    assert operator.post(resolve, {"note": "again"}, format="json").status_code == 409
    # The same job still waiting raises nothing new; a newer one past the threshold would.
    queue_wait_check_task.delay()
    assert QueueWaitAlert.objects.count() == 1
