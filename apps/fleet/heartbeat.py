"""What a worker reports about itself, and the thread that reports it.

Read in the worker's main process: NVML (nvidia-ml-py) answers without creating a
CUDA context, and versions come from the installed packages' metadata, so no
framework is imported where the prefork pool forks its children.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import socket
import threading
from importlib import metadata
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from apps.inference.devices import nvml

logger = logging.getLogger(__name__)

PACKAGES = (
    "Django",
    "celery",
    "numpy",
    "pyarrow",
    "xgboost",
    "lightgbm",
    "scikit-learn",
    "onnxruntime",
    "onnxruntime-gpu",
    "shap",
    "torch",
    "nvidia-ml-py",
)


def software() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return versions


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _visible(pynvml: Any) -> list[Any] | str:
    """The handles of the GPUs this worker may use (CUDA_VISIBLE_DEVICES, by index or
    UUID; all of them when unset), or why none."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    entries = [entry.strip() for entry in visible.split(",") if entry.strip()]
    if not entries or entries == ["-1"]:
        return "CUDA_VISIBLE_DEVICES hides every GPU"
    return [
        pynvml.nvmlDeviceGetHandleByUUID(entry.encode())
        if entry.startswith(("GPU-", "MIG-"))
        else pynvml.nvmlDeviceGetHandleByIndex(int(entry))
        for entry in entries
    ]


def _gpu(pynvml: Any, handle: Any, driver: str) -> dict[str, Any]:
    memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
    gpu: dict[str, Any] = {
        "name": _text(pynvml.nvmlDeviceGetName(handle)),
        "uuid": _text(pynvml.nvmlDeviceGetUUID(handle)),
        "driver": driver,
        "memory_total_bytes": int(memory.total),
        "memory_used_bytes": int(memory.used),
        "mig_mode": None,
        "temperature_c": None,
        "power_w": None,
    }
    # Counters a GPU or driver does not offer stay null, which the inventory shows.
    with contextlib.suppress(Exception):
        current, _pending = pynvml.nvmlDeviceGetMigMode(handle)
        gpu["mig_mode"] = "enabled" if current else "disabled"
    with contextlib.suppress(Exception):
        gpu["temperature_c"] = int(pynvml.nvmlDeviceGetTemperature(handle, 0))  # the die
    with contextlib.suppress(Exception):
        gpu["power_w"] = round(pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0, 3)
    return gpu


def gpu_inventory() -> tuple[list[dict[str, Any]], str]:
    """The GPUs this worker may use, read through NVML, or none and the reason."""
    try:
        pynvml = nvml()
    except Exception as exc:
        return [], f"no NVIDIA driver here (NVML: {exc})"
    try:
        if pynvml.nvmlDeviceGetCount() == 0:
            return [], "NVML reports no GPU"
        handles = _visible(pynvml)
        if isinstance(handles, str):
            return [], handles
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        return [_gpu(pynvml, handle, driver) for handle in handles], ""
    except Exception as exc:
        return [], f"the GPUs cannot be queried (NVML: {exc})"


def report(*, name: str, queues: list[str], pool: str, concurrency: int) -> dict[str, Any]:
    """This worker's heartbeat."""
    from apps.fleet.services.workers import class_of

    gpus, reason = gpu_inventory()
    return {
        "name": name,
        "worker_class": class_of(queues=queues),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "queues": queues,
        "pool": pool,
        "concurrency": concurrency,
        "software": software(),
        "gpus": gpus,
        "no_gpu_reason": reason,
    }


class Heartbeat:
    """Reports every FLEET_HEARTBEAT_SECONDS from a daemon thread of the worker's main
    process, from start-up until the worker shuts down."""

    def __init__(self, *, name: str, queues: list[str], pool: str, concurrency: int) -> None:
        self.facts = {"name": name, "queues": queues, "pool": pool, "concurrency": concurrency}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fleet-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _beat(self) -> None:
        from apps.fleet.services.workers import worker_heartbeat

        try:
            worker_heartbeat(report=report(**self.facts))
        except Exception:
            logger.exception("heartbeat of %s not recorded", self.facts["name"])
        finally:
            close_old_connections()

    def _run(self) -> None:
        self._beat()
        while not self._stop.wait(settings.FLEET_HEARTBEAT_SECONDS):
            self._beat()

    def stop(self) -> None:
        from apps.fleet.services.workers import worker_stopped

        self._stop.set()
        self._thread.join(timeout=10)
        worker_stopped(name=self.facts["name"])
