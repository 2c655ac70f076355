"""Drift of 100,000 rows x 30 features against a 100,000-row reference.

Ours: ``apps.monitoring.drift.dataset_drift`` on two pandas DataFrames (24 float64
columns, 6 categorical columns of pandas ``category`` dtype), all of it: reading the
columns, choosing the tests, the tests, and the histograms for the charts.

Baseline, same run: scipy's tests called directly on the same arrays, already taken
out of the frames, the tests our defaults choose at this size: for each numerical
column ``scipy.stats.wasserstein_distance(ref, cur) / np.std(ref)``; for each
categorical column ``np.bincount`` of the category codes on each side and
``scipy.spatial.distance.jensenshannon`` of the shares (no histograms, no checks).
Rounds alternate (ours, scipy); the best and the median round of each are printed with
the ratio.

Second baseline: Evidently's data-drift preset (``Report([DataDriftPreset()])``) on
the same data, run in Evidently's own virtual environment (default
/work/wt/evidently-venv, or EVIDENTLY_PYTHON; pinned evidently==0.7.23 with
pandas 2.3.3, its pins conflicting with ours). The frames go to it through Parquet;
only ``report.run`` is timed. Skipped, with a message, when that environment is absent.

Usage: .venv/bin/python benchmarks/bench_drift.py [rows] [rounds]
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scipy import stats
from scipy.spatial import distance

from apps.monitoring.drift import dataset_drift

NUMERICAL, CATEGORICAL = 24, 6
EVIDENTLY_PYTHON = os.environ.get("EVIDENTLY_PYTHON", "/work/wt/evidently-venv/bin/python")

EVIDENTLY_RUN = """
import json, sys, time
import pandas as pd
import evidently
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset
ref = pd.read_parquet(sys.argv[1]); cur = pd.read_parquet(sys.argv[2])
definition = DataDefinition(
    numerical_columns=[c for c in ref.columns if c.startswith("x")],
    categorical_columns=[c for c in ref.columns if c.startswith("c")],
)
times = []
for _ in range(int(sys.argv[3])):
    reference = Dataset.from_pandas(ref, data_definition=definition)
    current = Dataset.from_pandas(cur, data_definition=definition)
    start = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
    times.append(time.perf_counter() - start)
metrics = snapshot.dict()["metrics"]
print(json.dumps({"version": evidently.__version__, "times": times, "metrics": len(metrics)}))
"""


def frames(rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    levels = [f"level-{k}" for k in range(8)]

    def one(shift: float) -> pd.DataFrame:
        columns = {
            f"x{i:02}": rng.normal(shift * (i % 3), 1 + i / 10, rows) for i in range(NUMERICAL)
        }
        for i in range(CATEGORICAL):
            codes = rng.integers(0, len(levels), rows)
            columns[f"c{i:02}"] = pd.Categorical.from_codes(codes, categories=levels)
        return pd.DataFrame(columns)

    return one(0.0), one(0.05)


def scipy_direct(arrays: list[tuple[str, np.ndarray, np.ndarray]]) -> list[float]:
    """The baseline: scipy's tests on arrays already out of the frames."""
    found = []
    for kind, ref, cur in arrays:
        if kind == "x":
            found.append(stats.wasserstein_distance(ref, cur) / np.std(ref))
        else:
            k = int(max(ref.max(), cur.max())) + 1
            r, c = np.bincount(ref, minlength=k), np.bincount(cur, minlength=k)
            found.append(float(distance.jensenshannon(r / r.sum(), c / c.sum())))
    return found


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def evidently_seconds(reference: pd.DataFrame, current: pd.DataFrame, rounds: int) -> dict | None:
    if not Path(EVIDENTLY_PYTHON).exists():
        print(
            f"Evidently: skipped, no virtual environment at {EVIDENTLY_PYTHON} (make one with "
            "python3.11 -m venv /work/wt/evidently-venv && /work/wt/evidently-venv/bin/pip "
            "install evidently==0.7.23 pandas==2.3.3, or set EVIDENTLY_PYTHON)"
        )
        return None
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as folder:
        ref_path, cur_path = Path(folder, "reference.parquet"), Path(folder, "current.parquet")
        reference.to_parquet(ref_path)
        current.to_parquet(cur_path)
        done = subprocess.run(
            [EVIDENTLY_PYTHON, "-c", EVIDENTLY_RUN, ref_path, cur_path, str(rounds)],
            check=True,
            capture_output=True,
            text=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{model}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start"


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    print(f"machine: {machine()}")
    reference, current = frames(rows, seed=1)
    arrays = [
        (name[0], reference[name].cat.codes.to_numpy(), current[name].cat.codes.to_numpy())
        if name.startswith("c")
        else (name[0], reference[name].to_numpy(), current[name].to_numpy())
        for name in reference.columns
    ]
    result = dataset_drift(reference=reference, current=current)
    expected = scipy_direct(arrays)
    ours_figures = [feature.statistic for feature in result.features]
    assert np.allclose(ours_figures, expected, atol=1e-9), "not the same statistics"
    ours, baseline = [], []
    for _ in range(rounds):
        ours.append(timed(lambda: dataset_drift(reference=reference, current=current)))
        baseline.append(timed(lambda: scipy_direct(arrays)))
    print(
        f"{rows:,} rows x {NUMERICAL + CATEGORICAL} features vs {rows:,}-row reference, "
        f"{rounds} rounds; tests: {sorted({f.test for f in result.features})}"
    )
    print(f"ours (dataset_drift):   best {min(ours):.3f} s, median {statistics.median(ours):.3f} s")
    print(
        f"scipy directly:         best {min(baseline):.3f} s, "
        f"median {statistics.median(baseline):.3f} s"
    )
    print(
        f"ratio ours / scipy: best {min(ours) / min(baseline):.2f}x, "
        f"median {statistics.median(ours) / statistics.median(baseline):.2f}x (target <= 1.5x)"
    )
    evidently = evidently_seconds(reference, current, rounds=max(1, min(rounds, 3)))
    if evidently is not None:
        best = min(evidently["times"])
        print(
            f"Evidently {evidently['version']} DataDriftPreset: best {best:.3f} s of "
            f"{len(evidently['times'])}; Evidently / ours {best / min(ours):.1f}x (target >= 7x), "
            f"Evidently / scipy {best / min(baseline):.1f}x"
        )


if __name__ == "__main__":
    main()
