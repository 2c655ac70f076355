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

import time

import bench_inference_common as common


def main() -> int:
    args, bench = common.bench_start(__doc__, rows=100_000, rounds=3)
    from apps.inference.tasks import prediction_batch_run_task
    from apps.registry.models import PredictionBatch

    def direct() -> float:
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
        return elapsed

    base, mine, load_at_start = common.abba(baseline=direct, ours=ours, rounds=args.rounds)
    common.print_setting(args, load_at_start)
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
