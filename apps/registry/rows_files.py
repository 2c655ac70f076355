"""The rows file of a prediction batch: every row's leaf bytes (ledger format §7) and
leaf hash, in row order, as Parquet. Row receipts are read from it.

Our workers write it while they score. For a batch a pipeline recorded itself, it is
built from what the pipeline uploads afterwards (its input and output files, or its own
rows file of leaves) and kept only when it yields the recorded ``rows`` and
``rows_root``: a receipt is then the same proof, whoever ran the batch.
"""

from __future__ import annotations

import json
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq
import rfc8785

from apps.ledger.core.hashing import leaf_hash
from apps.ledger.core.merkle import CompactRange

ROWS_SCHEMA = pa.schema([("leaf", pa.binary()), ("leaf_hash", pa.binary(32))])
# Every leaf and hash is distinct and the hashes are random bytes: dictionaries never
# pay, and compression would save about a quarter of the file for as much CPU time
# as hashing the leaves.
ROWS_WRITE_OPTIONS: dict[str, Any] = {"use_dictionary": False, "compression": "none"}
LEAF_KEYS = frozenset({"row", "input_sha256", "output"})
CHUNK_ROWS = 65_536


class RowsFileError(ValueError):
    """A pipeline's rows file that is not the leaves of its batch, with what is wrong."""


class RowsFileWriter:
    """Writes leaves in row order to a rows file (or, with no path, only hashes them)
    and gives the batch's row count and ``rows_root``."""

    def __init__(self, path: str | None) -> None:
        self._writer = pq.ParquetWriter(path, ROWS_SCHEMA, **ROWS_WRITE_OPTIONS) if path else None
        self._tree = CompactRange()
        self._leaves: list[bytes] = []
        self._hashes: list[bytes] = []

    @property
    def rows(self) -> int:
        return self._tree.size

    def add(self, leaf: bytes) -> None:
        digest = leaf_hash(leaf)
        self._tree.append(digest)
        if self._writer is not None:
            self._leaves.append(leaf)
            self._hashes.append(digest)
            if len(self._leaves) >= CHUNK_ROWS:
                self._flush()

    def _flush(self) -> None:
        if self._writer is not None and self._leaves:
            self._writer.write_table(
                pa.table(
                    [pa.array(self._leaves, pa.binary()), pa.array(self._hashes, pa.binary(32))],
                    schema=ROWS_SCHEMA,
                )
            )
        self._leaves, self._hashes = [], []

    def close(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()

    def root_hex(self) -> str:
        return self._tree.root().hex()


def _checked_leaf(leaf: Any, row: int) -> bytes:
    """One leaf of a pipeline's rows file: the canonical JSON of the row's
    ``{"row", "input_sha256", "output"}``, naming its own row."""
    if isinstance(leaf, str):
        leaf = leaf.encode("utf-8")
    if not isinstance(leaf, bytes):
        raise RowsFileError(f"row {row}: the leaf is missing")
    try:
        obj = json.loads(leaf)
    except ValueError:
        raise RowsFileError(f"row {row}: the leaf is not JSON") from None
    if not isinstance(obj, dict) or set(obj) != LEAF_KEYS:
        raise RowsFileError(
            f'row {row}: a leaf is {{"row", "input_sha256", "output"}} and only that'
        )
    if obj["row"] != row:
        raise RowsFileError(f"row {row}: the leaf names row {obj['row']} (leaves go in row order)")
    if rfc8785.dumps(obj) != leaf:
        raise RowsFileError(
            f"row {row}: the leaf is not in RFC 8785 canonical form (write it with rfc8785.dumps)"
        )
    return leaf


def _leaves(stream: IO[bytes]) -> Any:
    """The leaves of a rows file: Parquet with a ``leaf`` column (as our workers write
    it), or JSON Lines with one leaf per line."""
    head = stream.read(4)
    stream.seek(0)
    if head == b"PAR1":
        try:
            parquet = pq.ParquetFile(stream)
            if "leaf" not in parquet.schema_arrow.names:
                raise RowsFileError("the Parquet rows file has no 'leaf' column")
            for batch in parquet.iter_batches(batch_size=CHUNK_ROWS, columns=["leaf"]):
                yield from batch.column(0).to_pylist()
        except (pa.ArrowInvalid, OSError) as exc:
            raise RowsFileError(f"not a readable Parquet file: {exc}") from None
        return
    for line in stream:
        line = line.rstrip(b"\r\n")
        if line:
            yield line


def rows_file_rewrite(*, stream: IO[bytes], path: str) -> tuple[str, int]:
    """Checks a pipeline's rows file leaf by leaf and writes it to ``path`` as our
    workers' rows file; returns its ``rows_root`` and row count."""
    writer = RowsFileWriter(path)
    try:
        for row, leaf in enumerate(_leaves(stream)):
            writer.add(_checked_leaf(leaf, row))
    finally:
        writer.close()
    return writer.root_hex(), writer.rows
