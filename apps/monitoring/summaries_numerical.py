"""The tests of a numerical feature from a reference summary and a streamed window's
counts at and between the summary's edges (see apps/monitoring/summaries.py for what
is exact and the error bounds). No Django."""

from __future__ import annotations

from typing import Any

import numpy as np

from apps.monitoring import drift as d
from apps.monitoring import drift_stats as st
from apps.monitoring.drift_columns import NUMERICAL


class Counts:
    """One side's values counted on edges e_0 < ... < e_K: ``at`` (K+1, equal to each
    edge) and ``between`` (K+2: below e_0, strictly between e_k-1 and e_k, above e_K);
    ``low``/``high`` bound the values beyond the edges."""

    def __init__(
        self, edges: np.ndarray, at: np.ndarray, between: np.ndarray, low: float, high: float
    ) -> None:
        self.edges = edges
        self.at = at.astype(np.float64)
        self.between = between.astype(np.float64)
        self.low, self.high = min(low, edges[0]), max(high, edges[-1])
        self.total = float(self.at.sum() + self.between.sum())
        # Values below each edge (F(e_k-)) and at or below it (F(e_k)), as counts.
        self.below = np.cumsum(self.between)[:-1] + np.concatenate(([0.0], np.cumsum(self.at)[:-1]))
        self.at_or_below = self.below + self.at

    def count_below(self, points: np.ndarray) -> np.ndarray:
        """How many values are below each point, the between counts taken as evenly
        spread over their interval (exact at the edges)."""
        k = np.searchsorted(self.edges, points, side="left")  # e_k-1 < p <= e_k
        result = np.empty(points.size, dtype=np.float64)
        inner = (k > 0) & (k < self.edges.size)
        ki = k[inner]
        width = self.edges[ki] - self.edges[ki - 1]
        share = (points[inner] - self.edges[ki - 1]) / width
        result[inner] = self.at_or_below[ki - 1] + self.between[ki] * share
        first = k == 0
        span = self.edges[0] - self.low
        share = np.clip((points[first] - self.low) / span, 0, 1) if span > 0 else 0.0
        result[first] = self.between[0] * share
        last = k == self.edges.size
        span = self.high - self.edges[-1]
        share = np.clip((points[last] - self.edges[-1]) / span, 0, 1) if span > 0 else 1.0
        result[last] = self.at_or_below[-1] + self.between[-1] * share
        return result

    def closed_bins(self, edges: np.ndarray) -> np.ndarray:
        """Counts in [E_i, E_i+1), the last bin closed (numpy.histogram's bins)."""
        below = self.count_below(edges)
        below[-1] = self.total
        return np.diff(below)

    def open_bins(self, inner: np.ndarray) -> np.ndarray:
        """Counts in (-inf, E_0), [E_0, E_1), ..., [E_last, inf)."""
        return np.diff(np.concatenate(([0.0], self.count_below(inner), [self.total])))


def reference_counts(reference: Any) -> Counts:
    """The reference summary's counts (nothing beyond its minimum and maximum)."""
    between = np.concatenate(([0], reference.between, [0]))
    return Counts(reference.edges, reference.at, between, reference.edges[0], reference.edges[-1])


def _integral_of_abs_linear(d0: np.ndarray, d1: np.ndarray, width: np.ndarray) -> float:
    """∫|f| over intervals where f goes linearly from d0 to d1."""
    same = d0 * d1 >= 0
    total = np.abs(d0) + np.abs(d1)
    crossing = np.divide(d0**2 + d1**2, 2 * total, out=np.zeros_like(total), where=total > 0)
    return float(np.sum(width * np.where(same, total / 2, crossing)))


def ks_and_wasserstein(
    ref: Counts, cur: Counts, window: Any, exact_reference: bool
) -> tuple[float, float, float, float]:
    """(KS D, Wasserstein distance, bound on the KS error, bound on the Wasserstein
    error) from the two sides' counts; the Wasserstein distance is not yet normed."""
    n, m = ref.total, cur.total
    gaps = np.concatenate(
        (np.abs(ref.below / n - cur.below / m), np.abs(ref.at_or_below / n - cur.at_or_below / m))
    )
    statistic = float(gaps.max())
    inner_ref, inner_cur = ref.between[1:-1] / n, cur.between[1:-1] / m
    ks_bound = (
        0.0 if exact_reference else float(np.max(np.maximum(inner_ref, inner_cur), initial=0))
    )
    d0 = ref.at_or_below[:-1] / n - cur.at_or_below[:-1] / m  # just after e_k-1
    d1 = ref.below[1:] / n - cur.below[1:] / m  # just before e_k
    width = np.diff(ref.edges)
    distance = _integral_of_abs_linear(d0, d1, width)
    distance += (window.below_sum + window.above_sum) / m
    w_bound = float(np.sum(width * (inner_ref + inner_cur)))
    return statistic, distance, ks_bound, w_bound


