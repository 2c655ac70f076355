"""Drift of each watched feature between a reference and a current window (no Django).

Test choice follows Evidently's defaults (``_get_default_stattest`` in
evidently/legacy/calculations/stattests/registry.py) so that users can compare:

- reference with at most 1,000 values: Kolmogorov-Smirnov for numerical features,
  chi-square for categorical ones and for numerical ones with at most 5 distinct
  values, drift when p < 0.05;
- larger reference: Wasserstein distance normed by the reference's standard deviation
  for numerical features, Jensen-Shannon *distance* for categorical ones and for
  numerical ones with at most 5 distinct values, drift when the distance is ≥ 0.1;
- PSI (≥ 0.1) on request;
- the dataset has drifted when at least half (``share_threshold``) of the tested
  features have drifted.

Where we differ, on purpose: the chi-square is a two-sample test of homogeneity on the
2 x k contingency table (Evidently's tests the current counts against the reference's
shares as if they were exact, and flags identical distributions far too often), and
rare categories are pooled so that its p-value holds. See docs/monitoring.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from apps.monitoring import drift_stats as st
from apps.monitoring.drift_columns import (
    CATEGORICAL,
    NUMERICAL,
    UNTESTABLE,
    Column,
    DriftInputError,
    check_features,
    data_rows,
    read_column,
    table_columns,
)

__all__ = [
    "DatasetDrift",
    "DriftInputError",
    "FeatureDrift",
    "Histogram",
    "dataset_drift",
    "drift_against_summary",
    "reference_summary",
]

KS = "ks"
CHI2 = "chi2"
WASSERSTEIN = "wasserstein_norm"
JENSEN_SHANNON = "jensen_shannon_distance"
PSI = "psi"
TESTS_FOR_KIND = {
    NUMERICAL: (KS, CHI2, WASSERSTEIN, JENSEN_SHANNON, PSI),
    CATEGORICAL: (CHI2, JENSEN_SHANNON, PSI),
}
P_VALUE_TESTS = frozenset({KS, CHI2})
DEFAULT_THRESHOLDS = {KS: 0.05, CHI2: 0.05, WASSERSTEIN: 0.1, JENSEN_SHANNON: 0.1, PSI: 0.1}
SMALL_REFERENCE = 1000  # values; at most this many: KS / chi-square (Evidently)
FEW_VALUES = 5  # a numerical feature with at most this many values is tested as categories
BY_VALUE = 20  # binned tests count each value of a numerical feature with at most this many
HISTOGRAM_BINS = 20
HISTOGRAM_CATEGORIES = 20
OTHER = "(other)"
HOLM = "holm"
# Below this many window values a distance test's fixed threshold is often reached by
# sampling noise alone (docs/monitoring.md, "False alarms, measured"); the result says so.
SMALL_WINDOW = 1000


@dataclass(frozen=True)
class Histogram:
    """A distribution for a chart: ``counts`` per bin (``edges``, one more than the
    counts, for a numerical feature) or per category (``categories``, as text; the
    rarest beyond the 20 most frequent in the reference pooled as "(other)")."""

    counts: tuple[int, ...]
    edges: tuple[float, ...] | None = None
    categories: tuple[str, ...] | None = None
    missing: int = 0


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's result. ``kind`` is "numerical", "categorical" or "untestable";
    an untestable feature says why in ``reason`` and has no test; a tested one may carry
    a note there (one value on both sides; a distance test on a window under
    SMALL_WINDOW values, whose fixed threshold chance alone often reaches). ``statistic`` is
    the KS D, the chi-square statistic, the normed Wasserstein distance, the
    Jensen-Shannon distance or the PSI; ``p_value`` only for KS and chi-square.
    ``*_missing``: nulls, NaN and ±inf, left out of the test. ``p_value_adjusted``:
    the Holm-adjusted p-value when the report was asked for that correction (then
    ``drifted`` compares it, not ``p_value``, with the threshold)."""

    feature: str
    kind: str
    test: str | None
    statistic: float | None
    p_value: float | None
    threshold: float | None
    drifted: bool
    reason: str | None
    reference_histogram: Histogram | None
    current_histogram: Histogram | None
    reference_missing: int = 0
    current_missing: int = 0
    p_value_adjusted: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """As JSON-ready values (lists for tuples)."""
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class DatasetDrift:
    """All features' results; the dataset has drifted when at least
    ``share_threshold`` of the tested features have. ``approximation`` says what
    summary of the reference was used when the figures are not exact (None: exact)."""

    features: tuple[FeatureDrift, ...]
    drifted_count: int
    tested_count: int
    drift_share: float
    share_threshold: float
    drifted: bool
    approximation: str | None = None
    reference_rows: int = 0
    current_rows: int = 0
    correction: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """As JSON-ready values (lists for tuples)."""
        return _jsonable(asdict(self))

    @property
    def drifted_features(self) -> tuple[str, ...]:
        """The names of the features that drifted, in the watched order."""
        return tuple(feature.feature for feature in self.features if feature.drifted)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dataset_drift(
    *,
    reference: Any,
    current: Any,
    features: Sequence[str] | None = None,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    share_threshold: float = 0.5,
    correction: str | None = None,
) -> DatasetDrift:
    """Drift of each of ``features`` (default: every reference column) between
    ``reference`` and ``current`` (pyarrow Tables or pandas DataFrames), exact.

    ``tests`` and ``thresholds`` override the default test and threshold per feature.
    ``correction="holm"`` holds the chance of any false alarm among the p-value tests
    (KS, chi-square) of the report at their level (Holm-Bonferroni); by default each
    feature is tested at its own level, as Evidently does.
    Raises DriftInputError for columns missing on either side, a feature numerical on
    one side and categorical on the other, an empty side, and unknown or unsuitable
    tests and thresholds.
    """
    reference_columns = table_columns(reference)
    current_columns = table_columns(current)
    reference_rows, current_rows = data_rows(reference), data_rows(current)
    _check_rows(reference_rows, current_rows)
    watched = list(features) if features is not None else list(reference_columns)
    check_options(features=watched, tests=tests, thresholds=thresholds, share=share_threshold)
    check_correction(correction)
    check_features(features=watched, reference=reference_columns, current=current_columns)
    results = tuple(
        feature_drift(
            feature=name,
            reference=read_column(reference_columns[name], reference_rows),
            current=read_column(current_columns[name], current_rows),
            test=(tests or {}).get(name),
            threshold=(thresholds or {}).get(name),
        )
        for name in watched
    )
    return summarise(
        results,
        share_threshold=share_threshold,
        reference_rows=reference_rows,
        current_rows=current_rows,
        correction=correction,
    )


