"""Columns of a table as the drift tests see them: numerical values or category counts.

Pure computation (numpy, pyarrow, pandas; no Django). Every column comes out as one of
three kinds, so that no dtype is dropped silently:

- ``numerical``: integers of any width, signed or unsigned, nullable or not; floats;
  decimals; durations (in seconds). Values become float64; nulls, NaN and ±inf count
  as missing and are left out of the test.
- ``categorical``: booleans, strings, binary (as UTF-8 text, undecodable bytes
  escaped), dictionary-encoded (pandas ``category``) columns. Values are counted per
  category; nulls count as missing.
- ``untestable``: everything else, with the reason in words (all values missing,
  dates and times, nested values, mixed types in one pandas ``object`` column).

A pandas column goes through ``pyarrow.array(..., from_pandas=True)`` so that both
input kinds share one path (pandas NaN and ``pd.NA`` become nulls).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NUMERICAL = "numerical"
CATEGORICAL = "categorical"
UNTESTABLE = "untestable"


class DriftInputError(ValueError):
    """The reference and current data cannot be compared; the message says what to fix."""


@dataclass(frozen=True)
class Column:
    """One side's values of one feature.

    ``values`` (numerical): the finite values as float64, sorted ascending.
    ``categories``/``counts`` (categorical): each category once, with its count.
    ``missing``: nulls, NaN and ±inf, left out of every test.
    """

    kind: str
    rows: int
    missing: int
    dtype: str
    values: np.ndarray | None = None
    categories: tuple[Any, ...] | None = None
    counts: np.ndarray | None = None
    reason: str | None = None

    @property
    def present(self) -> int:
        """How many values take part in the test."""
        return self.rows - self.missing


def table_columns(data: Any) -> dict[str, pa.ChunkedArray | pa.Array | Exception]:
    """The columns of a pyarrow Table or RecordBatch or a pandas DataFrame, as arrow
    arrays. A pandas column that arrow cannot hold (mixed types in one ``object``
    column) maps to the conversion error, reported later as untestable."""
    if isinstance(data, pa.Table | pa.RecordBatch):
        return {name: data.column(name) for name in data.column_names}
    columns = getattr(data, "columns", None)
    if columns is None or not hasattr(data, "__getitem__"):
        raise DriftInputError(
            f"expected a pyarrow Table or a pandas DataFrame, got {type(data).__name__}"
        )
    found: dict[str, Any] = {}
    for name in columns:
        try:
            found[str(name)] = pa.array(data[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as error:
            found[str(name)] = error
    return found


def data_rows(data: Any) -> int:
    """The number of rows of a Table, RecordBatch or DataFrame."""
    if isinstance(data, pa.Table | pa.RecordBatch):
        return data.num_rows
    return len(data)


def column_kind(array: pa.ChunkedArray | pa.Array | Exception) -> tuple[str, str | None]:
    """The kind a column's type gives it and, for an untestable one, why."""
    if isinstance(array, Exception):
        return UNTESTABLE, (
            "the column mixes value types arrow cannot hold in one column "
            f"({array}); cast it to one type (numbers or strings)"
        )
    kind = array.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_null(kind):
        return UNTESTABLE, "all values are missing"
    if (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_duration(kind)
    ):
        return NUMERICAL, None
    if (
        pa.types.is_boolean(kind)
        or pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    ):
        return CATEGORICAL, None
    if pa.types.is_temporal(kind):
        return UNTESTABLE, (
            f"dates and times ({kind}) move forward between any two windows, so they "
            "always look drifted; watch a derived feature (hour, weekday, age) instead"
        )
    if pa.types.is_nested(kind):
        return UNTESTABLE, (
            f"nested values ({kind}) have no order or categories to compare; "
            "flatten them into scalar features"
        )
    return UNTESTABLE, f"values of type {kind} cannot be compared"


def _float_values(array: pa.ChunkedArray | pa.Array) -> np.ndarray:
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    if pa.types.is_duration(array.type):
        unit = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[array.type.unit]
        floats = array.cast(pa.int64()).cast(pa.float64(), safe=False)
        return np.asarray(_to_numpy(floats), dtype=np.float64) * unit
    if not pa.types.is_float64(array.type):
        array = array.cast(pa.float64(), safe=False)
    return _to_numpy(array)


def _to_numpy(array: pa.ChunkedArray | pa.Array) -> np.ndarray:
    if isinstance(array, pa.ChunkedArray):
        if array.num_chunks == 1:
            array = array.chunk(0)
        else:
            return array.to_numpy()
    return array.to_numpy(zero_copy_only=False)


def numerical_values(array: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """The finite values of a numerical column as float64 (nulls, NaN and ±inf left
    out), unsorted."""
    values = _float_values(array)
    finite = np.isfinite(values)
    return values if finite.all() else values[finite]


def category_counts(array: pa.ChunkedArray | pa.Array) -> tuple[tuple[Any, ...], np.ndarray]:
    """Each category of a categorical column with its count, nulls left out."""
    if isinstance(array, pa.ChunkedArray) and pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    counted = pc.value_counts(array)
    values = counted.field("values")
    counts = np.asarray(counted.field("counts").to_numpy(zero_copy_only=False), dtype=np.int64)
    if values.null_count:
        keep = np.asarray(values.is_valid().to_numpy(zero_copy_only=False))
        values = values.filter(pa.array(keep))
        counts = counts[keep]
    categories = values.to_pylist()
    if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
        # As text, so that a summary is JSON and bytes and text categories meet.
        categories = [value.decode("utf-8", "backslashreplace") for value in categories]
    return tuple(categories), counts


def read_column(array: pa.ChunkedArray | pa.Array | Exception, rows: int) -> Column:
    """One side's values of one feature, with its kind (see the module docstring)."""
    kind, reason = column_kind(array)
    dtype = "mixed" if isinstance(array, Exception) else str(array.type)
    if kind == UNTESTABLE:
        return Column(kind=kind, rows=rows, missing=rows, dtype=dtype, reason=reason)
    if kind == NUMERICAL:
        values = np.sort(numerical_values(array))
        return Column(kind=kind, rows=rows, missing=rows - values.size, dtype=dtype, values=values)
    categories, counts = category_counts(array)
    return Column(
        kind=kind,
        rows=rows,
        missing=rows - int(counts.sum()),
        dtype=dtype,
        categories=categories,
        counts=counts,
    )


def check_features(
    *, features: Iterable[str], reference: dict[str, Any], current: dict[str, Any]
) -> None:
    """Refuse features missing from either side, naming them and what is there."""
    features = list(features)
    for side, columns in (("reference", reference), ("current", current)):
        absent = [name for name in features if name not in columns]
        if absent:
            raise DriftInputError(
                f"the {side} data has no column {', '.join(map(repr, absent))}; "
                f"its columns are {', '.join(map(repr, columns)) or 'none'}: rename the "
                "columns or remove the features from the watched list"
            )
