"""GPU against CPU explanation throughput for a 500-tree depth-8 XGBoost model.

Usage: python benchmarks/bench_explain_gpu.py [--rows 200000] [--trees 500] [--depth 8]

Both paths are the service's own explainer (``pred_contribs``: GPUTreeShap on CUDA,
TreeSHAP on the CPU) on the same rows; prints rows/s of each, the ratio (target:
GPU at least 10x) and the GPU's name. On a machine without CUDA it prints
"no CUDA device" and exits 0.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time

from bench_inference_common import model_options, train


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    model_options(parser, rows=200_000, rounds=None)
    parser.add_argument("--cpu-rows", type=int, default=20_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audit_platform.settings")
    import django

    django.setup()
    from apps.inference.devices import cpu_device, select_device, xgboost_cuda_problem

    device = select_device()
    if not device.is_cuda or xgboost_cuda_problem():
        print(f"no CUDA device ({device.fallback_reason or xgboost_cuda_problem()})")
        return 0
    import numpy as np

    from apps.explainability.engine import Explainer
    from apps.inference.loading import load_bytes

    booster, _ = train(trees=args.trees, depth=args.depth, features=args.features)
    raw = bytes(booster.save_raw(raw_format="json"))
    digest = hashlib.sha256(raw).hexdigest()
    gpu = load_bytes(data=raw, fmt="xgboost-json", expected_sha256=digest, device=device)
    cpu = load_bytes(
        data=raw, fmt="xgboost-json", expected_sha256=digest, device=cpu_device("bench")
    )
    x = np.random.default_rng(2).normal(size=(args.rows, args.features)).astype(np.float32)

    def rate(model, rows: np.ndarray) -> float:
        explainer = Explainer(model=model, method="xgboost_pred_contribs", background=rows[:10])
        explainer.explain(rows[:1000])  # warm-up (GPU context, kernels)
        start = time.perf_counter()
        result = explainer.explain(rows)
        elapsed = time.perf_counter() - start
        assert result.max_error <= 1e-4, result.max_error
        return len(rows) / elapsed

    gpu_rate = rate(gpu, x)
    cpu_rate = rate(cpu, x[: args.cpu_rows])
    print(
        f"GPU: {device.name} ({device.uuid}), driver {device.driver}; CPU cores: {os.cpu_count()}"
    )
    print(f"model: XGBoost {args.trees} trees depth {args.depth}, {args.features} features")
    print(f"GPU pred_contribs (GPUTreeShap): {gpu_rate:,.0f} rows/s over {args.rows} rows")
    print(f"CPU pred_contribs (TreeSHAP):    {cpu_rate:,.0f} rows/s over {args.cpu_rows} rows")
    print(f"GPU/CPU: {gpu_rate / cpu_rate:.1f}x (target >= 10x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
