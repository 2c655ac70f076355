"""Device choice and telemetry on a machine without NVML, and with a fake one."""

from __future__ import annotations

import os
import sys
import time
import types

import pytest

from apps.inference import devices
from apps.inference.telemetry import Meter


def test_without_nvml_the_job_runs_on_cpu_with_the_reason(monkeypatch, settings):
    settings.INFERENCE_DEVICE = "auto"
    monkeypatch.setattr(devices, "nvml", lambda: (_ for _ in ()).throw(OSError("no libnvidia")))
    device = devices.select_device()
    assert device.kind == "cpu"
    assert "no NVIDIA driver here" in device.fallback_reason
    with Meter(device) as meter:
        sum(range(10_000))
    result = meter.result()
    assert result["device"] == "cpu" and result["cpu_seconds"] >= 0
    assert result["energy_joules"] is None


def test_inference_device_cpu_never_asks_nvml(monkeypatch, settings):
    settings.INFERENCE_DEVICE = "cpu"
    monkeypatch.setattr(devices, "nvml", lambda: pytest.fail("NVML was asked"))
    assert devices.select_device().fallback_reason == "INFERENCE_DEVICE=cpu"


class FakeNvml(types.SimpleNamespace):
    def __init__(self, energy_counter: bool):
        super().__init__()
        self.energy = iter([1_000_000, 1_250_000])  # mJ
        self.energy_counter = energy_counter
        self.power_mw = 100_000
        # Another tenant's process holds more memory on the same GPU than this one.
        self.processes = [
            types.SimpleNamespace(pid=os.getpid() + 1, usedGpuMemory=1_500),
            types.SimpleNamespace(pid=os.getpid(), usedGpuMemory=512),
        ]

    def nvmlInit(self):
        pass

    def nvmlDeviceGetCount(self):
        return 1

    def nvmlDeviceGetHandleByIndex(self, index):
        return "handle"

    def nvmlDeviceGetHandleByUUID(self, uuid):
        assert uuid == b"GPU-1234"
        return "handle"

    def nvmlDeviceGetIndex(self, handle):
        return 0

    def nvmlDeviceGetName(self, handle):
        return "NVIDIA Test GPU"

    def nvmlDeviceGetUUID(self, handle):
        return "GPU-1234"

    def nvmlSystemGetDriverVersion(self):
        return "550.1"

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if not self.energy_counter:
            raise RuntimeError("not supported")
        return next(self.energy)

    def nvmlDeviceGetUtilizationRates(self, handle):
        return types.SimpleNamespace(gpu=50)

    def nvmlDeviceGetMemoryInfo(self, handle):
        return types.SimpleNamespace(used=2048)

    def nvmlDeviceGetPowerUsage(self, handle):
        return self.power_mw

    def nvmlDeviceGetComputeRunningProcesses(self, handle):
        return self.processes


@pytest.mark.parametrize(
    ("counter", "method"), [(True, "nvml_total_energy_counter"), (False, "mean_power_x_time")]
)
def test_gpu_telemetry_from_nvml(monkeypatch, settings, counter, method):
    settings.INFERENCE_DEVICE = "auto"
    fake = FakeNvml(counter)
    fake.power_mw = 40_000  # idle before the job
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    device = devices.select_device()
    assert (device.kind, device.uuid, device.driver) == ("cuda", "GPU-1234", "550.1")
    with Meter(device) as meter:
        fake.power_mw = 100_000  # the job's draw
        time.sleep(0.25)
    result = meter.result()
    assert result["device_name"] == "NVIDIA Test GPU"
    # This process's memory, not the device's (2048) nor the other tenant's.
    assert (result["gpu_peak_memory_bytes"], result["gpu_memory_scope"]) == (
        512,
        "process_on_device",
    )
    assert result["gpu_device_peak_memory_bytes"] == 2048
    assert result["gpu_mean_utilization_percent"] == 50
    assert result["energy_method"] == method
    assert result["energy_scope"] == "device_above_idle_baseline"
    assert result["energy_baseline_watts"] == 40.0
    idle = 40 * meter.wall_seconds
    assert result["energy_baseline_joules"] == pytest.approx(idle, rel=1e-3)
    gross = result["energy_gross_joules"]
    if counter:
        assert gross == 250.0
    else:  # mean of the samples (one before the job's draw began) x time
        assert idle < gross <= 100 * meter.wall_seconds
    assert result["energy_joules"] == pytest.approx(gross - idle, abs=1e-5)
    assert "telemetry_problems" not in result


