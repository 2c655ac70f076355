"""Spec §6 row leaves at column speed.

``apps.ledger.core.rows`` defines the leaves one row at a time through the
reference RFC 8785 encoder; scoring 100,000 rows that way costs more than scoring
them. Here whole columns are formatted as canonical JSON text with Arrow kernels
(numbers as ECMAScript shortest round-trip text, which is what RFC 8785 requires),
and only rows with values outside that fast path (timestamps, text needing escapes,
integers beyond 2**53) go through the reference encoder. The result is byte for
byte the same: tests compare both on random data.

Where the compiled modules are built (at install, where a compiler and the headers
of OpenSSL and double-conversion are found), neither step calls Python per row: the
texts are written in C++ from the columns' buffers (``_rowtext.cpp``, numbers by
double-conversion's ECMAScript formatter) and hashed in C (``_rowhash.c``: hex SHA-256
of each input text, the leaf hashes, the tree over them), both outside the GIL.
Without ``_rowtext`` the texts come from the Arrow kernels above; without
``_rowhash`` hashlib is called once per row and per tree node. Every path gives the
same bytes; tests compare them with the reference encoder.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import rfc8785

from apps.ledger.core.merkle import tree_hash
from apps.ledger.core.rows import row_input_sha256, row_leaf_bytes

try:
    from apps.inference import _rowhash as compiled
except ImportError:  # installed without a C compiler or OpenSSL's headers
    compiled = None
try:
    from apps.inference import _rowtext as compiled_text
except ImportError:  # installed without a C++ compiler or double-conversion's headers
    compiled_text = None

MAX_SAFE_INTEGER = 2**53 - 1
# Arrow writes exponents from 1e10 up; ECMAScript only from 1e21. Values in between
# are formatted by the reference encoder.
_ARROW_EXPONENT_FROM, _ES_EXPONENT_FROM = 1e10, 1e21
_NEEDS_ESCAPE = r'[\x00-\x1f"\\]'
# A power of two, so full chunks are complete subtrees. Small, so that chunks are
# hashed as their rows come (beside the scoring), and little is left for the end.
CHUNK_LEAVES = 1 << 12
LEAF_PREFIX = b"\x00"  # RFC 6962: leaf hash = SHA-256(0x00 || leaf)
HASH_SIZE = 32
HEX_SIZE = 2 * HASH_SIZE


def _float_text(values: np.ndarray) -> pa.Array:
    """ECMAScript number text of float64 values; NaN as null (a missing value)."""
    values = values.astype(np.float64, copy=False) + 0.0  # -0.0 is "0"
    nan = np.isnan(values)
    if np.isinf(values).any():
        raise ValueError("infinite values cannot be put in JSON")
    text = pc.cast(pa.array(values), pa.string())
    magnitude = np.abs(np.where(nan, 0.0, values))
    odd = np.flatnonzero((magnitude >= _ARROW_EXPONENT_FROM) & (magnitude < _ES_EXPONENT_FROM))
    if len(odd):
        fixed = text.to_pylist()
        for i in odd:
            fixed[i] = rfc8785.dumps(float(values[i])).decode("ascii")
        text = pa.array(fixed, pa.string())
    if nan.any():
        text = pc.if_else(pa.array(nan), pa.scalar("null", pa.string()), text)
    return text


def json_text(column: pa.Array) -> pa.Array | None:
    """Canonical JSON text of every value of the column, or None when the column
    holds values this fast path does not cover."""
    kind = column.type
    if pa.types.is_floating(kind):
        values = column.to_numpy(zero_copy_only=False).astype(np.float64)
        text = _float_text(values)
    elif pa.types.is_integer(kind):
        if len(column) - column.null_count:
            low, high = pc.min_max(column).values()
            if max(abs(low.as_py()), abs(high.as_py())) > MAX_SAFE_INTEGER:
                return None
        text = pc.cast(column, pa.string())
    elif pa.types.is_boolean(kind):
        text = pc.if_else(column, "true", "false")
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        column = column.cast(pa.string())
        if pc.any(pc.match_substring_regex(column, _NEEDS_ESCAPE)).as_py():
            return None
        text = pc.binary_join_element_wise('"', column, '"', "")
    elif pa.types.is_null(kind):
        text = pa.nulls(len(column), pa.string())
    else:
        return None
    return pc.fill_null(text, "null")


def _utf16_key(name: str) -> bytes:
    return name.encode("utf-16-be")


def _buffers(values: pa.Array) -> tuple[np.ndarray, pa.Buffer | bytes]:
    """The int32 offsets (n + 1, from the array's slice offset) and the data buffer of
    a binary column with no nulls, as the compiled hashing reads them."""
    values = values.cast(pa.binary())
    _, offsets, data = values.buffers()
    if offsets is None:  # an empty column may come without buffers
        return np.zeros(1, np.int32), b""
    positions = np.frombuffer(offsets, np.int32, len(values) + 1, values.offset * 4)
    return positions, data if data is not None else b""


def _fixed_width(data: bytes, width: int, kind: pa.DataType) -> pa.Array:
    """A column of ``len(data) // width`` values of ``width`` bytes, without a Python
    object per value."""
    count = len(data) // width
    if kind == pa.string():
        offsets = pa.py_buffer(np.arange(0, (count + 1) * width, width, dtype=np.int32))
        return pa.Array.from_buffers(kind, count, [None, offsets, pa.py_buffer(data)])
    return pa.Array.from_buffers(kind, count, [None, pa.py_buffer(data)])


def _hex_sha256(texts: pa.Array) -> pa.Array:
    """Hex SHA-256 of each value of a string or binary column, as a string column."""
    if compiled is not None:
        return _fixed_width(compiled.sha256_hex(*_buffers(texts)), HEX_SIZE, pa.string())
    sha = hashlib.sha256
    return pa.array([sha(t).hexdigest() for t in texts.cast(pa.binary()).to_pylist()], pa.string())


_ROWTEXT_FLOAT, _ROWTEXT_INT, _ROWTEXT_BOOL, _ROWTEXT_STRING, _ROWTEXT_NULL = range(5)


def _null_mask(column: pa.Array) -> np.ndarray | None:
    if not column.null_count:
        return None
    return np.ascontiguousarray(pc.is_null(column).to_numpy(zero_copy_only=False), np.uint8)


def _rowtext_column(column: pa.Array) -> tuple[int, Any, Any, Any] | None:
    """(kind, values, offsets, null mask) of a column as ``_rowtext.row_texts`` reads
    it, or None for a column it does not cover."""
    kind = column.type
    if pa.types.is_floating(kind):
        values = np.ascontiguousarray(column.to_numpy(zero_copy_only=False), np.float64)
        return _ROWTEXT_FLOAT, values, None, None  # nulls are NaN here, written as null
    if pa.types.is_integer(kind):
        if len(column) - column.null_count:
            low, high = pc.min_max(column).values()
            if max(abs(low.as_py()), abs(high.as_py())) > MAX_SAFE_INTEGER:
                return None
        values = pc.fill_null(column, 0).cast(pa.int64()).to_numpy(zero_copy_only=False)
        return _ROWTEXT_INT, np.ascontiguousarray(values), None, _null_mask(column)
    if pa.types.is_boolean(kind):
        values = pc.fill_null(column, False).to_numpy(zero_copy_only=False)
        return _ROWTEXT_BOOL, np.ascontiguousarray(values, np.uint8), None, _null_mask(column)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        offsets, data = _buffers(column.cast(pa.string()))
        return _ROWTEXT_STRING, data, np.ascontiguousarray(offsets), _null_mask(column)
    if pa.types.is_null(kind):
        return _ROWTEXT_NULL, None, None, None
    return None


def _compiled_input_texts(batch: pa.RecordBatch, order: list[int]) -> pa.Array | None:
    """The rows' canonical JSON texts written by ``_rowtext``, or None where a column
    is outside what it covers."""
    names = batch.schema.names
    specs = []
    for position, i in enumerate(order):
        column = _rowtext_column(batch.column(i))
        if column is None:
            return None
        key = ("{" if position == 0 else ",") + rfc8785.dumps(names[i]).decode("utf-8") + ":"
        specs.append((key.encode("utf-8"), *column))
    offsets, data = compiled_text.row_texts(batch.num_rows, specs)
    return _binary_column(offsets, data)


def _binary_column(offsets: bytes, data: bytes) -> pa.Array:
    count = len(offsets) // 4 - 1
    return pa.Array.from_buffers(
        pa.binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def _refuse_infinite_numbers(batch: pa.RecordBatch) -> None:
    """JSON has no infinity: name the first column and row (of the chunk) holding one."""
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if pa.types.is_floating(column.type):
            infinite = np.flatnonzero(np.isinf(column.to_numpy(zero_copy_only=False)))
            if len(infinite):
                raise ValueError(
                    f"infinite values cannot be put in JSON (column {name!r}, row "
                    f"{infinite[0]} of the chunk)"
                )


def input_digests(batch: pa.RecordBatch) -> pa.Array:
    """Hex SHA-256 of the JCS of each row's ``{column: value}``, as a string column."""
    names = batch.schema.names
    _refuse_infinite_numbers(batch)
    order = sorted(range(len(names)), key=lambda i: _utf16_key(names[i]))
    if compiled_text is not None:
        texts = _compiled_input_texts(batch, order)
        if texts is not None:
            return _hex_sha256(texts)
    parts: list[Any] = []
    for position, i in enumerate(order):
        text = json_text(batch.column(i))
        if text is None:
            return _slow_input_digests(batch)
        key = rfc8785.dumps(names[i]).decode("utf-8")
        parts.append(("{" if position == 0 else ",") + key + ":")
        parts.append(text)
    if not parts:
        return pa.array([row_input_sha256({})] * batch.num_rows, pa.string())
    parts.append("}")
    return _hex_sha256(pc.binary_join_element_wise(*parts, ""))


def _slow_input_digests(batch: pa.RecordBatch) -> pa.Array:
    names = batch.schema.names
    columns = [c.to_pylist() for c in batch.columns]
    return pa.array(
        [
            row_input_sha256(dict(zip(names, values, strict=True)))
            for values in zip(*columns, strict=True)
        ],
        pa.string(),
    )


def output_text(outputs: np.ndarray) -> pa.Array | None:
    """JSON text of each row's output: a number, or an array of numbers."""
    if outputs.dtype.kind not in "fiu":
        return None
    if outputs.ndim == 1:
        return _float_text(outputs.astype(np.float64))
    columns = [_float_text(outputs[:, j].astype(np.float64)) for j in range(outputs.shape[1])]
    parts: list[Any] = ["["]
    for j, col in enumerate(columns):
        if j:
            parts.append(",")
        parts.append(col)
    parts.append("]")
    return pc.binary_join_element_wise(*parts, "")


def leaves(*, first_row: int, digests: pa.Array, outputs: np.ndarray) -> pa.Array:
    """The leaf bytes of consecutive rows starting at ``first_row``, as a binary
    column; ``digests`` are the rows' input digests from :func:`input_digests`."""
    if compiled_text is not None and outputs.dtype.kind in "fiu" and _one_or_more_per_row(outputs):
        positions, data = _buffers(digests)
        hex_digests = memoryview(data)[positions[0] : positions[-1]]
        values = np.ascontiguousarray(outputs, np.float64)
        width = 0 if outputs.ndim == 1 else outputs.shape[1]
        texts = compiled_text.leaf_texts(first_row, hex_digests, values, width)
        if texts is not None:  # None: a NaN output, which the reference encoder decides
            return _binary_column(*texts)
    texts = output_text(outputs)
    if texts is None or pc.any(pc.is_null(texts)).as_py():
        return pa.array(
            [
                row_leaf_bytes(row=first_row + k, input_sha256=h, output=_plain(outputs[k]))
                for k, h in enumerate(digests.to_pylist())
            ],
            pa.binary(),
        )
    rows = pc.cast(pa.array(np.arange(first_row, first_row + len(digests))), pa.string())
    joined = pc.binary_join_element_wise(
        '{"input_sha256":"',
        digests,
        '","output":',
        texts,
        ',"row":',
        rows,
        "}",
        "",
    )
    return joined.cast(pa.binary())


def _one_or_more_per_row(outputs: np.ndarray) -> bool:
    return outputs.ndim == 1 or (outputs.ndim == 2 and outputs.shape[1] > 0)


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value]
    return value.item() if hasattr(value, "item") else value


