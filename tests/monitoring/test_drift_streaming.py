"""A window streamed in chunks against a summary of the reference: the same verdicts as
the exact computation, exact where the summary keeps everything needed, within the
stated bounds where it does not, and the approximation said in words."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from apps.monitoring.drift import DriftInputError, dataset_drift
from apps.monitoring.summaries import (
    ReferenceSummary,
    drift_against_summary,
    parquet_chunks,
    reference_summary,
)

RNG = np.random.default_rng(31)


def frame(rows, shift=0.0):
    return pd.DataFrame(
        {
            "normal": RNG.normal(shift, 1, rows),
            "skewed": RNG.exponential(1, rows) + shift,
            "few": RNG.choice([0.0, 1.0, 2.0], rows),
            "count": RNG.integers(0, 50, rows).astype(np.uint16),
            "city": RNG.choice(["Lyon", "Gent", "Porto", "Graz"], rows),
            "flag": RNG.random(rows) < 0.3,
        }
    )


def chunks(data, size=7000):
    return [data.iloc[i : i + size] for i in range(0, len(data), size)]


def roundtrip(summary):
    return ReferenceSummary.from_dict(json.loads(json.dumps(summary.to_dict())))


@pytest.mark.parametrize("reference_rows", [800, 50_000])
def test_streamed_results_match_the_exact_ones(reference_rows):
    reference, current = frame(reference_rows), frame(30_000, shift=0.05)
    exact = dataset_drift(reference=reference, current=current)
    summary = roundtrip(reference_summary(reference=reference))
    streamed = drift_against_summary(summary=summary, chunks=chunks(current))
    assert exact.approximation is None and "summarised" in streamed.approximation
    ks_bound = float(streamed.approximation.split("KS statistic is within ")[1].split(" ")[0])
    w_bound = float(streamed.approximation.split("Wasserstein distance within ")[1].split(" ")[0])
    for ours, theirs in zip(streamed.features, exact.features, strict=True):
        assert (ours.test, ours.drifted) == (theirs.test, theirs.drifted)
        if ours.test == "wasserstein_norm":
            assert abs(ours.statistic - theirs.statistic) <= w_bound
            assert ours.statistic == pytest.approx(theirs.statistic, abs=2e-3)
        elif ours.test == "ks":
            assert abs(ours.statistic - theirs.statistic) <= ks_bound + 1e-12
        else:
            assert ours.statistic == pytest.approx(theirs.statistic, abs=1e-9)
        if ours.p_value is not None:
            assert ours.p_value == pytest.approx(theirs.p_value, rel=1e-6)
        assert sum(ours.current_histogram.counts) == sum(theirs.current_histogram.counts)
    assert streamed.current_rows == 30_000 and streamed.reference_rows == reference_rows


def test_psi_and_decile_chi_square_are_exact_from_the_summary():
    reference, current = frame(5000), frame(20_000, shift=0.2)
    tests = {"normal": "psi", "skewed": "chi2", "count": "psi", "city": "psi"}
    exact = dataset_drift(reference=reference, current=current, tests=tests, features=list(tests))
    streamed = drift_against_summary(
        summary=reference_summary(reference=reference),
        chunks=chunks(current),
        tests=tests,
        features=list(tests),
    )
    for ours, theirs in zip(streamed.features, exact.features, strict=True):
        assert ours.statistic == pytest.approx(theirs.statistic, abs=1e-9)


def test_a_parquet_window_streams_in_batches(tmp_path):
    reference, current = frame(5000), frame(40_000, shift=0.3)
    path = tmp_path / "window.parquet"
    pq.write_table(pa.Table.from_pandas(current, preserve_index=False), path, row_group_size=8192)
    summary = reference_summary(reference=reference)
    streamed = drift_against_summary(summary=summary, chunks=parquet_chunks(str(path), rows=5000))
    in_memory = drift_against_summary(summary=summary, chunks=[current])
    assert [f.to_dict() for f in streamed.features] == [f.to_dict() for f in in_memory.features]
    assert set(streamed.drifted_features) == {"normal", "skewed"}


def test_five_planted_of_thirty_are_found_in_a_streamed_window():
    def wide(rows, shifted):
        return pd.DataFrame(
            {f"f{i:02}": RNG.normal(0.4 if i in shifted else 0.0, 1, rows) for i in range(30)}
        )

    planted = {2, 9, 14, 21, 27}
    summary = reference_summary(reference=wide(20_000, set()))
    five = drift_against_summary(summary=summary, chunks=chunks(wide(50_000, planted)))
    assert set(five.drifted_features) == {f"f{i:02}" for i in planted}
    assert not five.drifted
    twenty = drift_against_summary(summary=summary, chunks=chunks(wide(50_000, set(range(20)))))
    assert twenty.drifted_count == 20 and twenty.drifted


def test_a_chunk_of_nulls_counts_as_missing():
    reference = frame(2000)
    nulls = pd.DataFrame({name: [None] * 100 for name in reference.columns})
    streamed = drift_against_summary(
        summary=reference_summary(reference=reference), chunks=[frame(1000), nulls]
    )
    assert all(f.current_missing == 100 for f in streamed.features)
    assert streamed.tested_count == len(reference.columns)


def test_untestable_reference_features_keep_their_reason():
    reference = frame(500).assign(when=pd.date_range("2026-01-01", periods=500, freq="h"))
    streamed = drift_against_summary(
        summary=reference_summary(reference=reference),
        chunks=[frame(500).assign(when=pd.date_range("2026-03-01", periods=500, freq="h"))],
    )
    when = streamed.features[-1]
    assert when.kind == "untestable" and "derived feature" in when.reason


def test_mismatched_chunks_and_empty_windows_are_refused():
    summary = reference_summary(reference=frame(1000))
    with pytest.raises(DriftInputError, match="current data has no column 'flag'"):
        drift_against_summary(summary=summary, chunks=[frame(100).drop(columns=["flag"])])
    with pytest.raises(DriftInputError, match=r"'normal' is numerical .* categorical"):
        drift_against_summary(
            summary=summary, chunks=[frame(100).assign(normal=lambda t: t["normal"].astype(str))]
        )
    with pytest.raises(DriftInputError, match="current window has no rows"):
        drift_against_summary(summary=summary, chunks=[])
    with pytest.raises(DriftInputError, match="summary has no feature 'age'"):
        drift_against_summary(summary=summary, chunks=[frame(10)], features=["age"])
    with pytest.raises(DriftInputError, match="quantiles"):
        reference_summary(reference=frame(10), quantiles=7)


def test_values_the_reference_never_had_are_counted_by_value():
    reference = pd.DataFrame({"grade": RNG.choice([1.0, 2.0, 3.0], 3000)})
    current = pd.DataFrame({"grade": RNG.choice([1.0, 2.0, 3.0, 4.0], 2000)})
    exact = dataset_drift(reference=reference, current=current)
    streamed = drift_against_summary(
        summary=reference_summary(reference=reference), chunks=chunks(current, 300)
    )
    ours, theirs = streamed.features[0], exact.features[0]
    assert (ours.test, theirs.test) == ("jensen_shannon_distance",) * 2
    assert ours.statistic == pytest.approx(theirs.statistic, abs=1e-12)
    assert ours.drifted


def test_binary_categories_survive_a_json_summary():
    reference = pa.table({"code": pa.array([b"A1", b"B2", b"\xff"] * 300, pa.binary())})
    current = pa.table({"code": pa.array([b"A1", b"B2", b"\xff"] * 100 + [b"C3"] * 200)})
    summary = roundtrip(reference_summary(reference=reference))
    streamed = drift_against_summary(summary=summary, chunks=[current])
    exact = dataset_drift(reference=reference, current=current)
    assert streamed.features[0].statistic == pytest.approx(exact.features[0].statistic)
    assert "\\xff" in streamed.features[0].current_histogram.categories
    assert streamed.features[0].drifted