def _by_value(reference: Any, window: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Values and both sides' counts per value when the reference is exact with at most
    BY_VALUE values and the window holds at most BY_VALUE values."""
    if window.off_edges is None or not reference.exact:
        return None
    cur_distinct = int(np.count_nonzero(window.at)) + len(window.off_edges)
    if reference.distinct > d.BY_VALUE or cur_distinct > d.BY_VALUE:
        return None
    off = np.array(sorted(window.off_edges), dtype=np.float64)
    values = np.union1d(reference.edges, off)
    ref_counts = np.zeros(values.size)
    ref_counts[np.searchsorted(values, reference.edges)] = reference.at
    cur_counts = np.zeros(values.size)
    cur_counts[np.searchsorted(values, reference.edges)] += window.at
    cur_counts[np.searchsorted(values, off)] += [window.off_edges[v] for v in off.tolist()]
    return values, ref_counts, cur_counts


def whole_counts(counts: np.ndarray) -> tuple[int, ...]:
    """Fractional counts rounded to whole ones with the same total (largest
    remainders first)."""
    floors = np.floor(counts + 1e-9)
    short = int(np.rint(counts.sum() - floors.sum()))
    if short > 0:
        floors[np.argsort(floors - counts)[:short]] += 1
    return tuple(int(c) for c in floors)


def _histograms(ref: Counts, cur: Counts, missing: tuple[int, int]) -> tuple[Any, Any]:
    low, high = min(ref.low, cur.low), max(ref.high, cur.high)
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, d.HISTOGRAM_BINS + 1)
    return tuple(
        d.Histogram(
            counts=whole_counts(side.closed_bins(edges)),
            edges=tuple(float(e) for e in edges),
            missing=lost,
        )
        for side, lost in zip((ref, cur), missing, strict=True)
    )


def _binned(test: str, reference: Any, ref: Counts, cur: Counts) -> tuple[np.ndarray, np.ndarray]:
    if test == d.JENSEN_SHANNON:
        low, high = min(ref.low, cur.low), max(ref.high, cur.high)
        if low == high:
            low, high = low - 0.5, high + 0.5
        bins = int(np.ceil(np.log2(ref.total + cur.total)) + 1)
        edges = np.linspace(low, high, bins + 1)
        return ref.closed_bins(edges), cur.closed_bins(edges)
    return ref.open_bins(reference.deciles), cur.open_bins(reference.deciles)


def numerical_feature(
    name: str, reference: Any, side: Any, test: str | None, threshold: float | None
) -> tuple[d.FeatureDrift, tuple[float, float] | None]:
    """One numerical feature's result and, for KS and Wasserstein, the error bounds."""
    window = side.window
    ref = reference_counts(reference)
    cur = Counts(reference.edges, window.at, window.between, window.low, window.high)
    by_value = _by_value(reference, window)
    distinct = by_value[0].size if by_value is not None else d.FEW_VALUES + 1
    chosen = test or d.default_test(
        NUMERICAL, reference_values=reference.present, distinct=distinct
    )
    missing = (reference.missing, side.missing)
    common = {
        "name": name,
        "kind": NUMERICAL,
        "test": chosen,
        "threshold": threshold,
        "reference_values": reference.present,
        "histograms": _histograms(ref, cur, missing),
        "missing": missing,
        "current_values": int(cur.total),
    }
    if chosen in (d.KS, d.WASSERSTEIN):
        statistic, distance, ks_bound, w_bound = ks_and_wasserstein(
            ref, cur, window, reference.exact
        )
        norm = max(reference.std, st.STD_FLOOR)
        bounds = (ks_bound, w_bound / norm)
        if chosen == d.KS:
            p_value = d.ks_p_value(statistic, int(ref.total), int(cur.total))
            return d.counts_result(counts=None, statistic=(statistic, p_value), **common), bounds
        return d.counts_result(counts=None, statistic=(distance / norm, None), **common), bounds
    if by_value is not None:
        counts = by_value[1], by_value[2]
    else:
        counts = _binned(chosen, reference, ref, cur)
    return d.counts_result(counts=counts, **common), None
