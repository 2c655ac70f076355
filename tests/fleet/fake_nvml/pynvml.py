"""A stand-in NVML for worker processes started by tests on machines without a GPU:
one GPU described by FAKE_NVML_GPU ("uuid,total GiB,used GiB"); every counter it does
not describe raises, as NVML does for a counter a GPU lacks."""

from __future__ import annotations

import os
import types

_UUID, _TOTAL, _USED = os.environ["FAKE_NVML_GPU"].split(",")


def nvmlInit() -> None:
    pass


def nvmlDeviceGetCount() -> int:
    return 1


def nvmlDeviceGetHandleByIndex(index: int) -> int:
    return index


def nvmlSystemGetDriverVersion() -> str:
    return "550.54.15"


def nvmlDeviceGetName(handle: int) -> str:
    return "NVIDIA test GPU"


def nvmlDeviceGetUUID(handle: int) -> str:
    return _UUID


def nvmlDeviceGetMemoryInfo(handle: int) -> types.SimpleNamespace:
    return types.SimpleNamespace(total=int(_TOTAL) * 2**30, used=int(_USED) * 2**30)


def __getattr__(name: str):
    def unsupported(*args, **kwargs):
        raise RuntimeError(f"NVML_ERROR_NOT_SUPPORTED ({name})")

    return unsupported
