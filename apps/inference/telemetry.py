"""What a job cost: device, time, peak memory, utilisation and energy (Annex XI).

On a GPU, NVML is sampled in a background thread while the job runs; energy is
the delta of the device's total-energy counter, or mean power x time where the
counter is missing. On a machine without NVML the job records CPU time instead,
and nothing fails.
"""

from __future__ import annotations

import contextlib
import resource
import threading
import time
from typing import Any

from apps.inference.devices import Device, nvml

SAMPLE_SECONDS = 0.1


def open_handles(pynvml: Any, device: Device) -> tuple[Any, Any, dict[str, str]]:
    """The NVML handles to read memory and energy from, opened by the device's UUID
    (an index inside a MIG parent names another GPU), and the scope of each figure.

    A MIG instance has its own memory but no energy or power counter: energy is
    the parent GPU's, shared with the other instances and processes on it, and is
    marked so. A whole GPU's figures are the device's (every process on it)."""
    if not device.uuid:
        raise ValueError("the device has no UUID to open it by")
    handle = pynvml.nvmlDeviceGetHandleByUUID(device.uuid.encode())
    is_mig = device.uuid.startswith("MIG-")
    with contextlib.suppress(Exception):
        is_mig = is_mig or bool(pynvml.nvmlDeviceIsMigDeviceHandle(handle))
    if not is_mig:
        return handle, handle, {"gpu_memory_scope": "device", "energy_scope": "device"}
    parent = pynvml.nvmlDeviceGetDeviceHandleFromMigDeviceHandle(handle)
    return (
        handle,
        parent,
        {"gpu_memory_scope": "mig_instance", "energy_scope": "mig_parent_gpu_shared"},
    )


class Meter:
    """``with Meter(device) as meter: ...`` then ``meter.result()``."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._samples_util: list[float] = []
        self._samples_power: list[float] = []
        self._peak_memory = 0
        self._energy_start: int | None = None
        self._energy_end: int | None = None
        self._handle: Any = None
        self._energy_handle: Any = None
        self._pynvml: Any = None
        self.scope: dict[str, str] = {}
        self.problems: list[str] = []

    def __enter__(self) -> Meter:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        if self.device.is_cuda:
            try:
                self._pynvml = nvml()
                self._handle, self._energy_handle, self.scope = open_handles(
                    self._pynvml, self.device
                )
                self._energy_start = self._energy()
                self._sample()
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()
            except Exception as exc:
                self.problems.append(f"NVML sampling unavailable: {exc}")
                self._handle = None
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_seconds = time.perf_counter() - self._wall
        self.cpu_seconds = time.process_time() - self._cpu
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
        if self._handle is not None:
            self._sample()
            self._energy_end = self._energy()

    def _energy(self) -> int | None:
        try:
            return int(self._pynvml.nvmlDeviceGetTotalEnergyConsumption(self._energy_handle))
        except Exception:
            return None

    def _sample(self) -> None:
        # A counter the driver does not offer is left out of the result, not an error.
        p = self._pynvml
        with contextlib.suppress(Exception):
            self._samples_util.append(float(p.nvmlDeviceGetUtilizationRates(self._handle).gpu))
        with contextlib.suppress(Exception):
            used = int(p.nvmlDeviceGetMemoryInfo(self._handle).used)
            self._peak_memory = max(self._peak_memory, used)
        with contextlib.suppress(Exception):
            self._samples_power.append(p.nvmlDeviceGetPowerUsage(self._energy_handle) / 1000.0)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()

    def result(self, ran_on: Device | None = None) -> dict[str, Any]:
        """The figures, under ``ran_on`` (the device the framework reports it used
        after the work) where given. GPU figures of a job that, after all, ran on
        the CPU measured other work: they are left out, and the reason is said."""
        ran_on = ran_on or self.device
        if self.device.is_cuda and not ran_on.is_cuda and self._handle is not None:
            self._handle = None
            self.problems.append(
                f"the GPU was metered but the work ran on the CPU ({ran_on.fallback_reason}); "
                "no GPU memory, utilisation or energy figure is recorded"
            )
        out: dict[str, Any] = {
            **ran_on.describe(),
            "wall_seconds": round(self.wall_seconds, 6),
            "cpu_seconds": round(self.cpu_seconds, 6),
            "cpu_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "energy_joules": None,
            "energy_method": None,
        }
        if self._handle is None:
            if self.problems:
                out["telemetry_problems"] = self.problems
            return out
        out.update(self.scope)
        out["gpu_peak_memory_bytes"] = self._peak_memory
        out["gpu_mean_utilization_percent"] = (
            round(sum(self._samples_util) / len(self._samples_util), 3)
            if self._samples_util
            else None
        )
        if self._energy_start is not None and self._energy_end is not None:
            out["energy_joules"] = (self._energy_end - self._energy_start) / 1000.0
            out["energy_method"] = "nvml_total_energy_counter"
        elif self._samples_power:
            mean_power = sum(self._samples_power) / len(self._samples_power)
            out["energy_joules"] = round(mean_power * self.wall_seconds, 6)
            out["energy_method"] = "mean_power_x_time"
        return out
