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

import time
from unittest import mock

import bench_inference_common as common


def main() -> int:
    args, bench = common.bench_start(__doc__, rows=5_000, rounds=2)
    import xgboost as xgb

    from apps.explainability.models import Explanation
    from apps.explainability.services import explanation_request
    from apps.explainability.tasks import explanation_run_task

    batch = common.queue_batch(bench)
    batch.row_count = args.rows
    batch.save(update_fields=["row_count"])

    def direct() -> float:
        start = time.perf_counter()
        x = common.read_features(bench.path, bench.names)
        bench.booster.predict(xgb.DMatrix(x, feature_names=bench.names), pred_contribs=True)
        return time.perf_counter() - start

    def ours() -> float:
        # Queued without running (the request's on-commit hook is not fired here).
        with mock.patch.object(explanation_run_task, "delay"):
            explanation, _ = explanation_request(
                actor=bench.actor, model_version=bench.version, prediction_batch=batch
            )
        start = time.perf_counter()
        explanation_run_task.apply(args=[explanation.pk])
        elapsed = time.perf_counter() - start
        explanation.refresh_from_db()
        assert explanation.status == Explanation.Status.COMPLETED, explanation.failure_reason
        return elapsed

    base, mine, load_at_start = common.abba(baseline=direct, ours=ours, rounds=args.rounds)
    common.print_setting(args, load_at_start)
    print(f"baseline (read + pred_contribs): {args.rows / base:,.0f} rows/s (median {base:.3f} s)")
    print(f"ours (explanation_run task):     {args.rows / mine:,.0f} rows/s (median {mine:.3f} s)")
    print(f"throughput ours/baseline: {base / mine:.2f}x (target >= 0.90x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
