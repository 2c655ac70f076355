"""Explanation throughput: our task against calling ``pred_contribs`` directly.

Usage: python benchmarks/bench_explain.py [--rows 5000] [--trees 500] [--depth 8]
                                          [--features 10] [--rounds 2]

Named baseline: "read the same Parquet file, stack the features as float32,
``booster.predict(DMatrix(x), pred_contribs=True)``". Ours: the Celery task
``apps.explainability.explanation_run`` in-process on the embedded default (digest
checks, chunked reading, pred_contribs, the additivity check against the margin,
global mean |SHAP|, the .npy artifact and the completion entry), model cached.
Rounds alternate A B B A; prints rows/s of each and the ratio (target: ours at
least 0.9x the baseline's rows/s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench_inference_common import django_embedded, queue_batch, register, train, write_input


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    var = django_embedded()
    import hashlib

    import numpy as np
    import pyarrow.parquet as pq
    import xgboost as xgb

    from apps.explainability.models import Explanation
    from apps.explainability.services import explanation_request
    from apps.explainability.tasks import explanation_run_task

    booster, names = train(trees=args.trees, depth=args.depth, features=args.features)
    model_bytes = bytes(booster.save_raw(raw_format="json"))
    path = os.path.join(var, "input.parquet")
    input_bytes = write_input(path, rows=args.rows, names=names)
    org, actor, deployment, version = register(model_bytes=model_bytes, input_bytes=input_bytes)
    batch = queue_batch(
        org=org,
        actor=actor,
        deployment=deployment,
        input_sha256=hashlib.sha256(input_bytes).hexdigest(),
    )
    batch.row_count = args.rows
    batch.save(update_fields=["row_count"])

    def direct() -> float:
        start = time.perf_counter()
        table = pq.read_table(path)
        x = np.column_stack([table.column(n).to_numpy() for n in names]).astype(np.float32)
        booster.predict(xgb.DMatrix(x, feature_names=names), pred_contribs=True)
        return time.perf_counter() - start

    from unittest import mock

    def ours() -> float:
        # Queued without running (the request's on-commit hook is not fired here).
        with mock.patch.object(explanation_run_task, "delay"):
            explanation, _ = explanation_request(
                actor=actor, model_version=version, prediction_batch=batch
            )
        start = time.perf_counter()
        explanation_run_task.apply(args=[explanation.pk])
        elapsed = time.perf_counter() - start
        explanation.refresh_from_db()
        assert explanation.status == Explanation.Status.COMPLETED, explanation.failure_reason
        return elapsed

    ours()
    direct()
    baseline_times, our_times = [], []
    for _ in range(args.rounds):
        baseline_times.append(direct())
        our_times.append(ours())
        our_times.append(ours())
        baseline_times.append(direct())
    base, mine = statistics.median(baseline_times), statistics.median(our_times)
    print(f"model: XGBoost {args.trees} trees depth {args.depth}, {args.features} features")
    print(f"rows: {args.rows}, cores: {os.cpu_count()}, rounds (ABBA): {args.rounds}")
    print(f"baseline (read + pred_contribs): {args.rows / base:,.0f} rows/s (median {base:.3f} s)")
    print(f"ours (explanation_run task):     {args.rows / mine:,.0f} rows/s (median {mine:.3f} s)")
    print(f"throughput ours/baseline: {base / mine:.2f}x (target >= 0.90x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
