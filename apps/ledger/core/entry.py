"""Ledger entries: building canonical bytes and strictly parsing them (ledger format §2).

An entry is a JSON object with exactly the fields ``v``, ``log``, ``seq``, ``time``,
``type``, ``actor``, ``subject``, ``data`` and ``prev``, serialized with RFC 8785
(JCS). The stored bytes are what gets hashed, so :func:`parse_entry` insists that
they are exactly the canonical serialization of what they contain.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

import rfc8785

from .note import is_valid_key_name

__all__ = [
    "ACTOR_KINDS",
    "FORMAT_VERSION",
    "MAX_ENTRY_BYTES",
    "MAX_SAFE_INTEGER",
    "ZERO_HASH_HEX",
    "EntryError",
    "build_entry",
    "format_time",
    "parse_entry",
    "parse_time",
]

FORMAT_VERSION = 1
MAX_ENTRY_BYTES = 65535
ZERO_HASH_HEX = "0" * 64
#: Integers beyond this magnitude are not exact in IEEE doubles (JCS numbers): use strings.
MAX_SAFE_INTEGER = 2**53 - 1
ACTOR_KINDS = frozenset({"user", "api_key", "system"})

_FIELDS = frozenset({"v", "log", "seq", "time", "type", "actor", "subject", "data", "prev"})
_ACTOR_FIELDS = frozenset({"kind", "id", "name"})
_SUBJECT_FIELDS = frozenset({"kind", "id"})
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TYPE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")
_TIME = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}Z"
)


class EntryError(ValueError):
    """An entry is invalid; the message names the field."""


def format_time(dt: datetime) -> str:
    """RFC 3339 UTC with microseconds and ``Z``: ``2026-11-23T09:15:02.123456Z``."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("time must be timezone-aware")
    u = dt.astimezone(UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T"
        f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}Z"
    )


def parse_time(s: str) -> datetime:
    """Parse exactly the form :func:`format_time` writes; return an aware UTC datetime."""
    if not isinstance(s, str) or not _TIME.fullmatch(s):
        raise ValueError(f"time {s!r} is not RFC 3339 UTC with microseconds and Z")
    try:
        return datetime.fromisoformat(s[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"time {s!r} is not a valid date and time") from None


class _HasFloat(Exception):
    """Raised by the fast decoder when a number is not an integer."""


def _float_seen(_text: str) -> float:
    raise _HasFloat


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Floats are rare in entries, and JCS prints them differently from Python, so the
# fast decoder gives up on the first one and the slow path takes over.
_FAST_DECODER = json.JSONDecoder(parse_float=_float_seen, parse_constant=_no_constant)
_FULL_DECODER = json.JSONDecoder(parse_constant=_no_constant)
# The scanners are what JSONDecoder.decode calls after two white-space regex matches
# that canonical text never needs.
_fast_scan = _FAST_DECODER.scan_once
_full_scan = _FULL_DECODER.scan_once
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, allow_nan=False)


def _no_default(value: Any) -> Any:
    raise TypeError(f"{value.__class__.__name__} is not JSON")


# The C encoder called directly skips json.dumps' per-call setup, a third of its cost.
if c_make_encoder is not None:
    _c_encode = c_make_encoder(
        None, _no_default, encode_basestring_ascii, None, ":", ",", True, False, False
    )

    def _ascii_json(obj: Any) -> str:
        return "".join(_c_encode(obj, 0))

else:  # pragma: no cover - CPython always has the C accelerator
    _ascii_json = _ENCODER.encode


