"""Resource profiles: what a model version's batches took on our workers (rows per
second, peak GPU and host memory, energy per 1,000 rows, on the CPU and on a GPU),
and what a batch of N rows will take, with the error that prediction made on the
jobs measured so far (leave-one-out)."""

from __future__ import annotations

import statistics
from typing import Any

from apps.registry.models import ModelVersion, PredictionBatch

MIN_JOBS = 3


def _spread(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def _fit(jobs: list[tuple[int, float]]) -> tuple[float, float]:
    """Seconds = fixed + per_row x rows, least squares, neither negative; through the
    origin where the row counts do not differ enough to tell a fixed part."""
    rows = [r for r, _ in jobs]
    if len(set(rows)) > 1:
        mean_r = statistics.fmean(rows)
        mean_s = statistics.fmean(s for _, s in jobs)
        var = sum((r - mean_r) ** 2 for r in rows)
        per_row = sum((r - mean_r) * (s - mean_s) for r, s in jobs) / var
        fixed = mean_s - per_row * mean_r
        if per_row > 0 and fixed >= 0:
            return fixed, per_row
    per_row = sum(r * s for r, s in jobs) / sum(r * r for r in rows)
    return 0.0, per_row


def _leave_one_out(jobs: list[tuple[int, float]]) -> list[float]:
    """The relative error of each job's duration predicted from the others."""
    errors = []
    for i, (rows, seconds) in enumerate(jobs):
        fixed, per_row = _fit(jobs[:i] + jobs[i + 1 :])
        errors.append(abs(fixed + per_row * rows - seconds) / seconds)
    return errors


def _device_profile(batches: list[PredictionBatch]) -> dict[str, Any]:
    jobs = [(b.row_count, float(b.telemetry["wall_seconds"])) for b in batches]
    fixed, per_row = _fit(jobs)
    errors = _leave_one_out(jobs) if len(jobs) >= MIN_JOBS else []
    gpu = [
        b.telemetry["gpu_peak_memory_bytes"]
        for b in batches
        if b.telemetry.get("gpu_peak_memory_bytes")
    ]
    host = [
        b.telemetry["cpu_peak_rss_bytes"] for b in batches if b.telemetry.get("cpu_peak_rss_bytes")
    ]
    energy = [b.energy_joules / b.row_count * 1000 for b in batches if b.energy_joules is not None]
    return {
        "jobs": len(batches),
        "rows_per_second": _spread([r / s for r, s in jobs if s > 0]),
        "gpu_peak_memory_bytes": _spread(gpu),
        "host_peak_memory_bytes": _spread(host),
        "energy_joules_per_1000_rows": _spread(energy),
        "duration": {
            "fixed_seconds": fixed,
            "seconds_per_row": per_row,
            "leave_one_out_relative_error": _spread(errors),
        },
    }


def resource_profile(*, model_version: ModelVersion) -> dict[str, Any]:
    """The version's profile per device kind ("cuda", "cpu"), from its completed jobs;
    a kind with fewer than MIN_JOBS jobs has none yet, and says so."""
    batches = [
        b
        for b in PredictionBatch.objects.filter(
            model_version=model_version,
            status=PredictionBatch.Status.COMPLETED,
            row_count__gt=0,
        ).order_by("finished_at", "pk")
        if isinstance(b.telemetry.get("wall_seconds"), int | float)
        and b.telemetry["wall_seconds"] > 0
    ]
    by_device: dict[str, list[PredictionBatch]] = {}
    for batch in batches:
        by_device.setdefault(str(batch.telemetry.get("device", "cpu")), []).append(batch)
    devices = {}
    for kind, group in sorted(by_device.items()):
        if len(group) < MIN_JOBS:
            devices[kind] = {
                "jobs": len(group),
                "profile": None,
                "reason": f"a profile needs {MIN_JOBS} completed jobs; {len(group)} so far",
            }
        else:
            devices[kind] = {**_device_profile(group), "profile": "measured"}
    return {"model_version": str(model_version.pk), "min_jobs": MIN_JOBS, "devices": devices}


def predicted_need(
    *, profile: dict[str, Any], rows: int, device: str | None = None
) -> dict[str, Any] | None:
    """What a batch of ``rows`` rows will need on ``device`` (the kind with most jobs
    by default): seconds, peak memory, energy; None without a measured profile."""
    measured = {k: v for k, v in profile["devices"].items() if v.get("profile")}
    if not measured:
        return None
    kind = device if device in measured else max(measured, key=lambda k: measured[k]["jobs"])
    p = measured[kind]
    energy = p["energy_joules_per_1000_rows"]
    return {
        "device": kind,
        "rows": rows,
        "seconds": p["duration"]["fixed_seconds"] + p["duration"]["seconds_per_row"] * rows,
        "gpu_memory_bytes": p["gpu_peak_memory_bytes"]["max"]
        if p["gpu_peak_memory_bytes"]
        else None,
        "host_memory_bytes": p["host_peak_memory_bytes"]["max"]
        if p["host_peak_memory_bytes"]
        else None,
        "energy_joules": energy["median"] * rows / 1000 if energy else None,
        "expected_relative_error": p["duration"]["leave_one_out_relative_error"],
    }
