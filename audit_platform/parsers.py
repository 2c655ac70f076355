"""The one JSON parser of the API: it accepts only JSON that every layer below can
hold, and refuses the rest with a 400 that names the place to fix, before a view runs.

What the ledger and PostgreSQL can hold is I-JSON (RFC 7493), the input of the
ledger's canonical form (RFC 8785), without NUL characters:

- integers within +-(2**53 - 1), the range RFC 8785 represents exactly;
- finite numbers only (``1e400`` is infinity, ``NaN`` and ``Infinity`` are not JSON);
- strings of Unicode scalar values without NUL (a lone surrogate cannot be stored as
  UTF-8; PostgreSQL text and jsonb cannot store ``\\u0000``), object keys included;
- no key twice in one object (which one would count?);
- nesting at most ``MAX_DEPTH`` deep.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from rest_framework.parsers import JSONParser

from audit_platform.errors import InvalidInput

MAX_SAFE_INTEGER = 2**53 - 1
# The largest value of a PostgreSQL integer column (Django's IntegerField): a serializer
# field that feeds one declares it as its max_value.
MAX_INT32 = 2**31 - 1
MAX_DEPTH = 64
BODY = "body"


class RefusedJson(InvalidInput):
    code = "malformed_body"


def _refuse(where: str, problem: str, fix: str) -> RefusedJson:
    return RefusedJson(f"The JSON body {problem} at {where}: {fix}", fields={where: [problem]})


def _integer(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise _refuse(
            BODY,
            f"has the integer {text[:40]}{'...' if len(text) > 40 else ''}",
            f"integers must lie within -{MAX_SAFE_INTEGER} and {MAX_SAFE_INTEGER} "
            "(I-JSON, RFC 7493); send larger numbers as strings.",
        )
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _refuse(
            BODY,
            f"has the number {text[:40]}, too large to represent",
            "numbers must be finite and within +-1.7976931348623157e308.",
        )
    return value


def _constant(text: str) -> Any:
    raise _refuse(BODY, f"has {text}, which is not JSON", "numbers must be finite.")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _refuse(
                member_path("$", key), "has the same key twice in one object", "send it once."
            )
        out[key] = value
    return out


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def member_path(path: str, key: str) -> str:
    """``path.key``, or ``path["k\u0000y"]`` (escaped to ASCII) for any other key, so a
    path can always be shown back."""
    if _NAME.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key[:64])}]"


def _walk(document: Any) -> Iterator[tuple[str, Any, int]]:
    """Every value of the document, and every object key, with its path (``$.a[0].b``)
    and depth, without recursion."""
    stack: list[tuple[str, Any, int]] = [("$", document, 0)]
    while stack:
        path, value, depth = stack.pop()
        yield path, value, depth
        if isinstance(value, dict):
            for key, child in value.items():
                child_path = member_path(path, key)
                yield child_path, key, depth + 1
                stack.append((child_path, child, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", child, depth + 1) for i, child in enumerate(value))


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored (a NUL or a lone surrogate), or None."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (\\ud800-\\udfff without its pair)"
    return None


def check_document(document: Any) -> None:
    """Refuses a parsed document nested deeper than MAX_DEPTH or with a string that
    cannot be stored."""
    for path, value, depth in _walk(document):
        if depth > MAX_DEPTH:
            raise _refuse(
                path[:200],
                f"is nested more than {MAX_DEPTH} levels deep",
                f"nest objects and arrays at most {MAX_DEPTH} levels deep.",
            )
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                raise _refuse(path[:200], f"has a string that {problem}", "remove it.")


def loads(text: str) -> Any:
    """Parses ``text`` as I-JSON (see the module's docstring), or raises RefusedJson."""
    try:
        document = json.loads(
            text,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
            object_pairs_hook=_pairs,
        )
    except RecursionError:
        raise _refuse(
            BODY,
            "is nested too deeply to read",
            f"nest objects and arrays at most {MAX_DEPTH} levels deep.",
        ) from None
    except ValueError as exc:
        if isinstance(exc, RefusedJson):
            raise
        raise RefusedJson(
            f"JSON parse error: {exc}. Send one JSON document (UTF-8).",
            fields={BODY: [str(exc)]},
        ) from None
    check_document(document)
    return document


class StrictJSONParser(JSONParser):
    """``application/json`` bodies parsed by ``loads``: refused with a 400 before any
    view sees them when they are not I-JSON that the database can store."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            raw = stream.read() if stream is not None else b""
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise RefusedJson(
                f"The body is not valid {encoding}: {exc}. Send JSON encoded as UTF-8.",
                fields={BODY: ["Not valid UTF-8."]},
            ) from None
        return loads(text)
