"""Scoring a columnar file in chunks: outputs to Parquet, row leaves, rows root."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from apps.inference import rowhash
from apps.inference.errors import JobRefused
from apps.inference.loading import LoadedModel
from apps.ledger.digests import file_sha256
from apps.registry.rows_files import ROWS_SCHEMA, ROWS_WRITE_OPTIONS
from apps.registry.tabular import PARQUET_MAGIC, TabularError, iter_batches, type_name

NUMERIC = ("integer", "number", "boolean")


@dataclass(frozen=True)
class ScoreResult:
    rows: int
    rows_root: str
    output_path: str
    output_sha256: str
    rows_path: str


def feature_columns(schema: pa.Schema, model: LoadedModel) -> list[int]:
    """Positions of the model's features in the input, in the model's order; refuses
    input whose columns or types do not fit the model."""
    names = schema.names
    if model.feature_names:
        missing = [n for n in model.feature_names if n not in names]
        if missing:
            raise JobRefused(
                f"the input lacks the model's feature columns {missing}; "
                f"it has {names}, the model needs {model.feature_names}"
            )
        positions = [names.index(n) for n in model.feature_names]
    else:
        positions = list(range(len(names)))
        if model.n_features > 0 and len(names) != model.n_features:
            raise JobRefused(
                f"the input has {len(names)} columns {names}; the model takes "
                f"{model.n_features} features (without names, every column is a feature)"
            )
    for i in positions:
        kind = type_name(schema.field(i).type)
        if kind not in NUMERIC and not pa.types.is_null(schema.field(i).type):
            raise JobRefused(f"column {names[i]!r} holds {kind} values; the model needs numbers")
    return positions


def matrix(batch: pa.RecordBatch, positions: list[int]) -> np.ndarray:
    out = np.empty((batch.num_rows, len(positions)), dtype=np.float32)
    for j, i in enumerate(positions):
        column = batch.column(i)
        if pa.types.is_null(column.type):
            out[:, j] = np.nan
        else:
            out[:, j] = column.to_numpy(zero_copy_only=False)
    return out


def _output_table(predictions: np.ndarray) -> pa.Table:
    if predictions.ndim == 1:
        return pa.table({"prediction": predictions})
    return pa.table({f"class_{k}": predictions[:, k] for k in range(predictions.shape[1])})


def _total_rows(stream: IO[bytes]) -> int | None:
    head = stream.read(4)
    stream.seek(0)
    if head != PARQUET_MAGIC:
        return None
    try:
        return pq.ParquetFile(stream).metadata.num_rows
    except (pa.ArrowInvalid, OSError):
        return None
    finally:
        stream.seek(0)


def _chunks(batches: Any) -> Any:
    from django.conf import settings

    step = settings.INFERENCE_CHUNK_ROWS
    for batch in batches:
        if batch.num_rows <= step:
            yield batch
            continue
        for start in range(0, batch.num_rows, step):
            yield batch.slice(start, step)


def score_file(
    *,
    model: LoadedModel,
    stream: IO[bytes],
    workdir: str,
    on_progress: Callable[[float, int], None] = lambda fraction, rows: None,
) -> ScoreResult:
    """Scores every row of the stream's table; refuses unusable input with a reason."""
    total = _total_rows(stream)
    size = stream.seek(0, os.SEEK_END)
    stream.seek(0)
    outputs = _Outputs(workdir)

    def report() -> None:
        done = outputs.tree.rows / total if total else stream.tell() / max(size, 1)
        on_progress(min(done, 1.0), outputs.tree.rows)

    try:
        _score_chunks(model=model, stream=stream, outputs=outputs, report=report)
        if outputs.tree.rows:
            on_progress(1.0, outputs.tree.rows)
    except TabularError as exc:
        raise JobRefused(f"the input file is {exc}") from None
    finally:
        outputs.close()
    return outputs.result()