def _check_data(value: Any, path: str) -> None:
    """Payload rules: safe integers, finite floats, hex digests under ``*sha256`` keys.

    Builds the path of a value only when it has to recurse or report, since this runs
    on every entry a verifier reads.
    """
    is_dict = value.__class__ is dict
    items: Any = value.items() if is_dict else enumerate(value)
    for key, item in items:
        digest_key = False
        if is_dict:
            if key.__class__ is not str:
                raise EntryError(f"{path}: object keys must be strings")
            digest_key = key.endswith("sha256")
        cls = item.__class__
        if digest_key:
            if cls is not str or not _HEX64.fullmatch(item):
                raise EntryError(f"{_sub(path, key)}: must be 64 lowercase hex (a SHA-256)")
        elif cls is str or cls is bool or item is None:
            pass
        elif cls is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                raise EntryError(
                    f"{_sub(path, key)}: integer beyond ±(2**53-1); write it as a string"
                )
        elif cls is dict or cls is list or cls is tuple:
            _check_data(item, _sub(path, key))
        elif cls is float:
            if item - item != 0.0:  # true only for inf and nan
                raise EntryError(f"{_sub(path, key)}: number is not finite")
            # JCS prints integral floats as integers, which must then be safe integers.
            if item.is_integer() and not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                raise EntryError(
                    f"{_sub(path, key)}: number beyond ±(2**53-1) prints as an integer"
                )
        else:
            raise EntryError(f"{_sub(path, key)}: {cls.__name__} is not a JSON value")


def _sub(path: str, key: Any) -> str:
    return f"{path}[{key}]" if key.__class__ is int else f"{path}.{key}"


def _check_fields(obj: dict[str, Any], origin: str | None) -> None:
    """Shape and type rules shared by build_entry and parse_entry.

    Written flat, with class identity tests (``bool`` is not an ``int`` here), because
    a verifier runs it on every entry.
    """
    v = obj["v"]
    if v.__class__ is not int or v != FORMAT_VERSION:
        raise EntryError(f"v: must be {FORMAT_VERSION}")
    log = obj["log"]
    if origin is not None:
        if log != origin or log.__class__ is not str:
            raise EntryError(f"log: {log!r} is not this log's origin {origin!r}")
    elif log.__class__ is not str or not is_valid_key_name(log):
        raise EntryError(f"log: {log!r} is not a valid origin")
    seq = obj["seq"]
    if seq.__class__ is not int or not 0 <= seq <= MAX_SAFE_INTEGER:
        raise EntryError("seq: must be a non-negative safe integer")
    time = obj["time"]
    if time.__class__ is not str or not _TIME.fullmatch(time):
        raise EntryError("time: must be RFC 3339 UTC with microseconds and Z")
    # The pattern bounds every field; only day 29-31 and year 0 need the calendar.
    if time[8:10] > "28" or time.startswith("0000"):
        try:
            datetime.fromisoformat(time[:-1])
        except ValueError:
            raise EntryError(f"time: {time!r} is not a valid date") from None
    event_type = obj["type"]
    if event_type.__class__ is not str or not _TYPE.fullmatch(event_type):
        raise EntryError("type: must be lowercase dotted, like 'dataset_version.registered'")
    actor = obj["actor"]
    if actor.__class__ is not dict or actor.keys() != _ACTOR_FIELDS:
        raise EntryError("actor: must be an object with exactly kind, id and name")
    if actor["kind"] not in ACTOR_KINDS or actor["kind"].__class__ is not str:
        raise EntryError("actor.kind: must be 'user', 'api_key' or 'system'")
    value = actor["id"]
    if value.__class__ is not str or not value:
        raise EntryError("actor.id: must be a non-empty string")
    if actor["name"].__class__ is not str:
        raise EntryError("actor.name: must be a string")
    subject = obj["subject"]
    if subject.__class__ is not dict or subject.keys() != _SUBJECT_FIELDS:
        raise EntryError("subject: must be an object with exactly kind and id")
    value = subject["kind"]
    if value.__class__ is not str or not value:
        raise EntryError("subject.kind: must be a non-empty string")
    value = subject["id"]
    if value.__class__ is not str or not value:
        raise EntryError("subject.id: must be a non-empty string")
    data = obj["data"]
    if data.__class__ is not dict:
        raise EntryError("data: must be an object")
    _check_data(data, "data")
    prev = obj["prev"]
    if prev.__class__ is not str or not _HEX64.fullmatch(prev):
        raise EntryError("prev: must be 64 lowercase hex characters")
    if seq == 0 and prev != ZERO_HASH_HEX:
        raise EntryError("prev: must be 64 zeros for seq 0")


