"""The worker inventory: heartbeats with GPUs read through NVML (a fake NVML here;
tests/gpu reads a real one), offline after the configured time, refusals with the
reason, and hardware changes on the ledger of high-risk systems' organizations."""

from __future__ import annotations

import socket
import sys
import types
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.fleet import heartbeat
from apps.fleet.models import HeartbeatRejection, Worker
from apps.fleet.services.workers import worker_heartbeat
from apps.registry.models import AISystem
from audit_platform.errors import InvalidInput
from tests.factories import ClassificationFactory
from tests.support import answers, entry_types, last_entry, make_frame, parquet_bytes

pytestmark = pytest.mark.django_db


class FakeNvml(types.SimpleNamespace):
    """Two GPUs: an H100 (MIG off) and an A100 in MIG mode whose power reading the
    driver refuses."""

    GPUS = [
        ("NVIDIA H100 80GB HBM3", "GPU-aaaa-1111", 80 * 2**30, 3 * 2**30, 0, 61, 312_500),
        ("NVIDIA A100-SXM4-40GB", "GPU-bbbb-2222", 40 * 2**30, 0, 1, 45, None),
    ]

    def __init__(self, driver: str = "550.54.15"):
        super().__init__()
        self.driver = driver

    def nvmlInit(self):
        pass

    def nvmlDeviceGetCount(self):
        return len(self.GPUS)

    def nvmlDeviceGetHandleByIndex(self, index):
        return index

    def nvmlDeviceGetHandleByUUID(self, uuid):
        return [g[1] for g in self.GPUS].index(uuid.decode())

    def nvmlSystemGetDriverVersion(self):
        return self.driver

    def nvmlDeviceGetName(self, h):
        return self.GPUS[h][0].encode()

    def nvmlDeviceGetUUID(self, h):
        return self.GPUS[h][1]

    def nvmlDeviceGetMemoryInfo(self, h):
        return types.SimpleNamespace(total=self.GPUS[h][2], used=self.GPUS[h][3])

    def nvmlDeviceGetMigMode(self, h):
        return (self.GPUS[h][4], self.GPUS[h][4])

    def nvmlDeviceGetTemperature(self, h, sensor):
        assert sensor == 0
        return self.GPUS[h][5]

    def nvmlDeviceGetPowerUsage(self, h):
        if self.GPUS[h][6] is None:
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
        return self.GPUS[h][6]


@pytest.fixture
def nvml(monkeypatch):
    fake = FakeNvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return fake


def beat(name="gpu1@node-a", consumes=("gpu",), **changes):
    report = heartbeat.report(name=name, queues=list(consumes), pool="solo", concurrency=1)
    report.update(changes)
    return worker_heartbeat(report=report)


def test_a_gpu_worker_reports_each_gpu_through_nvml(nvml, pipeline):
    beat()
    workers = pipeline.get(reverse("worker-list")).json()["results"]
    assert len(workers) == 1
    worker = workers[0]
    assert (worker["name"], worker["worker_class"], worker["state"]) == (
        "gpu1@node-a",
        "gpu",
        "online",
    )
    assert worker["host"] == socket.gethostname() and worker["queues"] == ["gpu"]
    assert worker["software"]["Django"] and worker["software"]["python"]
    assert worker["gpus"] == [
        {
            "name": "NVIDIA H100 80GB HBM3",
            "uuid": "GPU-aaaa-1111",
            "driver": "550.54.15",
            "memory_total_bytes": 80 * 2**30,
            "memory_used_bytes": 3 * 2**30,
            "mig_mode": "disabled",
            "temperature_c": 61.0,
            "power_w": 312.5,
        },
        {
            "name": "NVIDIA A100-SXM4-40GB",
            "uuid": "GPU-bbbb-2222",
            "driver": "550.54.15",
            "memory_total_bytes": 40 * 2**30,
            "memory_used_bytes": 0,
            "mig_mode": "enabled",
            "temperature_c": 45.0,
            "power_w": None,
        },
    ]
    assert worker["no_gpu_reason"] == ""