def _check_rows(reference_rows: int, current_rows: int) -> None:
    if reference_rows == 0:
        raise DriftInputError("the reference has no rows: choose a reference batch with data")
    if current_rows == 0:
        raise DriftInputError(
            "the current window has no rows: there is nothing to compare; choose a window "
            "with predictions in it"
        )


def check_options(
    *,
    features: Sequence[str],
    tests: Mapping[str, str] | None,
    thresholds: Mapping[str, float] | None,
    share: float,
) -> None:
    """Refuse an empty or repeated feature list, tests and thresholds for features not
    watched, unknown tests, thresholds out of range and a share outside (0, 1]."""
    if not features:
        raise DriftInputError("no features to watch: name at least one column")
    repeated = sorted({name for name in features if list(features).count(name) > 1})
    if repeated:
        raise DriftInputError(f"features named more than once: {', '.join(repeated)}")
    if not 0 < share <= 1:
        raise DriftInputError(f"share_threshold must be in (0, 1], got {share}")
    for option, given in (("tests", tests or {}), ("thresholds", thresholds or {})):
        stray = sorted(set(given) - set(features))
        if stray:
            raise DriftInputError(f"{option} given for features not watched: {', '.join(stray)}")
    for name, test in (tests or {}).items():
        if test not in DEFAULT_THRESHOLDS:
            raise DriftInputError(
                f"unknown test {test!r} for {name!r}: use one of {', '.join(DEFAULT_THRESHOLDS)}"
            )
    for name, value in (thresholds or {}).items():
        _check_threshold(name, (tests or {}).get(name), value)


def _check_threshold(name: str, test: str | None, value: float) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise DriftInputError(f"threshold for {name!r} must be a positive number, got {value!r}")
    if test in P_VALUE_TESTS and value >= 1:
        raise DriftInputError(
            f"threshold for {name!r} is a p-value level for {test}: it must be below 1, got {value}"
        )


