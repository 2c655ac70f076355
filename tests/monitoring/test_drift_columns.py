"""Every watched column is tested or reported untestable with the reason; no dtype is
dropped silently; columns that do not match are refused with what to fix."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from apps.monitoring.drift import DriftInputError, dataset_drift

RNG = np.random.default_rng(1)
N = 400


def table():
    ints = RNG.integers(0, 200, size=N)
    nullable = pd.array(ints, dtype="Int64")
    nullable[::7] = pd.NA
    return pd.DataFrame(
        {
            "uint8": RNG.integers(0, 250, size=N).astype(np.uint8),
            "uint64": RNG.integers(0, 2**40, size=N).astype(np.uint64),
            "nullable_int": nullable,
            "nullable_float": pd.array(RNG.normal(size=N), dtype="Float64"),
            "int32": ints.astype(np.int32),
            "float32": RNG.normal(size=N).astype(np.float32),
            "bool": RNG.random(N) < 0.4,
            "nullable_bool": pd.array(
                [None if i % 9 == 0 else bool(i % 2) for i in range(N)], dtype="boolean"
            ),
            "string": pd.array(RNG.choice(["a", "b", "c"], size=N), dtype="string"),
            "object_str": RNG.choice(["x", "y"], size=N).astype(object),
            "category": pd.Categorical(RNG.choice(["lo", "mid", "hi"], size=N)),
            "all_null": [None] * N,
            "all_nan": np.full(N, np.nan),
            "constant": np.full(N, 3.0),
            "duration": pd.to_timedelta(RNG.integers(0, 1000, size=N), unit="s"),
            "timestamp": pd.date_range("2026-01-01", periods=N, freq="h"),
            "mixed": [1 if i % 2 else "one" for i in range(N)],
        }
    )


def by_name(result):
    return {feature.feature: feature for feature in result.features}


def test_every_dtype_is_tested_or_reported_untestable_with_a_reason():
    result = dataset_drift(reference=table(), current=table())
    found = by_name(result)
    assert list(found) == list(table().columns)
    numerical = {"uint8", "uint64", "nullable_int", "nullable_float", "int32", "float32"}
    numerical |= {"constant", "duration"}
    categorical = {"bool", "nullable_bool", "string", "object_str", "category"}
    untestable = {"all_null", "all_nan", "timestamp", "mixed"}
    assert {n for n, f in found.items() if f.kind == "numerical"} == numerical
    assert {n for n, f in found.items() if f.kind == "categorical"} == categorical
    assert {n for n, f in found.items() if f.kind == "untestable"} == untestable
    for name in untestable:
        assert found[name].reason and found[name].test is None and not found[name].drifted
    assert "missing" in found["all_null"].reason
    assert "missing" in found["all_nan"].reason
    assert "derived feature" in found["timestamp"].reason
    assert "cast it to one type" in found["mixed"].reason
    assert result.tested_count == len(numerical | categorical)
    assert found["nullable_int"].reference_missing == len(range(0, N, 7))
    assert found["nullable_bool"].current_missing == len(range(0, N, 9))
    constant = found["constant"]
    assert (constant.test, constant.statistic, constant.p_value, constant.drifted) == (
        "chi2",
        0.0,
        1.0,
        False,
    )
    json.dumps(result.to_dict())


def test_arrow_tables_are_read_like_dataframes():
    frame = table().drop(columns=["mixed"])
    from_pandas = dataset_drift(reference=frame, current=frame.iloc[::-1])
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    from_arrow = dataset_drift(reference=arrow, current=arrow.take(np.arange(N)[::-1]))
    assert [f.to_dict() for f in from_arrow.features] == [f.to_dict() for f in from_pandas.features]


def test_a_shift_in_an_unsigned_column_is_found():
    reference = pd.DataFrame({"u": RNG.integers(0, 100, size=N).astype(np.uint16)})
    current = pd.DataFrame({"u": (RNG.integers(0, 100, size=N) + 30).astype(np.uint16)})
    assert dataset_drift(reference=reference, current=current).features[0].drifted


def test_a_column_missing_from_the_current_data_is_refused_naming_it():
    with pytest.raises(DriftInputError, match="current data has no column 'bool'"):
        dataset_drift(reference=table(), current=table().drop(columns=["bool"]))


def test_a_watched_feature_missing_from_the_reference_is_refused():
    with pytest.raises(DriftInputError, match="reference data has no column 'age'"):
        dataset_drift(reference=table(), current=table(), features=["age"])


def test_a_feature_numerical_on_one_side_and_categorical_on_the_other_is_refused():
    current = table().assign(int32=lambda t: t["int32"].astype(str))
    with pytest.raises(DriftInputError, match=r"'int32' is numerical .* categorical .* cast"):
        dataset_drift(reference=table(), current=current)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tests": {"string": "ks"}}, "ks needs a numerical feature"),
        ({"tests": {"uint8": "t-test"}}, "unknown test 't-test'"),
        ({"thresholds": {"uint8": 0}}, "must be a positive number"),
        ({"tests": {"uint8": "ks"}, "thresholds": {"uint8": 5}}, "must be below 1"),
        ({"thresholds": {"nope": 0.1}}, "not watched: nope"),
        ({"share_threshold": 0}, "share_threshold"),
        ({"features": []}, "no features"),
        ({"features": ["uint8", "uint8"]}, "more than once"),
        ({"correction": "bonferroni"}, "unknown correction"),
    ],
)
def test_bad_options_are_refused_with_what_to_fix(options, message):
    with pytest.raises(DriftInputError, match=message):
        dataset_drift(reference=table(), current=table(), **options)


def test_an_empty_window_is_refused():
    with pytest.raises(DriftInputError, match="current window has no rows"):
        dataset_drift(reference=table(), current=table().iloc[:0])


def test_a_current_window_with_every_value_missing_is_untestable_not_silent():
    current = table().assign(float32=np.nan)
    found = by_name(dataset_drift(reference=table(), current=current))["float32"]
    assert found.kind == "untestable"
    assert found.reason == "all values are missing in the current window"


def test_many_rare_categories_are_pooled_for_the_chi_square():
    reference = pd.DataFrame({"id": [f"user-{i}" for i in range(N)]})
    current = pd.DataFrame({"id": [f"user-{i}" for i in range(N, 2 * N)]})
    found = dataset_drift(reference=reference, current=current).features[0]
    assert found.kind == "untestable"
    assert "too rare" in found.reason