def _score_chunks(
    *, model: LoadedModel, stream: IO[bytes], outputs: _Outputs, report: Callable[[], None]
) -> None:
    """Scores chunk after chunk while the previous chunk is recorded on a second
    thread; ``report`` runs once a chunk is recorded."""
    positions: list[int] | None = None
    scored = 0
    pending: Future[None] | None = None
    with ThreadPoolExecutor(max_workers=1) as recorder:
        for batch in _chunks(iter_batches(stream)):
            if positions is None:
                positions = feature_columns(batch.schema, model)
            if batch.num_rows == 0:
                continue
            predictions = _predict(model, batch, positions)
            if pending is not None:
                pending.result()
                report()
            pending = recorder.submit(outputs.record, batch, predictions, scored)
            scored += batch.num_rows
        if pending is not None:
            pending.result()


def _predict(model: LoadedModel, batch: pa.RecordBatch, positions: list[int]) -> np.ndarray:
    """The model's outputs for one chunk, one per row."""
    try:
        predictions = np.asarray(model.predict(matrix(batch, positions)))
    except (ValueError, TypeError, RuntimeError) as exc:
        raise JobRefused(f"the model could not score the input: {exc}") from None
    if len(predictions) != batch.num_rows:
        raise JobRefused(f"the model returned {len(predictions)} outputs for {batch.num_rows} rows")
    return predictions


class _Outputs:
    """The files of one scoring run (outputs, row leaves) and its rows tree."""

    def __init__(self, workdir: str) -> None:
        self.output_path = os.path.join(workdir, "output.parquet")
        self.rows_path = os.path.join(workdir, "rows.parquet")
        self._out: pq.ParquetWriter | None = None
        self._rows = pq.ParquetWriter(self.rows_path, ROWS_SCHEMA, **ROWS_WRITE_OPTIONS)
        self.tree = rowhash.RowsAccumulator()

    def record(self, batch: pa.RecordBatch, predictions: np.ndarray, first_row: int) -> None:
        # Output file, row leaves and rows tree of one chunk; runs beside the next
        # chunk's scoring, which the model does outside the GIL.
        table = _output_table(predictions)
        if self._out is None:
            self._out = pq.ParquetWriter(self.output_path, table.schema)
        self._out.write_table(table)
        try:
            leaves = rowhash.leaves(
                first_row=first_row, digests=rowhash.input_digests(batch), outputs=predictions
            )
        except ValueError as exc:  # rfc8785's domain errors are ValueErrors
            last_row = first_row + batch.num_rows - 1
            raise JobRefused(
                f"rows {first_row} to {last_row} hold a value that JSON (RFC 8785) cannot "
                f"carry ({exc}); every row's input and output go on the record as JSON "
                "(spec §6), so send integers beyond 2**53 as text and leave out infinite "
                "numbers"
            ) from None
        hashes = rowhash.leaf_hashes(leaves)
        self.tree.add(hashes)
        self._rows.write_table(pa.table([leaves, hashes], schema=ROWS_SCHEMA))

    def close(self) -> None:
        self._rows.close()
        if self._out is not None:
            self._out.close()

    def result(self) -> ScoreResult:
        if self.tree.rows == 0 or self._out is None:
            raise JobRefused("the input file has no rows to score")
        return ScoreResult(
            rows=self.tree.rows,
            rows_root=self.tree.root_hex(),
            output_path=self.output_path,
            output_sha256=file_sha256(self.output_path),
            rows_path=self.rows_path,
        )


def read_leaf(*, stream: IO[bytes], row: int) -> tuple[bytes, list[bytes]]:
    """The leaf bytes of one row and every row's leaf hash, from a batch's rows file."""
    parquet = pq.ParquetFile(stream)
    hashes: list[Any] = parquet.read(columns=["leaf_hash"]).column(0).to_pylist()
    start = 0
    for group in range(parquet.num_row_groups):
        count = parquet.metadata.row_group(group).num_rows
        if row < start + count:
            leaf = parquet.read_row_group(group, columns=["leaf"]).column(0)[row - start]
            return leaf.as_py(), hashes
        start += count
    raise IndexError(row)
