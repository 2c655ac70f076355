"""Batch inference overhead: our task against calling the model directly.

Usage: python benchmarks/bench_inference.py [--rows 100000] [--trees 500] [--depth 8]
                                            [--features 10] [--rounds 3]

Named baseline: "read the same Parquet file with pyarrow, stack the feature columns
as float32, ``booster.inplace_predict``", i.e. calling the model directly on the
same rows. Ours: the Celery task ``apps.inference.prediction_batch_run`` run
in-process on the embedded default (claim, digest check of model and input, chunked
reading, scoring, output Parquet, per-row spec §6 leaves and rows_root, output
digest, storing both files, the completion ledger entry). The model is cached
before timing, as in a long-running worker. Rounds alternate A B B A; medians are
printed with their ratio (target: at most 1.10).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench_inference_common import django_embedded, queue_batch, register, train, write_input


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    var = django_embedded()
    import hashlib

    import numpy as np
    import pyarrow.parquet as pq

    from apps.inference.tasks import prediction_batch_run_task
    from apps.registry.models import PredictionBatch

    booster, names = train(trees=args.trees, depth=args.depth, features=args.features)
    model_bytes = bytes(booster.save_raw(raw_format="json"))
    path = os.path.join(var, "input.parquet")
    input_bytes = write_input(path, rows=args.rows, names=names)
    org, actor, deployment, _ = register(model_bytes=model_bytes, input_bytes=input_bytes)
    input_sha = hashlib.sha256(input_bytes).hexdigest()

    def direct() -> float:
        start = time.perf_counter()
        table = pq.read_table(path)
        x = np.column_stack([table.column(n).to_numpy() for n in names]).astype(np.float32)
        booster.inplace_predict(x)
        return time.perf_counter() - start

    def ours() -> float:
        batch = queue_batch(org=org, actor=actor, deployment=deployment, input_sha256=input_sha)
        start = time.perf_counter()
        prediction_batch_run_task.apply(args=[batch.pk])
        elapsed = time.perf_counter() - start
        batch = PredictionBatch.objects.get(pk=batch.pk)
        assert batch.status == "completed", batch.failure_reason
        return elapsed

    load_at_start = os.getloadavg()[0]
    ours()  # loads the model into this process's cache, as a worker's first job does
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
    print(f"load average (1 min): {load_at_start:.2f} at start, {os.getloadavg()[0]:.2f} at end")
    print(
        f"baseline (read + inplace_predict): median {base:.3f} s  ({args.rows / base:,.0f} rows/s)"
    )
    print(
        f"ours (prediction_batch_run task):  median {mine:.3f} s  ({args.rows / mine:,.0f} rows/s)"
    )
    print(f"ratio ours/baseline: {mine / base:.2f}x (target <= 1.10x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