def summarise(
    results: tuple[FeatureDrift, ...],
    *,
    share_threshold: float,
    reference_rows: int,
    current_rows: int,
    approximation: str | None = None,
    correction: str | None = None,
) -> DatasetDrift:
    """The dataset's verdict from its features' results (after the correction for
    multiple tests, if one is asked for)."""
    if correction == HOLM:
        results = holm(results)
    tested = sum(1 for result in results if result.kind != UNTESTABLE)
    drifted = sum(1 for result in results if result.drifted)
    share = drifted / tested if tested else 0.0
    return DatasetDrift(
        features=results,
        drifted_count=drifted,
        tested_count=tested,
        drift_share=share,
        share_threshold=share_threshold,
        drifted=bool(tested) and share >= share_threshold,
        approximation=approximation,
        reference_rows=reference_rows,
        current_rows=current_rows,
        correction=correction,
    )


def check_correction(correction: str | None) -> None:
    """Refuse an unknown correction for multiple tests."""
    if correction not in (None, HOLM):
        raise DriftInputError(f"unknown correction {correction!r}: use 'holm' or none")


def holm(results: tuple[FeatureDrift, ...]) -> tuple[FeatureDrift, ...]:
    """The results with Holm-adjusted p-values over the features tested with a
    p-value (KS, chi-square) and their verdicts taken on the adjusted values."""
    tested = [i for i, result in enumerate(results) if result.p_value is not None]
    if not tested:
        return results
    raw = np.array([results[i].p_value for i in tested])
    order = np.argsort(raw, kind="stable")
    scaled = raw[order] * (len(raw) - np.arange(len(raw)))
    adjusted = np.empty_like(raw)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    changed = list(results)
    for position, i in enumerate(tested):
        value = float(adjusted[position])
        changed[i] = replace(
            results[i], p_value_adjusted=value, drifted=value < results[i].threshold
        )
    return tuple(changed)


def untestable(
    feature: str, reason: str, *, reference_missing: int = 0, current_missing: int = 0
) -> FeatureDrift:
    """The result for a feature no test can be run on, with the reason."""
    return FeatureDrift(
        feature=feature,
        kind=UNTESTABLE,
        test=None,
        statistic=None,
        p_value=None,
        threshold=None,
        drifted=False,
        reason=reason,
        reference_histogram=None,
        current_histogram=None,
        reference_missing=reference_missing,
        current_missing=current_missing,
    )


def why_untestable(feature: str, reference: Column, current: Column) -> str | None:
    """Why a feature cannot be tested (None: it can). Raises DriftInputError when the
    two sides' kinds differ."""
    for side, column in (("reference", reference), ("current window", current)):
        if column.kind == UNTESTABLE:
            return f"in the {side}: {column.reason}"
    if reference.kind != current.kind:
        raise DriftInputError(
            f"feature {feature!r} is {reference.kind} ({reference.dtype}) in the reference "
            f"but {current.kind} ({current.dtype}) in the current data: cast one side to "
            "the other's type"
        )
    for side, column in (("reference", reference), ("current window", current)):
        if column.present == 0:
            return f"all values are missing in the {side}"
    return None


def default_test(kind: str, *, reference_values: int, distinct: int) -> str:
    """Evidently's default test for a feature (see the module docstring)."""
    small = reference_values <= SMALL_REFERENCE
    if kind == CATEGORICAL or distinct <= FEW_VALUES:
        return CHI2 if small else JENSEN_SHANNON
    return KS if small else WASSERSTEIN


def small_window_note(test: str, current_values: int) -> str | None:
    """A warning for a distance test on a small window (None: no warning)."""
    if test in P_VALUE_TESTS or current_values >= SMALL_WINDOW:
        return None
    return (
        f"window of {current_values:,} values: below {SMALL_WINDOW:,} the fixed threshold of "
        f"{test} is often reached by chance alone (measured on identical distributions: up "
        "to 87% of 100-value windows); use a larger window, a higher threshold, or ks/chi2"
    )


def check_test(feature: str, kind: str, test: str) -> None:
    """Refuse a test that does not apply to the feature's kind."""
    if test not in TESTS_FOR_KIND[kind]:
        raise DriftInputError(
            f"{test} needs a numerical feature; {feature!r} is {kind}: use one of "
            f"{', '.join(TESTS_FOR_KIND[kind])}"
        )


