"""GPU against CPU explanation throughput for a 500-tree depth-8 XGBoost model.

Usage: python benchmarks/bench_explain_gpu.py [--rows 200000] [--cpu-rows 20000]
                                              [--trees 500] [--depth 8] [--json PATH]

Both paths are the service's own explainer (``pred_contribs``: GPUTreeShap on CUDA,
TreeSHAP on the CPU) on the same rows, fed as the service feeds it: chunks of
INFERENCE_CHUNK_ROWS rows. Prints rows/s of each, the ratio (target: GPU at least
10x) and the GPU's name; ``--json`` also writes the figures to PATH. Exits 1, saying
why, when the GPU path did not run on CUDA by XGBoost's own account (no GPU, a CPU
build, a silent fallback): a GPU figure measured on the CPU would be false.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time

from bench_inference_common import model_options, train


def _rate(model, rows, chunk: int) -> tuple[float, float]:
    """Rows/s of the service's explainer over ``rows`` in chunks, and the largest
    additivity error."""
    from apps.explainability.engine import Explainer

    explainer = Explainer(model=model, method="xgboost_pred_contribs", background=rows[:10])
    explainer.explain(rows[:1000])  # warm-up (GPU context, kernels)
    worst = 0.0
    start = time.perf_counter()
    for first in range(0, len(rows), chunk):
        worst = max(worst, explainer.explain(rows[first : first + chunk]).max_error)
    return len(rows) / (time.perf_counter() - start), worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    model_options(parser, rows=200_000, rounds=None)
    parser.add_argument("--cpu-rows", type=int, default=20_000)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audit_platform.settings")
    import django

    django.setup()
    import numpy as np
    from django.conf import settings

    from apps.inference.devices import cpu_device, select_device
    from apps.inference.loading import load_bytes

    booster, _ = train(trees=args.trees, depth=args.depth, features=args.features)
    raw = bytes(booster.save_raw(raw_format="json"))
    digest = hashlib.sha256(raw).hexdigest()
    gpu = load_bytes(data=raw, fmt="xgboost-json", expected_sha256=digest, device=select_device())
    cpu = load_bytes(data=raw, fmt="xgboost-json", expected_sha256=digest, device=cpu_device("b"))
    x = np.random.default_rng(2).normal(size=(args.rows, args.features)).astype(np.float32)
    chunk = settings.INFERENCE_CHUNK_ROWS
    gpu_rate, gpu_error = _rate(gpu, x, chunk)
    device = gpu.confirm_device()  # XGBoost's own account, after the work
    if not device.is_cuda:
        print(f"not on CUDA: {device.fallback_reason}")
        return 1
    cpu_rate, cpu_error = _rate(cpu, x[: args.cpu_rows], chunk)
    figures = {
        "benchmark": "explain_gpu",
        "gpu": device.describe(),
        "cpu_cores": os.cpu_count(),
        "model": {"trees": args.trees, "depth": args.depth, "features": args.features},
        "chunk_rows": chunk,
        "gpu_rows": args.rows,
        "gpu_rows_per_second": round(gpu_rate, 1),
        "cpu_rows": args.cpu_rows,
        "cpu_rows_per_second": round(cpu_rate, 1),
        "gpu_over_cpu": round(gpu_rate / cpu_rate, 2),
        "max_additivity_error": max(gpu_error, cpu_error),
    }
    print(
        f"GPU: {device.name} ({device.uuid}), driver {device.driver}; CPU cores: {os.cpu_count()}"
    )
    print(f"model: XGBoost {args.trees} trees depth {args.depth}, {args.features} features")
    print(f"GPU pred_contribs (GPUTreeShap): {gpu_rate:,.0f} rows/s over {args.rows} rows")
    print(f"CPU pred_contribs (TreeSHAP):    {cpu_rate:,.0f} rows/s over {args.cpu_rows} rows")
    print(f"GPU/CPU: {gpu_rate / cpu_rate:.1f}x (target >= 10x), chunks of {chunk} rows")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=2)
    return 0 if gpu_rate >= 10 * cpu_rate else 1


if __name__ == "__main__":
    raise SystemExit(main())
