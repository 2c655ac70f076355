"""Batch inference on the GPU: our task against the bare model on the same GPU.

Usage: python benchmarks/bench_inference_gpu.py [--rows 1000000] [--trees 500]
                                                [--depth 8] [--rounds 3] [--json PATH]

Named baseline: the bare XGBoost booster on CUDA (``device="cuda"``) reading the same
Parquet file with pyarrow and calling ``inplace_predict``. Ours: the Celery task
``apps.inference.prediction_batch_run`` in-process with INFERENCE_DEVICE=auto
(everything bench_inference.py lists, on the GPU, with NVML telemetry). Rounds
alternate A B B A; prints medians, their ratio, and the energy per 1,000 rows the
batches recorded (above the idle baseline, and gross). Exits 1 when a batch did not
run on CUDA by XGBoost's own account.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import bench_inference_common as common


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.model_options(parser, rows=1_000_000, rounds=3)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    os.environ["INFERENCE_DEVICE"] = "auto"
    bench = common.bench_setup(args)
    from apps.inference.tasks import prediction_batch_run_task
    from apps.registry.models import PredictionBatch

    bench.booster.set_param({"device": "cuda"})
    telemetry: list[dict] = []

    def bare() -> float:
        start = time.perf_counter()
        bench.booster.inplace_predict(common.read_features(bench.path, bench.names))
        return time.perf_counter() - start

    def ours() -> float:
        batch = common.queue_batch(bench)
        start = time.perf_counter()
        prediction_batch_run_task.apply(args=[batch.pk])
        elapsed = time.perf_counter() - start
        batch = PredictionBatch.objects.get(pk=batch.pk)
        assert batch.status == "completed", batch.failure_reason
        telemetry.append(batch.telemetry)
        return elapsed

    base, mine, load_at_start = common.abba(baseline=bare, ours=ours, rounds=args.rounds)
    if any(t["device"] != "cuda" for t in telemetry):
        print(f"not on CUDA: {telemetry[-1].get('cpu_fallback_reason')}")
        return 1
    figures = _figures(args, base, mine, telemetry)
    common.print_setting(args, load_at_start)
    print(f"GPU: {telemetry[-1]['device_name']} ({telemetry[-1]['gpu_uuid']})")
    print(f"baseline (bare booster on CUDA): median {base:.3f} s ({args.rows / base:,.0f} rows/s)")
    print(f"ours (prediction_batch_run):     median {mine:.3f} s ({args.rows / mine:,.0f} rows/s)")
    print(f"ratio ours/baseline: {mine / base:.2f}x")
    print(
        f"energy per 1,000 rows: {figures['joules_per_1000_rows']} J above idle "
        f"({figures['gross_joules_per_1000_rows']} J gross), {figures['energy_scope']}"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=2)
    return 0


def _figures(args, base: float, mine: float, telemetry: list[dict]) -> dict:
    def per_1000(key: str) -> float | None:
        values = [t[key] for t in telemetry if t.get(key) is not None]
        return round(statistics.median(values) / args.rows * 1000, 6) if values else None

    last = telemetry[-1]
    return {
        "benchmark": "inference_gpu",
        "gpu": {
            k: last.get(k) for k in ("device_name", "gpu_uuid", "driver", "compute_capability")
        },
        "model": {"trees": args.trees, "depth": args.depth, "features": args.features},
        "rows": args.rows,
        "bare_median_seconds": round(base, 4),
        "ours_median_seconds": round(mine, 4),
        "ours_over_bare": round(mine / base, 3),
        "joules_per_1000_rows": per_1000("energy_joules"),
        "gross_joules_per_1000_rows": per_1000("energy_gross_joules"),
        "energy_scope": last.get("energy_scope"),
        "energy_method": last.get("energy_method"),
        "gpu_peak_memory_bytes": max(t.get("gpu_peak_memory_bytes") or 0 for t in telemetry),
        "gpu_memory_scope": last.get("gpu_memory_scope"),
    }


if __name__ == "__main__":
    raise SystemExit(main())
