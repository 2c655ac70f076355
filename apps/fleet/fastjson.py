"""Canonical JSON (RFC 8785) and strict parsing at the speed online logging needs.

Logging a decision hashes the JCS of its input and, when sealed, of its leaf; the
reference encoder (``rfc8785``) is pure Python and costs more than everything else
a decision takes. For the values decisions hold, the standard library's C encoder
writes the same bytes once floats are made to print as ECMAScript does; anything
else goes to the reference encoder, so the output is always RFC 8785's (tests
compare both on random data).

Parsing likewise: a line is read by the C decoder with cheap checks for what the
API's strict parser refuses (audit_platform/parsers.py), and any line with an escape
that could hide a NUL or a lone surrogate, or nested deep, is read by the strict
parser itself.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import rfc8785

from audit_platform.parsers import MAX_DEPTH, RefusedJson, loads

_MAX_SAFE = 2**53 - 1
_encode = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode


class _Slow(Exception):
    """A value the fast path does not cover."""


def _plain(value: Any) -> Any:
    """``value`` with floats the C encoder would print otherwise than ECMAScript (an
    integral float, an exponent) turned into what prints right, or _Slow.

    Per decision this runs on the input and the leaf, so it avoids what costs: no
    ``repr`` of a float (the encoder formats each float once more anyway; Python
    prints an exponent exactly below 1e-4 or from 1e16, where every float is
    integral), and ``str.isascii`` (a flag CPython keeps) before scanning a key."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is float:
        if value.is_integer() and -_MAX_SAFE <= value <= _MAX_SAFE:
            return int(value)  # ECMAScript prints 2.0 as 2, and -0.0 as 0
        if not math.isfinite(value) or abs(value) < 1e-4 or value.is_integer():
            raise _Slow  # an exponent; large integral floats: ECMAScript pads with 0s
        return value
    if kind is int:
        if -_MAX_SAFE <= value <= _MAX_SAFE:
            return value
        raise _Slow
    if kind is dict:
        # UTF-16 code unit order (RFC 8785) is code point order below the surrogates.
        for key in value:
            if type(key) is not str or not (key.isascii() or max(key) < "\ud800"):
                raise _Slow
        return {k: _plain(v) for k, v in value.items()}
    if kind is list:
        return [_plain(v) for v in value]
    raise _Slow


def canonical(value: Any) -> bytes:
    """The RFC 8785 bytes of ``value``."""
    try:
        return _encode(_plain(value)).encode("utf-8")
    except _Slow:
        return rfc8785.dumps(value)


def input_sha256(row_input: dict[str, Any]) -> str:
    """The row's input digest (spec §6): hex SHA-256 of its JCS."""
    return hashlib.sha256(canonical(row_input)).hexdigest()


def leaf_bytes(*, row: int, input_sha256: str, output: Any) -> bytes:
    """A row's leaf (spec §6): the JCS of ``{"row", "input_sha256", "output"}``."""
    return canonical({"input_sha256": input_sha256, "output": output, "row": row})


# --- parsing -----------------------------------------------------------------------------


def _integer(text: str) -> int:
    value = int(text)
    if abs(value) > _MAX_SAFE:
        raise _Slow
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Slow
    return value


def _constant(text: str) -> Any:
    raise _Slow


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Slow  # a key twice: the strict parser names it
    return out


def strict_loads(text: str) -> Any:
    """What ``audit_platform.parsers.loads`` gives for ``text``, or its RefusedJson."""
    if "\\u" in text or text.count("[") + text.count("{") > MAX_DEPTH:
        return loads(text)
    try:
        return json.loads(
            text,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
            object_pairs_hook=_pairs,
        )
    except (_Slow, ValueError, RecursionError):
        return loads(text)  # raises RefusedJson, saying what to fix


__all__ = ["RefusedJson", "canonical", "input_sha256", "leaf_bytes", "strict_loads"]