def feature_drift(
    *,
    feature: str,
    reference: Column,
    current: Column,
    test: str | None = None,
    threshold: float | None = None,
) -> FeatureDrift:
    """One feature's test, exact, on its two columns."""
    reason = why_untestable(feature, reference, current)
    if reason is not None:
        return untestable(
            feature, reason, reference_missing=reference.missing, current_missing=current.missing
        )
    if reference.kind == NUMERICAL:
        values, distinct = _numerical_distinct(reference, current)
    else:
        values, distinct = None, 0
    chosen = test or default_test(
        reference.kind, reference_values=reference.present, distinct=distinct
    )
    common = {
        "name": feature,
        "kind": reference.kind,
        "test": chosen,
        "threshold": threshold,
        "reference_values": reference.present,
        "histograms": histograms(reference, current),
        "missing": (reference.missing, current.missing),
        "current_values": current.present,
    }
    check_test(feature, reference.kind, chosen)
    if chosen == KS:
        return counts_result(
            counts=None, statistic=st.ks(reference.values, current.values), **common
        )
    if chosen == WASSERSTEIN:
        std = float(np.std(reference.values))
        distance = st.wasserstein_normed(reference.values, current.values, std)
        return counts_result(counts=None, statistic=(distance, None), **common)
    return counts_result(counts=binned(chosen, reference, current, values), **common)


def _numerical_distinct(reference: Column, current: Column) -> tuple[np.ndarray | None, int]:
    """The distinct values of both sides together when there are at most BY_VALUE of
    them in the reference and FEW_VALUES + 1 in the current (else None), and how many
    distinct values there are (exact up to FEW_VALUES + 1, which is all the default
    choice needs)."""
    ref_distinct = st.count_distinct_sorted(reference.values)
    cur_distinct = st.count_distinct_sorted(current.values)
    if ref_distinct > BY_VALUE:
        return None, ref_distinct
    if cur_distinct > BY_VALUE:
        return None, cur_distinct
    union = np.union1d(
        st.distinct_sorted(reference.values)[0], st.distinct_sorted(current.values)[0]
    )
    return union, union.size


def aligned_counts(reference: Column, current: Column) -> tuple[np.ndarray, np.ndarray]:
    """The two sides' counts over the union of their categories (reference order
    first, then categories seen only in the current window)."""
    index = {category: position for position, category in enumerate(reference.categories)}
    cur_positions = np.empty(len(current.categories), dtype=np.int64)
    for position, category in enumerate(current.categories):
        cur_positions[position] = index.setdefault(category, len(index))
    ref_counts = np.zeros(len(index), dtype=np.int64)
    ref_counts[: len(reference.categories)] = reference.counts
    cur_counts = np.zeros(len(index), dtype=np.int64)
    np.add.at(cur_counts, cur_positions, current.counts)
    return ref_counts, cur_counts


