"""GPU tests run only where CUDA is present; elsewhere they are skipped."""

from __future__ import annotations

import pytest


def cuda_available() -> bool:
    try:
        import pynvml

        pynvml.nvmlInit()
        if pynvml.nvmlDeviceGetCount() == 0:
            return False
        import xgboost

        return bool(xgboost.build_info().get("USE_CUDA"))
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if cuda_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device here (NVML finds no GPU)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