def test_without_this_process_in_nvml_the_device_memory_is_recorded_as_such(monkeypatch, settings):
    settings.INFERENCE_DEVICE = "auto"
    fake = FakeNvml(energy_counter=True)
    fake.processes = [types.SimpleNamespace(pid=1, usedGpuMemory=1_500)]  # other PID namespace
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with Meter(devices.select_device()) as meter:
        pass
    result = meter.result()
    assert (result["gpu_peak_memory_bytes"], result["gpu_memory_scope"]) == (2048, "device")
    assert "NVML lists no GPU memory of this process" in result["telemetry_problems"][0]


def test_energy_never_goes_below_zero_when_the_job_draws_less_than_the_baseline(
    monkeypatch, settings
):
    settings.INFERENCE_DEVICE = "auto"
    fake = FakeNvml(energy_counter=False)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with Meter(devices.select_device()) as meter:
        fake.power_mw = 10_000  # another tenant stopped during the job
        time.sleep(0.2)
    result = meter.result()
    assert result["energy_joules"] == 0.0 and result["energy_gross_joules"] > 0


def test_an_nvml_error_is_recorded_not_a_gpu_figure(monkeypatch, settings):
    settings.INFERENCE_DEVICE = "auto"
    fake = FakeNvml(energy_counter=True)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    device = devices.select_device()

    def lost(uuid):
        raise RuntimeError("NVML_ERROR_GPU_IS_LOST")

    fake.nvmlDeviceGetHandleByUUID = lost
    with Meter(device) as meter:
        pass
    result = meter.result()
    assert result["telemetry_problems"] == ["NVML sampling unavailable: NVML_ERROR_GPU_IS_LOST"]
    assert result["energy_joules"] is None and "gpu_peak_memory_bytes" not in result


class FakeMigNvml(types.SimpleNamespace):
    """An A100 in MIG mode: NVML index 0 is the parent GPU, index 1 another GPU;
    the worker is pinned to a MIG instance of GPU 1 by its UUID. Memory and power
    each say which handle they were read from."""

    MIG, PARENT = "MIG-abcd", "GPU-parent-1"

    def __init__(self):
        super().__init__()
        self.opened_by_index = []

    def nvmlInit(self):
        pass

    def nvmlDeviceGetCount(self):
        return 2

    def nvmlDeviceGetHandleByIndex(self, index):
        self.opened_by_index.append(index)
        return f"gpu-index-{index}"

    def nvmlDeviceGetHandleByUUID(self, uuid):
        return {self.MIG.encode(): "mig", self.PARENT.encode(): "parent"}[uuid]

    def nvmlDeviceGetIndex(self, handle):
        raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")  # MIG handles have no index

    def nvmlDeviceIsMigDeviceHandle(self, handle):
        return handle == "mig"

    def nvmlDeviceGetDeviceHandleFromMigDeviceHandle(self, handle):
        assert handle == "mig"
        return "parent"

    def nvmlDeviceGetName(self, handle):
        return "NVIDIA A100 MIG 1g.10gb"

    def nvmlDeviceGetUUID(self, handle):
        return {"mig": self.MIG, "parent": self.PARENT}[handle]

    def nvmlSystemGetDriverVersion(self):
        return "550.1"

    def nvmlDeviceGetMemoryInfo(self, handle):
        return types.SimpleNamespace(used={"mig": 1_000, "parent": 40_000_000_000}[handle])

    def nvmlDeviceGetUtilizationRates(self, handle):
        raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")  # not per MIG instance

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if handle != "parent":
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
        return 5_000_000

    def nvmlDeviceGetPowerUsage(self, handle):
        if handle != "parent":
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
        return 200_000

    def nvmlDeviceGetComputeRunningProcesses(self, handle):
        listed = {"mig": 1_000, "parent": 30_000_000_000}[handle]
        return [types.SimpleNamespace(pid=os.getpid(), usedGpuMemory=listed)]


def test_mig_instance_is_opened_by_uuid_memory_from_it_energy_from_its_parent(
    monkeypatch, settings
):
    settings.INFERENCE_DEVICE = "auto"
    fake = FakeMigNvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", fake.MIG)
    device = devices.select_device()
    assert (device.kind, device.uuid, device.nvml_index) == ("cuda", fake.MIG, None)
    with Meter(device) as meter:
        pass
    result = meter.result()
    assert fake.opened_by_index == []  # never index 0 (another physical GPU's slot)
    assert result["gpu_uuid"] == fake.MIG
    assert result["gpu_peak_memory_bytes"] == 1_000  # on the instance, not the parent
    assert result["gpu_memory_scope"] == "process_on_mig_instance"
    assert result["gpu_device_peak_memory_bytes"] == 1_000
    assert result["energy_scope"] == "mig_parent_gpu_shared_above_idle_baseline"
    assert result["energy_baseline_watts"] == 200.0  # the parent's draw
    assert result["energy_joules"] == 0.0  # the parent's counter, read twice
    assert result["energy_method"] == "nvml_total_energy_counter"
    assert result["gpu_mean_utilization_percent"] is None
