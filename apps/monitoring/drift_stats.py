"""The per-feature statistics of the drift tests, on numpy arrays (no Django).

Each function returns ``(statistic, p_value)``; ``p_value`` is None for the distances.
The numbers are scipy's on the same arrays (tests/monitoring/test_drift_scipy.py holds
them to 1e-9); where we compute a statistic ourselves it is for speed (the Wasserstein
distance reuses the sorted arrays the rest of the report needs).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats
from scipy.spatial import distance

# Evidently's floor for the reference standard deviation that norms the Wasserstein
# distance (wasserstein_distance_norm.py: ``max(np.std(reference), 0.001)``).
STD_FLOOR = 0.001
# A chi-square cell whose expected count is under this is pooled with the other rare
# cells (Cochran's rule), so that the asymptotic p-value holds.
MIN_EXPECTED = 5.0
# Empty bins in PSI get this share (Evidently's psi.py fill for shares above 1e-4).
PSI_FILL = 1e-4
PSI_BINS = 10


def ks(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov test (scipy.stats.ks_2samp, two-sided, method
    'auto': exact p-value for small samples, asymptotic for large)."""
    result = stats.ks_2samp(reference, current)
    return float(result.statistic), float(result.pvalue)


def wasserstein_normed(
    reference_sorted: np.ndarray, current_sorted: np.ndarray, reference_std: float
) -> float:
    """First Wasserstein distance between the two samples divided by the reference's
    standard deviation (population, ddof=0; floored at STD_FLOOR as Evidently does).

    Same computation as scipy.stats.wasserstein_distance (integral of the absolute
    difference of the empirical CDFs), on arrays already sorted.
    """
    merged = np.concatenate((reference_sorted, current_sorted))
    # A stable argsort of two sorted runs is a merge (timsort). Within a run of equal
    # values the partial counts differ from scipy's searchsorted ones, but there the
    # step (delta) is 0, so the integral is the same.
    order = np.argsort(merged, kind="stable")
    merged = merged[order]
    deltas = np.diff(merged)
    from_reference = np.cumsum(order < reference_sorted.size)[:-1]
    ref_cdf = from_reference / reference_sorted.size
    cur_cdf = (np.arange(1, merged.size) - from_reference) / current_sorted.size
    return float(np.dot(np.abs(ref_cdf - cur_cdf), deltas)) / max(reference_std, STD_FLOOR)


def pooled_table(reference_counts: np.ndarray, current_counts: np.ndarray) -> np.ndarray:
    """The 2 x k contingency table (reference row, current row) with the categories
    whose expected count is under MIN_EXPECTED in either row pooled into one cell
    (left out when that cell is itself still too small to stand alone and nothing is
    left to pool it with: it then joins the smallest other cell)."""
    table = np.vstack((reference_counts, current_counts)).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    totals = table.sum(axis=1, keepdims=True)
    expected = totals * table.sum(axis=0, keepdims=True) / totals.sum()
    rare = (expected < MIN_EXPECTED).any(axis=0)
    if not rare.any():
        return table
    kept = table[:, ~rare]
    pooled = table[:, rare].sum(axis=1, keepdims=True)
    if kept.shape[1] and _too_small(pooled, totals):
        smallest = int(np.argmin(kept.sum(axis=0)))
        kept = kept.copy()
        kept[:, smallest : smallest + 1] += pooled
        return kept
    return np.hstack((kept, pooled))


def _too_small(cell: np.ndarray, totals: np.ndarray) -> bool:
    expected = totals * cell.sum() / totals.sum()
    return bool((expected < MIN_EXPECTED).any())


def chi2_two_sample(
    reference_counts: np.ndarray, current_counts: np.ndarray
) -> tuple[float, float] | None:
    """Chi-square test of homogeneity on the 2 x k table of category counts (what
    scipy.stats.chi2_contingency computes without continuity correction; with two
    categories it equals the two-proportion z-test). Rare categories are pooled
    (pooled_table). None when fewer than two cells are left (nothing to compare).

    Computed here rather than through chi2_contingency, whose argument handling costs
    about 3 ms a call (a third of a 1,000-feature report); the same numbers to 1e-9
    (tests/monitoring/test_drift_scipy.py)."""
    table = pooled_table(reference_counts, current_counts)
    if table.shape[1] < 2:
        return None
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return statistic, float(special.chdtrc(table.shape[1] - 1, statistic))


def jensen_shannon_distance(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Jensen-Shannon distance (the square root of the divergence, natural log, so
    between 0 and sqrt(ln 2) ≈ 0.833) between the two count vectors' shares
    (scipy.spatial.distance.jensenshannon)."""
    value = distance.jensenshannon(
        reference_counts / reference_counts.sum(), current_counts / current_counts.sum()
    )
    return float(max(value, 0.0))


def psi(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Population stability index, sum of (r - c) * ln(r / c) over the bins' shares,
    empty bins given the share PSI_FILL."""
    ref = reference_counts / reference_counts.sum()
    cur = current_counts / current_counts.sum()
    ref = np.where(ref == 0, PSI_FILL, ref)
    cur = np.where(cur == 0, PSI_FILL, cur)
    return float(np.sum((ref - cur) * np.log(ref / cur)))


def sturges_edges(reference_sorted: np.ndarray, current_sorted: np.ndarray) -> np.ndarray:
    """Evidently's bins for the binned tests of a numerical feature with many
    values: numpy's 'sturges' edges over both samples together
    (stattests/utils.py ``get_binned_data``)."""
    low = min(reference_sorted[0], current_sorted[0])
    high = max(reference_sorted[-1], current_sorted[-1])
    count = int(np.ceil(np.log2(reference_sorted.size + current_sorted.size)) + 1)
    if low == high:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, count + 1)


def decile_edges(reference_sorted: np.ndarray) -> np.ndarray:
    """Inner edges of PSI's bins: the reference's deciles (duplicates removed), so
    each bin holds about a tenth of the reference."""
    inner = np.quantile(reference_sorted, np.linspace(0, 1, PSI_BINS + 1)[1:-1])
    return np.unique(inner)


def binned_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of sorted values per bin [e_i, e_i+1), the last bin closed (as
    numpy.histogram)."""
    positions = np.searchsorted(sorted_values, edges, side="left")
    positions[-1] = sorted_values.size
    return np.diff(positions)


def open_binned_counts(sorted_values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    """Counts per bin (-inf, e_0), [e_0, e_1), ..., [e_last, inf)."""
    positions = np.searchsorted(sorted_values, inner_edges, side="left")
    return np.diff(np.concatenate(([0], positions, [sorted_values.size])))


def distinct_sorted(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a sorted array and their counts."""
    if sorted_values.size == 0:
        return sorted_values, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], sorted_values[1:] != sorted_values[:-1])))
    counts = np.diff(np.concatenate((starts, [sorted_values.size])))
    return sorted_values[starts], counts


def count_distinct_sorted(sorted_values: np.ndarray) -> int:
    """How many distinct values a sorted array holds."""
    if sorted_values.size == 0:
        return 0
    return int(np.count_nonzero(sorted_values[1:] != sorted_values[:-1])) + 1
