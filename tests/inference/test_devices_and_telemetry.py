"""Device choice and telemetry on a machine without NVML, and with a fake one."""

from __future__ import annotations

import sys
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

    def nvmlInit(self):
        pass

    def nvmlDeviceGetCount(self):
        return 1

    def nvmlDeviceGetHandleByIndex(self, index):
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
        return 100_000  # mW


@pytest.mark.parametrize(
    ("counter", "method"), [(True, "nvml_total_energy_counter"), (False, "mean_power_x_time")]
)
def test_gpu_telemetry_from_nvml(monkeypatch, settings, counter, method):
    settings.INFERENCE_DEVICE = "auto"
    fake = FakeNvml(counter)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    device = devices.select_device()
    assert (device.kind, device.uuid, device.driver) == ("cuda", "GPU-1234", "550.1")
    with Meter(device) as meter:
        pass
    result = meter.result()
    assert result["device_name"] == "NVIDIA Test GPU"
    assert result["gpu_peak_memory_bytes"] == 2048
    assert result["gpu_mean_utilization_percent"] == 50
    assert result["energy_method"] == method
    if counter:
        assert result["energy_joules"] == 250.0
    else:
        assert result["energy_joules"] == pytest.approx(100 * meter.wall_seconds, rel=1e-3)
