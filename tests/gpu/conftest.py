"""GPU tests run only where CUDA is present; elsewhere they are skipped.

Under ``GPU_CHECK_STRICT=1`` (bin/gpu-check) a skip is a failure: the check exists
to show the GPU paths ran, and a skipped test shows nothing.
"""

from __future__ import annotations

import os

import pytest

STRICT = os.environ.get("GPU_CHECK_STRICT") == "1"
_skipped: list[str] = []


def cuda_problem() -> str | None:
    """Why CUDA cannot be used here, or None."""
    try:
        import pynvml

        pynvml.nvmlInit()
        if pynvml.nvmlDeviceGetCount() == 0:
            return "NVML finds no GPU"
        import xgboost

        if not xgboost.build_info().get("USE_CUDA"):
            return "this XGBoost build has no CUDA"
    except Exception as exc:
        return f"no NVIDIA driver here (NVML: {exc})"
    return None


def pytest_collection_modifyitems(config, items):
    problem = cuda_problem()
    if problem is None:
        return
    if STRICT:
        raise pytest.UsageError(f"GPU_CHECK_STRICT=1 and no CUDA device here: {problem}")
    skip = pytest.mark.skip(reason=f"no CUDA device here ({problem})")
    for item in items:
        # By the marker, not by keyword: a keyword matches any folder called "gpu".
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if STRICT and _skipped and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if STRICT and _skipped:
        terminalreporter.write_line(
            f"GPU_CHECK_STRICT=1: {len(_skipped)} skipped test(s) fail the check: "
            + ", ".join(_skipped),
            red=True,
        )