def build_entry(
    *,
    log: str,
    seq: int,
    time: datetime,
    type: str,
    actor: dict[str, Any],
    subject: dict[str, Any],
    data: dict[str, Any],
    prev: bytes,
) -> bytes:
    """Validate an entry and return its canonical (RFC 8785) bytes.

    ``prev`` is the previous entry's 32-byte leaf hash (32 zero bytes for seq 0).
    Raises EntryError naming the field if anything is invalid.
    """
    if not isinstance(time, datetime):
        raise EntryError("time: must be a datetime")
    try:
        time_text = format_time(time)
    except ValueError as exc:
        raise EntryError(f"time: {exc}") from None
    if not isinstance(prev, bytes | bytearray) or len(prev) != 32:
        raise EntryError("prev: must be the previous entry's 32-byte leaf hash")
    obj = {
        "v": FORMAT_VERSION,
        "log": log,
        "seq": seq,
        "time": time_text,
        "type": type,
        "actor": actor,
        "subject": subject,
        "data": data,
        "prev": bytes(prev).hex(),
    }
    try:
        _check_fields(obj, None)
    except RecursionError:
        raise EntryError("data: nested too deeply") from None
    try:
        body = rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, RecursionError) as exc:
        raise EntryError(f"data: cannot be canonicalized: {exc}") from None
    if len(body) > MAX_ENTRY_BYTES:
        raise EntryError(f"entry is {len(body)} bytes, more than {MAX_ENTRY_BYTES}")
    # What we write must pass what verifiers run; parsing it back makes that so.
    parse_entry(body, origin=log)
    return body


# The canonical text of an entry whose envelope strings need no escapes, fields in
# JCS order: a string here is printable ASCII without '"' and '\\'. ``data`` is the
# text between '"data":' and a '},"log":' after which the rest matches. Once that
# text is checked to be the canonical JSON of one object, the whole line is exactly
# the JCS of the entry built from the groups, wherever the match split it.
_STR = r'"([ !#-\[\]-~]*)"'
_STR1 = r'"([ !#-\[\]-~]+)"'
_ENVELOPE = re.compile(
    r'\{"actor":\{"id":' + _STR1 + r',"kind":"(user|api_key|system)","name":' + _STR + r"\},"
    r'"data":(\{.*\}),"log":' + _STR1 + r',"prev":"([0-9a-f]{64})","seq":(0|[1-9][0-9]{0,15}),'
    r'"subject":\{"id":' + _STR1 + r',"kind":' + _STR1 + r"\},"
    r'"time":"(' + _TIME.pattern + r')","type":"(' + _TYPE.pattern + r')","v":1\}'
)


def _parse_envelope(text: str, origin: str | None) -> dict[str, Any] | None:
    """Fast path of parse_entry for ASCII text without \\u escapes or DEL.

    Matches the envelope with one regular expression and decodes and re-encodes only
    ``data``. Returns the entry only when it is valid and canonical; returns None for
    anything else, and the general path then decides (and words the error).
    """
    m = _ENVELOPE.fullmatch(text)
    if m is None:
        return None
    actor_id, actor_kind, actor_name, data_text, log, prev, seq, subject_id, subject_kind = (
        m.groups()[:9]
    )
    time, event_type = m.group(10, 11)
    try:
        data, end = _fast_scan(data_text, 0)
    except (_HasFloat, StopIteration, ValueError, RecursionError):
        return None
    if end != len(data_text) or _ascii_json(data) != data_text:
        return None
    # The pattern already holds every rule of _check_fields but these.
    if (log != origin) if origin is not None else not is_valid_key_name(log):
        return None
    seq_number = int(seq)
    if seq_number > MAX_SAFE_INTEGER or (seq_number == 0 and prev != ZERO_HASH_HEX):
        return None
    if time[8:10] > "28" or time.startswith("0000"):
        return None  # the general path checks the calendar
    try:
        _check_data(data, "data")
    except (EntryError, RecursionError):
        return None
    return {
        "actor": {"id": actor_id, "kind": actor_kind, "name": actor_name},
        "data": data,
        "log": log,
        "prev": prev,
        "seq": seq_number,
        "subject": {"id": subject_id, "kind": subject_kind},
        "time": time,
        "type": event_type,
        "v": FORMAT_VERSION,
    }


