"""Reading what monitoring compares: the reference (a dataset version's file or a
reference batch's input), a batch's input and its scores, as named numpy columns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa

from apps.registry.models import Artifact, PredictionBatch
from apps.registry.tabular import TabularError, iter_batches


class MonitoringInputError(ValueError):
    """Data monitoring cannot compare, with the reason a report states."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_table(artifact: Artifact | None, *, what: str) -> pa.Table:
    """The whole table of a stored Parquet or CSV file."""
    if artifact is None:
        raise MonitoringInputError(f"{what} has no uploaded file to read")
    with artifact.file.open("rb") as stream:
        try:
            batches = list(iter_batches(stream))
        except TabularError as exc:
            raise MonitoringInputError(f"{what} is {exc}") from None
    if not batches:
        raise MonitoringInputError(f"{what} has no rows")
    return pa.Table.from_batches(batches)


def columns_of(table: pa.Table, names: Iterable[str]) -> dict[str, np.ndarray]:
    """Named columns as numpy arrays (nulls as NaN for numbers, None for the rest)."""
    out: dict[str, np.ndarray] = {}
    for name in names:
        column = table.column(name).combine_chunks()
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            out[name] = column.to_numpy(zero_copy_only=False)
        else:
            out[name] = np.asarray(column.to_pylist(), dtype=object)
    return out


def concat(tables: Sequence[pa.Table]) -> pa.Table:
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise MonitoringInputError(f"the window's batches do not share columns: {exc}") from None


def watched(*, features: Sequence[str], reference: pa.Table, current: pa.Table) -> list[str]:
    """The columns to compare; refuses a batch that lacks one the reference has."""
    names = list(features) or list(reference.column_names)
    missing_ref = [n for n in names if n not in reference.column_names]
    if missing_ref:
        raise MonitoringInputError(
            f"the reference lacks the watched column(s) {missing_ref}; it has "
            f"{reference.column_names}"
        )
    missing = [n for n in names if n not in current.column_names]
    if missing:
        raise MonitoringInputError(
            f"the batch's columns do not match the reference: it lacks {missing} "
            f"(it has {current.column_names})"
        )
    return names


def batch_scores(batch: PredictionBatch, *, score_column: str = "") -> np.ndarray:
    """The positive-class scores of a batch's output: ``score_column``, or the output's
    only column ("prediction"), or ``class_1`` of class probabilities."""
    table = read_table(batch.output_artifact, what=f"the output of batch {batch.pk}")
    names = table.column_names
    name = score_column or (names[0] if len(names) == 1 else "class_1")
    if name not in names:
        raise MonitoringInputError(
            f"the output of batch {batch.pk} has no score column {name!r} (it has {names})"
        )
    scores = table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
    if np.isnan(scores).any() or (scores < 0).any() or (scores > 1).any():
        raise MonitoringInputError(
            f"column {name!r} of batch {batch.pk}'s output holds values outside [0, 1]; "
            "it is not a probability"
        )
    return scores
