"""False-alarm rates of each drift test on identical distributions, over window sizes.

For each test and (reference rows, window rows), 1,000 pairs of samples from the same
distribution (one pair per column of a wide table, so ``dataset_drift`` runs them in
one call); prints the share flagged as drifted, as a Markdown table for
docs/monitoring.md. Named baseline, same run: Evidently's small-reference chi-square
(``scipy.stats.chisquare`` of the window's counts against the reference's shares, as
evidently/legacy/calculations/stattests/chisquare_stattest.py computes it) on the same
categorical pairs.

Distributions: numerical N(10, 3) and lognormal(0, 1); categorical, 6 categories with
shares 35/25/20/10/7/3%; "few values", 4 values with shares 40/30/20/10%.

Usage: .venv/bin/python benchmarks/bench_drift_false_alarms.py [pairs]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apps.monitoring.drift import dataset_drift

SHARES = np.array([0.35, 0.25, 0.2, 0.1, 0.07, 0.03])
BLOCK = 50  # pairs per call, to bound memory with large samples


def draw(kind: str, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    if kind == "normal":
        return rng.normal(10, 3, shape)
    if kind == "lognormal":
        return rng.lognormal(0, 1, shape)
    if kind == "few values":
        return rng.choice([0.0, 1.0, 2.0, 5.0], shape, p=[0.4, 0.3, 0.2, 0.1])
    return rng.choice(len(SHARES), shape, p=SHARES)


def table(kind: str, values: np.ndarray) -> pd.DataFrame:
    if kind == "categorical":
        names = [f"level-{k}" for k in range(len(SHARES))]
        return pd.DataFrame(
            {f"f{i}": pd.Categorical.from_codes(row, names) for i, row in enumerate(values)}
        )
    return pd.DataFrame({f"f{i}": row for i, row in enumerate(values)})


def rate(kind: str, sizes: tuple[int, int], pairs: int, test: str | None) -> tuple[float, str]:
    rng = np.random.default_rng(sizes[0] + 7 * sizes[1])
    flagged, used = 0, set()
    for start in range(0, pairs, BLOCK):
        count = min(BLOCK, pairs - start)
        reference = table(kind, draw(kind, rng, (count, sizes[0])))
        current = table(kind, draw(kind, rng, (count, sizes[1])))
        tests = dict.fromkeys(reference.columns, test) if test else None
        result = dataset_drift(reference=reference, current=current, tests=tests)
        flagged += result.drifted_count
        used |= {feature.test for feature in result.features}
    return flagged / pairs, ", ".join(sorted(used))


def evidently_chisquare_rate(sizes: tuple[int, int], pairs: int) -> float:
    rng = np.random.default_rng(sizes[0] + 7 * sizes[1])
    k = len(SHARES)
    ref = np.stack([np.bincount(r, minlength=k) for r in draw("cat", rng, (pairs, sizes[0]))])
    cur = np.stack([np.bincount(c, minlength=k) for c in draw("cat", rng, (pairs, sizes[1]))])
    expected = ref * (sizes[1] / sizes[0])
    return float(np.mean(stats.chisquare(cur, expected, axis=1).pvalue < 0.05))


CASES = [
    ("normal", (800, 100), None),
    ("normal", (800, 800), None),
    ("normal", (800, 100_000), None),
    ("few values", (800, 800), None),
    ("categorical", (800, 100), None),
    ("categorical", (800, 800), None),
    ("categorical", (800, 100_000), None),
    ("normal", (20_000, 100), None),
    ("normal", (20_000, 1000), None),
    ("normal", (20_000, 10_000), None),
    ("lognormal", (20_000, 100), None),
    ("lognormal", (20_000, 1000), None),
    ("categorical", (20_000, 100), None),
    ("categorical", (20_000, 1000), None),
    ("few values", (20_000, 100), None),
    ("few values", (20_000, 1000), None),
    ("normal", (20_000, 100), "jensen_shannon_distance"),
    ("normal", (20_000, 1000), "jensen_shannon_distance"),
    ("normal", (20_000, 10_000), "jensen_shannon_distance"),
    ("normal", (20_000, 100), "psi"),
    ("normal", (20_000, 1000), "psi"),
    ("normal", (20_000, 10_000), "psi"),
]


def main() -> None:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print(f"{pairs:,} pairs from identical distributions per row\n")
    print("| data | reference rows | window rows | test | flagged |")
    print("|---|---|---|---|---|")
    for kind, sizes, test in CASES:
        share, used = rate(kind, sizes, pairs, test)
        print(f"| {kind} | {sizes[0]:,} | {sizes[1]:,} | {used} | {share:.1%} |", flush=True)
    print("\nEvidently's one-sample chi-square on the same categorical pairs:\n")
    print("| reference rows | window rows | flagged |")
    print("|---|---|---|")
    for sizes in ((800, 100), (800, 800), (800, 100_000)):
        print(f"| {sizes[0]:,} | {sizes[1]:,} | {evidently_chisquare_rate(sizes, pairs):.1%} |")


if __name__ == "__main__":
    main()