def parse_entry(entry_bytes: bytes, *, origin: str | None = None) -> dict[str, Any]:
    """Strictly parse stored entry bytes, as a verifier must.

    Checks that the bytes are valid UTF-8 JSON, hold exactly the version-1 fields
    with the right types and shapes (``log == origin`` when given), and are exactly
    the canonical JCS serialization of the object. Raises EntryError otherwise.
    """
    if len(entry_bytes) > MAX_ENTRY_BYTES:
        raise EntryError(f"entry is {len(entry_bytes)} bytes, more than {MAX_ENTRY_BYTES}")
    try:
        text = entry_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise EntryError("not valid UTF-8") from None
    simple = text.isascii() and "\\u" not in text and "\x7f" not in text
    if simple:
        obj = _parse_envelope(text, origin)
        if obj is not None:
            return obj
    obj, has_float = _decode_entry_object(text)
    try:
        _check_fields(obj, origin)
    except RecursionError:
        raise EntryError("data: nested too deeply") from None
    if not _is_canonical(obj, text, entry_bytes, ascii_shortcut=simple and not has_float):
        raise EntryError("not canonical JCS")
    return obj


def _decode_entry_object(text: str) -> tuple[dict[str, Any], bool]:
    """Decode the entry as one JSON object with exactly the version-1 fields; also say
    whether it holds a float (which rules out the ASCII shortcut to JCS)."""
    has_float = False
    try:
        try:
            obj, end = _fast_scan(text, 0)
        except _HasFloat:
            has_float = True
            obj, end = _full_scan(text, 0)
    except StopIteration:
        end = -1
    except (ValueError, RecursionError) as exc:
        raise EntryError(f"not valid JSON: {exc}") from None
    if end != len(text):
        # Leading or trailing white space, or junk: say which, off the fast path.
        try:
            _FULL_DECODER.decode(text)
        except (ValueError, RecursionError) as exc:
            raise EntryError(f"not valid JSON: {exc}") from None
        raise EntryError("not canonical JCS")
    if obj.__class__ is not dict:
        raise EntryError("not a JSON object")
    keys = obj.keys()
    if keys != _FIELDS:
        unknown = sorted(keys - _FIELDS)
        if unknown:
            raise EntryError(f"unknown field {unknown[0]!r}")
        raise EntryError(f"missing field {sorted(_FIELDS - keys)[0]!r}")
    return obj, has_float


def _is_canonical(
    obj: dict[str, Any], text: str, entry_bytes: bytes, *, ascii_shortcut: bool
) -> bool:
    """Whether the entry bytes are exactly the JCS serialization of ``obj``."""
    # Python's sorted, compact, ASCII-escaped JSON equals JCS when the text is ASCII
    # (keys sort the same by UTF-16 unit and by code point), holds no floats (integers
    # print the same), no \u escapes (JCS writes characters raw, Python escapes
    # non-ASCII) and no DEL (Python escapes it, JCS does not). Anything else goes
    # through the reference implementation.
    if ascii_shortcut:
        return _ascii_json(obj) == text
    try:
        return rfc8785.dumps(obj) == entry_bytes
    except (rfc8785.CanonicalizationError, RecursionError):
        return False
