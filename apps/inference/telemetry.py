"""What a job cost: device, time, peak memory, utilisation and energy (Annex XI).

On a GPU, NVML is sampled in a background thread while the job runs. Each figure
says its scope beside it, because a GPU is shared:

- memory is this process's own (``nvmlDeviceGetComputeRunningProcesses``), not the
  device's, which counts every other process on it; where NVML does not list this
  process (a container with its own PID namespace) the device's figure is recorded
  with the scope saying so;
- energy is the delta of the device's total-energy counter, or mean power x time
  where the counter is missing, less an idle baseline: the draw sampled for
  ``INFERENCE_ENERGY_BASELINE_MS`` before the job, times the job's duration, so idle
  draw and other tenants' steady load are not billed to the job.

On a machine without NVML the job records CPU time instead, and nothing fails.
"""

from __future__ import annotations

import contextlib
import os
import resource
import threading
import time
from typing import Any

from django.conf import settings

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


def process_memory(pynvml: Any, handle: Any, pid: int) -> int | None:
    """GPU memory this process holds on the device, or None where NVML does not
    list it (another PID namespace) or does not say (``usedGpuMemory`` None)."""
    for process in pynvml.nvmlDeviceGetComputeRunningProcesses(handle):
        if process.pid == pid and process.usedGpuMemory is not None:
            return int(process.usedGpuMemory)
    return None


class Meter:
    """``with Meter(device) as meter: ...`` then ``meter.result()``."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._samples_util: list[float] = []
        self._samples_power: list[float] = []
        self._peak_memory = 0
        self._peak_process_memory: int | None = None
        self._energy_start: int | None = None
        self._energy_end: int | None = None
        self._baseline_watts: float | None = None
        self._handle: Any = None
        self._energy_handle: Any = None
        self._pynvml: Any = None
        self.scope: dict[str, str] = {}
        self.problems: list[str] = []

    def __enter__(self) -> Meter:
        if self.device.is_cuda:
            try:
                self._pynvml = nvml()
                self._handle, self._energy_handle, self.scope = open_handles(
                    self._pynvml, self.device
                )
                self._baseline_watts = self._idle_power()
                self._energy_start = self._energy()
                self._sample()
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()
            except Exception as exc:
                self.problems.append(f"NVML sampling unavailable: {exc}")
                self._handle = None
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
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

    def _power(self) -> float | None:
        try:
            return self._pynvml.nvmlDeviceGetPowerUsage(self._energy_handle) / 1000.0
        except Exception:
            return None

    def _idle_power(self) -> float | None:
        """Mean draw over INFERENCE_ENERGY_BASELINE_MS before the job (at least one
        reading), or None where the device reports no power."""
        readings = max(1, round(settings.INFERENCE_ENERGY_BASELINE_MS / 1000 / SAMPLE_SECONDS))
        watts: list[float] = []
        for i in range(readings):
            if i:
                time.sleep(SAMPLE_SECONDS)
            power = self._power()
            if power is None:
                return None
            watts.append(power)
        return sum(watts) / len(watts)

    def _sample(self) -> None:
        # A counter the driver does not offer is left out of the result, not an error.
        p = self._pynvml
        with contextlib.suppress(Exception):
            self._samples_util.append(float(p.nvmlDeviceGetUtilizationRates(self._handle).gpu))
        with contextlib.suppress(Exception):
            used = int(p.nvmlDeviceGetMemoryInfo(self._handle).used)
            self._peak_memory = max(self._peak_memory, used)
        with contextlib.suppress(Exception):
            own = process_memory(p, self._handle, os.getpid())
            if own is not None:
                self._peak_process_memory = max(self._peak_process_memory or 0, own)
        power = self._power()
        if power is not None:
            self._samples_power.append(power)

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
        if self._handle is not None:
            out.update(self._gpu_figures())
        if self.problems:
            out["telemetry_problems"] = self.problems
        return out

    def _gpu_figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self._memory_figures(), **self._energy_figures()}
        out["gpu_mean_utilization_percent"] = (
            round(sum(self._samples_util) / len(self._samples_util), 3)
            if self._samples_util
            else None
        )
        out["gpu_utilization_scope"] = self.scope["gpu_memory_scope"]
        return out

    def _memory_figures(self) -> dict[str, Any]:
        """This process's peak, or the device's (every process on it) with the
        reason, where NVML does not list this process."""
        device_scope = self.scope["gpu_memory_scope"]
        out: dict[str, Any] = {
            "gpu_device_peak_memory_bytes": self._peak_memory,
            "gpu_device_memory_scope": device_scope,
        }
        if self._peak_process_memory is not None:
            out["gpu_peak_memory_bytes"] = self._peak_process_memory
            out["gpu_memory_scope"] = f"process_on_{device_scope}"
        else:
            out["gpu_peak_memory_bytes"] = self._peak_memory
            out["gpu_memory_scope"] = device_scope
            self.problems.append(
                f"NVML lists no GPU memory of this process (pid {os.getpid()}); the "
                f"memory figure is the whole {device_scope.replace('_', ' ')}'s"
            )
        return out

    def _energy_figures(self) -> dict[str, Any]:
        """Energy above the idle baseline, with the gross figure and the baseline."""
        if self._energy_start is not None and self._energy_end is not None:
            gross = (self._energy_end - self._energy_start) / 1000.0
            method = "nvml_total_energy_counter"
        elif self._samples_power:
            gross = sum(self._samples_power) / len(self._samples_power) * self.wall_seconds
            method = "mean_power_x_time"
        else:
            return {"energy_scope": self.scope["energy_scope"]}
        scope = self.scope["energy_scope"]
        out: dict[str, Any] = {"energy_method": method, "energy_gross_joules": round(gross, 6)}
        if self._baseline_watts is None:
            self.problems.append("no idle baseline (no power reading): energy is gross")
            return {**out, "energy_joules": round(gross, 6), "energy_scope": scope}
        baseline = self._baseline_watts * self.wall_seconds
        return {
            **out,
            "energy_joules": round(max(gross - baseline, 0.0), 6),
            "energy_baseline_watts": round(self._baseline_watts, 3),
            "energy_baseline_joules": round(baseline, 6),
            "energy_scope": f"{scope}_above_idle_baseline",
        }
