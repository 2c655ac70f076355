"""Reading tabular files (Parquet, CSV) in bounded memory: schema, per-column
statistics, and the spec §6 rows root of a prediction batch."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from typing import IO, Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from apps.ledger.core.rows import RowsTree

PARQUET_MAGIC = b"PAR1"
BATCH_ROWS = 65_536
TOP_CATEGORIES = 20
# Distinct values tracked per text column before we stop counting them exactly.
DISTINCT_LIMIT = 10_000
TYPES = ("integer", "number", "string", "boolean", "timestamp", "date")


class TabularError(ValueError):
    """A file we cannot read as a table, with a message for the caller."""


def type_name(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "number"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_null(arrow_type):
        return "string"  # a column with no values at all in what was read
    return "string"


def _is_parquet(stream: IO[bytes]) -> bool:
    head = stream.read(4)
    stream.seek(0)
    return head == PARQUET_MAGIC


def iter_batches(stream: IO[bytes]) -> Iterator[pa.RecordBatch]:
    """Record batches of the file, never more than BATCH_ROWS rows in memory."""
    try:
        if _is_parquet(stream):
            yield from pq.ParquetFile(stream).iter_batches(batch_size=BATCH_ROWS)
            return
        reader = pa_csv.open_csv(stream, read_options=pa_csv.ReadOptions(block_size=1 << 22))
        yield from reader
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise TabularError(f"not a readable Parquet or CSV table: {exc}") from None


def read_schema(stream: IO[bytes]) -> list[dict[str, str]]:
    """Column names and types, read from the file's header (and first block for CSV)."""
    try:
        if _is_parquet(stream):
            schema = pq.read_schema(stream)
        else:
            schema = pa_csv.open_csv(
                stream, read_options=pa_csv.ReadOptions(block_size=1 << 20)
            ).schema
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise TabularError(f"not a readable Parquet or CSV table: {exc}") from None
    finally:
        stream.seek(0)
    return [{"name": field.name, "type": type_name(field.type)} for field in schema]


def schema_mismatch(*, declared: list[dict[str, str]], found: list[dict[str, str]]) -> str | None:
    """Why the declared schema does not describe the file, or None when it does.

    Integers in the file satisfy a declared ``number``; CSV readers cannot tell a
    column of digits from a column of numbers, and nothing is lost.
    """
    declared_names = [c["name"] for c in declared]
    found_names = [c["name"] for c in found]
    if declared_names != found_names:
        return f"the file has columns {found_names}, the schema declares {declared_names}"
    for want, have in zip(declared, found, strict=True):
        if want["type"] != have["type"] and not (
            want["type"] == "number" and have["type"] == "integer"
        ):
            return (
                f"column {want['name']!r} holds {have['type']} values, "
                f"the schema declares {want['type']}"
            )
    return None


class _ColumnStats:
    def __init__(self, name: str, kind: str) -> None:
        self.name, self.kind = name, kind
        self.count = self.missing = 0
        self.minimum: Any = None
        self.maximum: Any = None
        self.total = 0.0
        self.categories: Counter[str] = Counter()
        self.distinct_overflow = False

    def add(self, column: pa.Array) -> None:
        self.count += len(column)
        self.missing += column.null_count
        if self.kind in ("integer", "number"):
            values = [
                v
                for v in column.to_pylist()
                if v is not None and not (isinstance(v, float) and math.isnan(v))
            ]
            self.missing += len(column) - column.null_count - len(values)
            if values:
                low, high = min(values), max(values)
                self.minimum = low if self.minimum is None else min(self.minimum, low)
                self.maximum = high if self.maximum is None else max(self.maximum, high)
                self.total += float(sum(values))
        elif self.kind in ("timestamp", "date"):
            values = [v for v in column.to_pylist() if v is not None]
            if values:
                low, high = min(values).isoformat(), max(values).isoformat()
                self.minimum = low if self.minimum is None else min(self.minimum, low)
                self.maximum = high if self.maximum is None else max(self.maximum, high)
        else:
            for value in column.to_pylist():
                if value is None:
                    continue
                key = str(value)
                if key in self.categories or len(self.categories) < DISTINCT_LIMIT:
                    self.categories[key] += 1
                else:
                    self.distinct_overflow = True

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "count": self.count, "missing": self.missing}
        present = self.count - self.missing
        if self.kind in ("integer", "number", "timestamp", "date"):
            out["min"], out["max"] = self.minimum, self.maximum
            if self.kind in ("integer", "number"):
                out["mean"] = self.total / present if present else None
        else:
            out["distinct"] = len(self.categories)
            out["distinct_exact"] = not self.distinct_overflow
            out["top"] = {
                value: {"count": n, "share": n / present}
                for value, n in self.categories.most_common(TOP_CATEGORIES)
            }
        return out


def column_statistics(stream: IO[bytes]) -> dict[str, Any]:
    """Representativeness statistics per column: counts, missing values, ranges or
    category frequencies. Streams the file once."""
    stats: list[_ColumnStats] | None = None
    rows = 0
    for batch in iter_batches(stream):
        if stats is None:
            stats = [_ColumnStats(f.name, type_name(f.type)) for f in batch.schema]
        rows += batch.num_rows
        for column_stats, column in zip(stats, batch.columns, strict=True):
            column_stats.add(column)
    return {"rows": rows, "columns": {s.name: s.result() for s in stats or []}}


def _output_values(batch: pa.RecordBatch) -> list[Any]:
    """One output per row: the value of a single output column, or the row's values
    as an array of numbers (class probabilities) when there are several."""
    columns = [c.to_pylist() for c in batch.columns]
    if len(columns) == 1:
        return columns[0]
    return [list(values) for values in zip(*columns, strict=True)]


def batch_rows_root(
    *, input_stream: IO[bytes], output_stream: IO[bytes], rows_path: str | None = None
) -> tuple[str, int]:
    """The rows root (spec §6) and row count of a batch's input and output files; with
    ``rows_path``, the batch's rows file (every row's leaf) is written there too."""
    from apps.registry.rows_files import RowsFileWriter

    tree = RowsTree()
    writer = RowsFileWriter(rows_path)
    outputs = iter_batches(output_stream)
    pending: list[Any] = []
    for batch in iter_batches(input_stream):
        names = batch.schema.names
        for row_values in zip(*(c.to_pylist() for c in batch.columns), strict=True):
            while not pending:
                out_batch = next(outputs, None)
                if out_batch is None:
                    raise TabularError(
                        f"the output file has fewer rows than the input ({tree.rows} or so)"
                    )
                pending = _output_values(out_batch)
                pending.reverse()
            leaf = tree.add(
                row_input=dict(zip(names, row_values, strict=True)), output=pending.pop()
            )
            if rows_path is not None:
                writer.add(leaf)
    writer.close()
    if pending or next(outputs, None) is not None:
        raise TabularError(f"the output file has more rows than the input ({tree.rows})")
    return tree.root_hex(), tree.rows
