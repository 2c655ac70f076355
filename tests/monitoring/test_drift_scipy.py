"""Our per-feature statistics are scipy's on the same arrays (to 1e-9)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from apps.monitoring.drift import dataset_drift

RNG = np.random.default_rng(20)
TOL = 1e-9


def one(reference, current, test=None):
    result = dataset_drift(
        reference=pd.DataFrame({"x": reference}),
        current=pd.DataFrame({"x": current}),
        tests={"x": test} if test else None,
    )
    return result.features[0]


@pytest.mark.parametrize("sizes", [(300, 500), (1000, 80), (900, 20_000)])
def test_ks_is_scipys_two_sample_ks(sizes):
    reference = RNG.normal(size=sizes[0])
    current = RNG.normal(0.1, 1.1, size=sizes[1])
    result = one(reference, current)
    expected = stats.ks_2samp(reference, current)
    assert result.test == "ks"
    assert result.statistic == pytest.approx(expected.statistic, abs=TOL)
    assert result.p_value == pytest.approx(expected.pvalue, abs=TOL)


@pytest.mark.parametrize(
    "draw",
    [
        lambda n: RNG.normal(3, 2, size=n),
        lambda n: RNG.integers(0, 40, size=n).astype(float),  # many ties
        lambda n: RNG.exponential(size=n),
    ],
)
def test_normed_wasserstein_is_scipys_distance_over_the_reference_std(draw):
    reference, current = draw(5000), draw(3000) * 1.05
    result = one(reference, current)
    expected = stats.wasserstein_distance(reference, current) / np.std(reference)
    assert result.test == "wasserstein_norm"
    assert result.statistic == pytest.approx(expected, abs=TOL)


def test_chi2_is_scipys_contingency_table_test_without_correction():
    labels = np.array(list("abcdefg"))
    reference = labels[RNG.integers(0, 7, size=800)]
    current = labels[RNG.choice(7, size=600, p=[0.2, 0.2, 0.15, 0.15, 0.1, 0.1, 0.1])]
    result = one(reference, current)
    table = np.array(
        [[np.sum(reference == c) for c in labels], [np.sum(current == c) for c in labels]]
    )
    expected = stats.chi2_contingency(table, correction=False)
    assert result.test == "chi2"
    assert result.statistic == pytest.approx(expected.statistic, abs=TOL)
    assert result.p_value == pytest.approx(expected.pvalue, abs=TOL)


def test_chi2_with_two_categories_is_the_two_proportion_z_test():
    reference = RNG.random(700) < 0.3
    current = RNG.random(900) < 0.35
    result = one(reference, current)
    p1, p2 = reference.mean(), current.mean()
    pooled = (reference.sum() + current.sum()) / (reference.size + current.size)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / reference.size + 1 / current.size))
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), abs=TOL)
    assert result.statistic == pytest.approx(z**2, abs=TOL)


def test_jensen_shannon_distance_is_scipys_on_the_category_shares():
    labels = np.array(["red", "green", "blue", "grey"])
    reference = labels[RNG.integers(0, 4, size=20_000)]
    current = labels[RNG.choice(4, size=7000, p=[0.4, 0.3, 0.2, 0.1])]
    result = one(reference, current)
    ref = np.array([np.mean(reference == c) for c in labels])
    cur = np.array([np.mean(current == c) for c in labels])
    assert result.test == "jensen_shannon_distance"
    assert result.statistic == pytest.approx(distance.jensenshannon(ref, cur), abs=TOL)


def test_jensen_shannon_on_a_numerical_feature_uses_evidentlys_sturges_bins():
    reference, current = RNG.normal(size=4000), RNG.normal(0.3, size=3000)
    result = one(reference, current, test="jensen_shannon_distance")
    edges = np.histogram_bin_edges(np.concatenate((reference, current)), bins="sturges")
    ref = np.histogram(reference, edges)[0] / reference.size
    cur = np.histogram(current, edges)[0] / current.size
    assert result.statistic == pytest.approx(distance.jensenshannon(ref, cur), abs=TOL)


def test_psi_on_reference_deciles():
    reference, current = RNG.normal(size=4000), RNG.normal(0.5, size=3000)
    result = one(reference, current, test="psi")
    edges = np.concatenate(([-np.inf], np.quantile(reference, np.linspace(0.1, 0.9, 9)), [np.inf]))
    ref = np.histogram(reference, edges)[0] / reference.size
    cur = np.histogram(current, edges)[0] / current.size
    assert result.statistic == pytest.approx(np.sum((ref - cur) * np.log(ref / cur)), abs=TOL)
    assert result.drifted