def test_a_worker_pinned_to_one_gpu_reports_that_one(nvml, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-bbbb-2222")
    assert [g["uuid"] for g in beat().gpus] == ["GPU-bbbb-2222"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert beat().no_gpu_reason == "CUDA_VISIBLE_DEVICES hides every GPU"


def test_without_nvml_the_inventory_says_no_gpu_and_why(monkeypatch, pipeline):
    def missing():
        raise RuntimeError("NVML Shared Library Not Found")

    monkeypatch.setattr(heartbeat, "nvml", missing)
    beat(name="cpu1@node-b", consumes=("default",))
    worker = pipeline.get(reverse("worker-list")).json()["results"][0]
    assert worker["gpus"] == [] and worker["worker_class"] == "default"
    assert worker["no_gpu_reason"] == "no NVIDIA driver here (NVML: NVML Shared Library Not Found)"


def test_a_silent_worker_is_offline_after_the_configured_time(nvml, settings, pipeline):
    settings.FLEET_OFFLINE_SECONDS = 5
    worker = beat()
    Worker.objects.filter(pk=worker.pk).update(last_seen_at=timezone.now() - timedelta(seconds=6))
    detail = pipeline.get(reverse("worker-detail", kwargs={"pk": worker.pk})).json()
    assert detail["state"] == "offline"
    beat()
    assert pipeline.get(reverse("worker-detail", kwargs={"pk": worker.pk})).json()["state"] == (
        "online"
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"worker_class": "huge"}, "unknown worker class 'huge'"),
        ({"worker_class": "gpu", "queues": ["gpu", "reports"]}, "declares no queue reports"),
        ({"concurrency": 0}, "concurrency must be"),
        ({"gpus": [{"uuid": "x"}]}, "gpus[0].uuid is not an NVML UUID"),
        (
            {
                "gpus": [
                    {
                        "name": "G",
                        "uuid": "GPU-1",
                        "memory_total_bytes": 10,
                        "memory_used_bytes": 11,
                    }
                ]
            },
            "memory_used_bytes must lie between 0 and the total (10)",
        ),
        ({"gpus": [], "no_gpu_reason": ""}, "must say why"),
    ],
)
def test_impossible_or_unknown_heartbeats_are_refused_with_the_reason(
    nvml, pipeline, changes, reason
):
    with pytest.raises(InvalidInput, match="Heartbeat refused"):
        beat(**changes)
    assert not Worker.objects.exists()
    rejections = pipeline.get(reverse("heartbeat-rejection-list")).json()["results"]
    assert reason in rejections[0]["reason"]
    assert HeartbeatRejection.objects.count() == 1


def test_impossible_gpu_figures_are_refused(nvml):
    report = heartbeat.report(name="w@h", queues=["gpu"], pool="solo", concurrency=1)
    report["gpus"][0]["temperature_c"] = 900
    report["gpus"][1]["uuid"] = report["gpus"][0]["uuid"]
    with pytest.raises(InvalidInput) as refused:
        worker_heartbeat(report=report)
    assert "gpus[0].temperature_c 900 is no GPU's temperature" in refused.value.message
    assert "the same GPU UUID is listed twice" in refused.value.message


def test_a_new_driver_on_a_host_that_served_a_high_risk_system_goes_on_its_ledger(
    nvml, served, run_batch, org, other_org
):
    ids = served()
    run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(20, seed=1)))
    system = AISystem.objects.get(pk=ids["system"]["id"])
    ClassificationFactory(system=system, answers=answers(annex_iii_area="employment"))
    beat()
    assert "worker.hardware_changed" not in entry_types(org)
    beat()  # nothing changed: temperature and memory in use are not hardware
    assert "worker.hardware_changed" not in entry_types(org)
    nvml.driver = "560.28.03"
    beat()
    entry = last_entry(org, "worker.hardware_changed")
    assert entry["subject"] == {"kind": "worker", "id": "gpu1@node-a"}
    assert [g["driver"] for g in entry["data"]["before"]] == ["550.54.15", "550.54.15"]
    assert [g["driver"] for g in entry["data"]["after"]] == ["560.28.03", "560.28.03"]
    assert entry["data"]["systems"] == [str(system.pk)]
    assert "worker.hardware_changed" not in entry_types(other_org)