class RowsAccumulator:
    """Leaf hashes in row order, folded into complete subtrees of CHUNK_LEAVES as
    they fill: a batch keeps one hash per CHUNK_LEAVES rows (18 MB for a billion)."""

    def __init__(self) -> None:
        self.rows = 0
        self._full: list[bytes] = []
        self._pending = bytearray()

    def add(self, leaf_hashes: pa.Array) -> None:
        """Adds the leaf hashes of the next rows (a binary(32) column, from
        :func:`leaf_hashes`)."""
        _, data = leaf_hashes.buffers()
        start = leaf_hashes.offset * HASH_SIZE
        self._pending += memoryview(data)[start : start + len(leaf_hashes) * HASH_SIZE]
        self.rows += len(leaf_hashes)
        chunk = CHUNK_LEAVES * HASH_SIZE
        while len(self._pending) >= chunk:
            self._full.append(_tree_root(bytes(self._pending[:chunk])))
            del self._pending[:chunk]

    def root_hex(self) -> str:
        # Full chunks are aligned complete subtrees; level-by-level hashing of the
        # chunk roots and the tail's root gives RFC 6962's tree hash of all leaves.
        nodes = list(self._full)
        if self._pending:
            nodes.append(_tree_root(bytes(self._pending)))
        return tree_hash(nodes).hex()


def _tree_root(hashes: bytes) -> bytes:
    """RFC 6962 tree hash over leaf hashes given back to back (at least one)."""
    if compiled is not None:
        return compiled.tree_root(hashes)
    return tree_hash([hashes[i : i + HASH_SIZE] for i in range(0, len(hashes), HASH_SIZE)])


def leaf_hashes(leaf_bytes: pa.Array) -> pa.Array:
    """RFC 6962 leaf hash of each leaf of a binary column, as a binary(32) column."""
    if compiled is not None:
        return _fixed_width(compiled.leaf_hashes(*_buffers(leaf_bytes)), HASH_SIZE, pa.binary(32))
    # The 0x00 prefix is joined on by Arrow in one pass, not per row in Python.
    prefixed = pc.binary_join_element_wise(LEAF_PREFIX, leaf_bytes, b"")
    sha = hashlib.sha256
    return pa.array([sha(leaf).digest() for leaf in prefixed.to_pylist()], pa.binary(32))
