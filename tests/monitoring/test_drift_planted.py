"""Planted shift: the report flags exactly the shifted features, and the dataset verdict
follows the share of drifted features (Evidently's rule: at least half)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apps.monitoring.drift import dataset_drift

FEATURES = 30
LEVELS = np.array(["north", "south", "east", "west", "centre"])
SHARES = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
SHIFTED_SHARES = np.array([0.15, 0.2, 0.2, 0.2, 0.25])


def frame(rng, rows, shifted=frozenset()):
    """15 numerical features (x00..x14) and 15 categorical (c15..c29); the ones named
    in ``shifted`` have their mean moved by 0.5 sd (numerical) or their shares changed
    (categorical)."""
    columns = {}
    for i in range(FEATURES):
        name = f"x{i:02}" if i < 15 else f"c{i:02}"
        moved = name in shifted
        if i < 15:
            columns[name] = rng.normal(loc=0.5 if moved else 0.0, size=rows)
        else:
            columns[name] = LEVELS[rng.choice(5, size=rows, p=SHIFTED_SHARES if moved else SHARES)]
    return pd.DataFrame(columns)


PLANTED_5 = frozenset({"x01", "x07", "x12", "c18", "c25"})
PLANTED_20 = frozenset([f"x{i:02}" for i in range(10)] + [f"c{i:02}" for i in range(15, 25)])


@pytest.mark.parametrize(("rows", "seed", "correction"), [(800, 5, "holm"), (20_000, 6, None)])
def test_five_of_thirty_shifted_are_the_five_flagged_and_the_dataset_has_not_drifted(
    rows, seed, correction
):
    """Small reference: KS and chi-square, each at 5%, would flag about 1.25 of the 25
    unshifted features by chance (at least one in 72% of reports), so the exact set
    needs the Holm correction; the distance tests of a large reference need none."""
    rng = np.random.default_rng(seed)
    result = dataset_drift(
        reference=frame(rng, rows), current=frame(rng, 1000, PLANTED_5), correction=correction
    )
    assert set(result.drifted_features) == PLANTED_5
    assert (result.drifted_count, result.tested_count) == (5, 30)
    assert result.drift_share == pytest.approx(5 / 30)
    assert not result.drifted
    tests = {f.feature[0]: f.test for f in result.features}
    if rows <= 1000:
        assert tests == {"x": "ks", "c": "chi2"}
    else:
        assert tests == {"x": "wasserstein_norm", "c": "jensen_shannon_distance"}


def test_without_correction_the_five_are_flagged_with_chance_alarms_at_the_5_percent_rate():
    alarms = []
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        result = dataset_drift(reference=frame(rng, 800), current=frame(rng, 1000, PLANTED_5))
        assert set(result.drifted_features) >= PLANTED_5
        assert not result.drifted
        alarms.append(result.drifted_count - 5)
    assert np.mean(alarms) / 25 <= 0.08  # 25 unshifted features at the 5% level each


@pytest.mark.parametrize(("rows", "seed"), [(800, 7), (20_000, 8)])
def test_twenty_of_thirty_shifted_means_the_dataset_has_drifted(rows, seed):
    rng = np.random.default_rng(seed)
    result = dataset_drift(reference=frame(rng, rows), current=frame(rng, 1000, PLANTED_20))
    assert set(result.drifted_features) >= PLANTED_20
    assert result.drifted_count >= 20
    assert result.drifted


def test_the_share_threshold_is_the_users():
    rng = np.random.default_rng(9)
    reference, current = frame(rng, 20_000), frame(rng, 1000, PLANTED_5)
    strict = dataset_drift(reference=reference, current=current, share_threshold=0.15)
    assert strict.drifted and strict.share_threshold == 0.15


def test_histograms_show_the_shift_for_charts():
    rng = np.random.default_rng(10)
    result = dataset_drift(
        reference=frame(rng, 5000), current=frame(rng, 2000, PLANTED_5), features=["x01", "c18"]
    )
    numeric, category = result.features
    assert len(numeric.reference_histogram.edges) == len(numeric.reference_histogram.counts) + 1
    assert numeric.reference_histogram.edges == numeric.current_histogram.edges
    assert sum(numeric.reference_histogram.counts) == 5000
    assert sum(numeric.current_histogram.counts) == 2000
    assert category.reference_histogram.categories == category.current_histogram.categories
    assert set(category.reference_histogram.categories) == set(LEVELS)
    hist = category.current_histogram
    share = dict(zip(hist.categories, hist.counts, strict=True))
    assert share["centre"] / 2000 == pytest.approx(0.25, abs=0.03)
