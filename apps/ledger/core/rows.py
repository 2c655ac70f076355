"""Row-level receipts (spec §6): one leaf per scored row, RFC 6962 root over them.

A prediction batch puts one entry on the log whose ``data.rows_root`` commits to
every row's input digest and output, so a single decision can be proven later
without a log entry per row.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import rfc8785

from apps.ledger.core.hashing import leaf_hash
from apps.ledger.core.merkle import CompactRange


def _json_value(value: Any) -> Any:
    # Missing values arrive as None or NaN, depending on the reader; both are null.
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    # JSON has no dates: they are hashed as their ISO 8601 text.
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def row_input_sha256(row: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the JCS of the row's input as ``{column: value}``."""
    return hashlib.sha256(rfc8785.dumps({k: _json_value(v) for k, v in row.items()})).hexdigest()


def row_leaf_bytes(*, row: int, input_sha256: str, output: Any) -> bytes:
    """The leaf bytes of one row: JCS of ``{"row", "input_sha256", "output"}``."""
    if isinstance(output, list):
        output = [_json_value(v) for v in output]
    return rfc8785.dumps({"row": row, "input_sha256": input_sha256, "output": _json_value(output)})


class RowsTree:
    """Accumulates row leaves in order and gives the batch's ``rows_root``."""

    def __init__(self) -> None:
        self._tree = CompactRange()

    @property
    def rows(self) -> int:
        return self._tree.size

    def add(self, *, row_input: Mapping[str, Any], output: Any) -> bytes:
        leaf = row_leaf_bytes(
            row=self._tree.size, input_sha256=row_input_sha256(row_input), output=output
        )
        self._tree.append(leaf_hash(leaf))
        return leaf

    def root_hex(self) -> str:
        return self._tree.root().hex()


def rows_root(pairs: Iterable[tuple[Mapping[str, Any], Any]]) -> str:
    tree = RowsTree()
    for row_input, output in pairs:
        tree.add(row_input=row_input, output=output)
    return tree.root_hex()
