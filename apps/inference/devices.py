"""Which device a job runs on, decided inside the worker process that runs it.

NVML (nvidia-ml-py) answers which GPU this process may use without creating a CUDA
context, so asking never initialises CUDA; the frameworks do that when a model is
first placed on the GPU, in the process that scores. A worker pinned with
``CUDA_VISIBLE_DEVICES=<GPU UUID>`` sees exactly that GPU.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Device:
    """Where a job runs: ``kind`` "cuda" or "cpu", and why not CUDA when it is CPU."""

    kind: str
    name: str
    uuid: str | None = None
    driver: str | None = None
    nvml_index: int | None = None
    fallback_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_cuda(self) -> bool:
        return self.kind == "cuda"

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"device": self.kind, "device_name": self.name}
        if self.is_cuda:
            out.update({"gpu_uuid": self.uuid, "driver": self.driver})
        if self.fallback_reason:
            out["cpu_fallback_reason"] = self.fallback_reason
        out.update(self.extra)
        return out


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def cpu_device(reason: str) -> Device:
    return Device(kind="cpu", name=cpu_name(), fallback_reason=reason)


def nvml() -> Any:
    """The initialised NVML module, or raise why it cannot be had."""
    import pynvml

    pynvml.nvmlInit()
    return pynvml


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _visible_handle(pynvml: Any) -> tuple[Any, int | None]:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
    if visible.startswith(("GPU-", "MIG-")):
        handle = pynvml.nvmlDeviceGetHandleByUUID(visible.encode())
        try:
            return handle, pynvml.nvmlDeviceGetIndex(handle)
        except Exception:  # a MIG instance has no index of its own
            return handle, None
    index = int(visible) if visible.isdigit() else 0
    return pynvml.nvmlDeviceGetHandleByIndex(index), index


def _compute_capability(pynvml: Any, handle: Any) -> dict[str, str]:
    """The GPU's compute capability ("9.0"), or nothing where NVML does not say."""
    try:
        major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
    except Exception:
        return {}
    return {"compute_capability": f"{major}.{minor}"}


def select_device() -> Device:
    """CUDA when this process can use a GPU and ``INFERENCE_DEVICE`` allows it,
    otherwise the CPU with the reason."""
    wanted = settings.INFERENCE_DEVICE
    if wanted == "cpu":
        return cpu_device("INFERENCE_DEVICE=cpu")
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return cpu_device("CUDA_VISIBLE_DEVICES hides every GPU")
    try:
        pynvml = nvml()
    except Exception as exc:
        return cpu_device(f"no NVIDIA driver here (NVML: {exc})")
    try:
        if pynvml.nvmlDeviceGetCount() == 0:
            return cpu_device("NVML reports no GPU")
        handle, index = _visible_handle(pynvml)
        return Device(
            kind="cuda",
            name=_text(pynvml.nvmlDeviceGetName(handle)),
            uuid=_text(pynvml.nvmlDeviceGetUUID(handle)),
            driver=_text(pynvml.nvmlSystemGetDriverVersion()),
            nvml_index=index,
            extra=_compute_capability(pynvml, handle),
        )
    except Exception as exc:
        return cpu_device(f"the visible GPU cannot be queried (NVML: {exc})")


def xgboost_cuda_problem() -> str | None:
    """Why this XGBoost build cannot use CUDA, or None."""
    import xgboost

    try:
        info = xgboost.build_info()
    except Exception as exc:  # pragma: no cover - very old builds
        return f"xgboost build information unavailable: {exc}"
    return None if info.get("USE_CUDA") else "this xgboost build has no CUDA support"