def _value_counts(values: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    positions = np.searchsorted(sorted_values, values, side="left")
    ends = np.searchsorted(sorted_values, values, side="right")
    return ends - positions


def binned(
    test: str, reference: Column, current: Column, values: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The two sides' counts for a binned test: per category; per value for a
    numerical feature with few values; else over Sturges bins of both samples (JS,
    as Evidently) or the reference's deciles (PSI, chi-square)."""
    if reference.kind == CATEGORICAL:
        return aligned_counts(reference, current)
    if values is not None:
        return _value_counts(values, reference.values), _value_counts(values, current.values)
    if test == JENSEN_SHANNON:
        edges = st.sturges_edges(reference.values, current.values)
        return st.binned_counts(reference.values, edges), st.binned_counts(current.values, edges)
    inner = st.decile_edges(reference.values)
    return (
        st.open_binned_counts(reference.values, inner),
        st.open_binned_counts(current.values, inner),
    )


def chi2_of_counts(
    ref_counts: np.ndarray, cur_counts: np.ndarray
) -> tuple[float | None, float | None, str | None]:
    result = st.chi2_two_sample(ref_counts, cur_counts)
    if result is not None:
        return result[0], result[1], None
    if np.count_nonzero(ref_counts + cur_counts) <= 1:
        return 0.0, 1.0, "one value on both sides"
    return (
        None,
        None,
        (
            "every category is too rare for a chi-square test (expected count under "
            f"{st.MIN_EXPECTED:g} in each): use jensen_shannon_distance, a larger window, or "
            "a feature with fewer categories"
        ),
    )


def histograms(reference: Column, current: Column) -> tuple[Histogram, Histogram]:
    """The two sides' distributions on common bins or categories, for charts."""
    if reference.kind == NUMERICAL:
        low = min(reference.values[0], current.values[0])
        high = max(reference.values[-1], current.values[-1])
        if low == high:
            low, high = low - 0.5, high + 0.5
        edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
        return tuple(
            Histogram(
                counts=tuple(int(c) for c in st.binned_counts(column.values, edges)),
                edges=tuple(float(e) for e in edges),
                missing=column.missing,
            )
            for column in (reference, current)
        )
    ref_counts, cur_counts = aligned_counts(reference, current)
    known = set(reference.categories)
    labels = [str(category) for category in reference.categories]
    labels += [str(category) for category in current.categories if category not in known]
    return category_histograms(labels, ref_counts, cur_counts, reference.missing, current.missing)


def category_histograms(
    labels: Sequence[str],
    ref_counts: np.ndarray,
    cur_counts: np.ndarray,
    ref_missing: int,
    cur_missing: int,
) -> tuple[Histogram, Histogram]:
    """The HISTOGRAM_CATEGORIES most frequent categories (by reference count, then
    current) and the rest pooled as "(other)"."""
    order = np.lexsort((-cur_counts, -ref_counts))
    top, rest = order[:HISTOGRAM_CATEGORIES], order[HISTOGRAM_CATEGORIES:]
    names = tuple(labels[i] for i in top) + ((OTHER,) if rest.size else ())
    result = []
    for counts, missing in ((ref_counts, ref_missing), (cur_counts, cur_missing)):
        shown = [int(counts[i]) for i in top] + ([int(counts[rest].sum())] if rest.size else [])
        result.append(Histogram(counts=tuple(shown), categories=names, missing=missing))
    return result[0], result[1]


def counts_result(
    *,
    name: str,
    kind: str,
    counts: tuple[np.ndarray, np.ndarray] | None,
    test: str | None,
    threshold: float | None,
    reference_values: int,
    histograms: tuple[Histogram, Histogram],
    missing: tuple[int, int],
    statistic: tuple[float, float | None] | None = None,
    distinct: int = 0,
    current_values: int = SMALL_WINDOW,
) -> FeatureDrift:
    """A result from the two sides' counts (chi-square, JS distance, PSI), or from a
    statistic already computed (KS, Wasserstein). ``test`` is the test asked for or
    None for the default, chosen with ``distinct``, the number of distinct values of a
    numerical feature (FEW_VALUES + 1 standing for "many")."""
    chosen = test or default_test(kind, reference_values=reference_values, distinct=distinct)
    check_test(name, kind, chosen)
    limit = DEFAULT_THRESHOLDS[chosen] if threshold is None else threshold
    note = None
    if statistic is not None:
        value, p_value = statistic
    elif chosen == JENSEN_SHANNON:
        value, p_value = st.jensen_shannon_distance(*counts), None
    elif chosen == PSI:
        value, p_value = st.psi(*counts), None
    else:
        value, p_value, note = chi2_of_counts(*counts)
        if value is None:
            return untestable(name, note, reference_missing=missing[0], current_missing=missing[1])
    drifted = p_value < limit if chosen in P_VALUE_TESTS else value >= limit
    return FeatureDrift(
        feature=name,
        kind=kind,
        test=chosen,
        statistic=value,
        p_value=p_value,
        threshold=limit,
        drifted=bool(drifted),
        reason=note or small_window_note(chosen, current_values),
        reference_histogram=histograms[0],
        current_histogram=histograms[1],
        reference_missing=missing[0],
        current_missing=missing[1],
    )


def ks_p_value(statistic: float, n: int, m: int) -> float:
    """Asymptotic two-sided p-value of the two-sample KS statistic (as
    scipy.stats.ks_2samp's 'asymp' method: kstwo with n·m/(n+m) rounded)."""
    return float(st.stats.kstwo.sf(statistic, round(n * m / (n + m))))


def reference_summary(*args: Any, **kwargs: Any) -> Any:
    """See apps.monitoring.summaries.reference_summary."""
    from apps.monitoring import summaries

    return summaries.reference_summary(*args, **kwargs)


def drift_against_summary(*args: Any, **kwargs: Any) -> Any:
    """See apps.monitoring.summaries.drift_against_summary."""
    from apps.monitoring import summaries

    return summaries.drift_against_summary(*args, **kwargs)
