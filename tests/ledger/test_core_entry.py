"""Entry building and strict parsing, and the parser's fast paths against RFC 8785."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import rfc8785
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from apps.ledger.core import entry as entry_module
from apps.ledger.core.entry import (
    MAX_ENTRY_BYTES,
    ZERO_HASH_HEX,
    EntryError,
    build_entry,
    format_time,
    parse_entry,
    parse_time,
)

ORIGIN = "audit.example.eu/acme-bank"
T0 = datetime(2026, 11, 23, 9, 15, 2, 123456, tzinfo=UTC)
PREV = bytes(range(32))


def make(**overrides: Any) -> bytes:
    fields: dict[str, Any] = {
        "log": ORIGIN,
        "seq": 7,
        "time": T0,
        "type": "dataset_version.registered",
        "actor": {"kind": "user", "id": "u_1", "name": "Alice"},
        "subject": {"kind": "dataset_version", "id": "dsv_1"},
        "data": {"sha256": "ab" * 32, "size_bytes": 10, "uri": "s3://b/k"},
        "prev": PREV,
    }
    fields.update(overrides)
    return build_entry(**fields)


def _reject(name: str) -> Any:
    raise ValueError(name)


def reference_parse(body: bytes, origin: str | None = ORIGIN) -> dict[str, Any] | None:
    """The slow, obviously right parser: JSON, the field rules, then RFC 8785 equality."""
    try:
        obj = json.loads(body.decode("utf-8"), parse_constant=_reject)
        if not isinstance(obj, dict) or set(obj) != entry_module._FIELDS:
            return None
        entry_module._check_fields(obj, origin)
        return obj if rfc8785.dumps(obj) == body and len(body) <= MAX_ENTRY_BYTES else None
    except (ValueError, RecursionError):
        return None


# --- times ----------------------------------------------------------------------------


def test_format_and_parse_time():
    assert format_time(T0) == "2026-11-23T09:15:02.123456Z"
    cet = timezone(timedelta(hours=1))
    assert format_time(datetime(2026, 1, 1, 1, 0, tzinfo=cet)) == "2026-01-01T00:00:00.000000Z"
    assert format_time(datetime(5, 1, 1, tzinfo=UTC)) == "0005-01-01T00:00:00.000000Z"
    assert parse_time("2026-11-23T09:15:02.123456Z") == T0
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23T09:15:02.123456",
        "2026-11-23T09:15:02Z",
        "2026-11-23T09:15:02.123Z",
        "2026-11-23 09:15:02.123456Z",
        "2026-11-23T09:15:02.123456+00:00",
        "2026-11-23t09:15:02.123456z",
        "2026-02-30T09:15:02.123456Z",
        "2026-13-01T09:15:02.123456Z",
        "2026-11-23T24:00:00.000000Z",
        "2026-11-23T23:59:60.000000Z",
        "0000-01-01T00:00:00.000000Z",
        "\uff12026-11-23T09:15:02.123456Z",
    ],
)
def test_parse_time_is_strict(text: str):
    with pytest.raises(ValueError):
        parse_time(text)


# --- building -------------------------------------------------------------------------


def test_build_entry_is_canonical_and_parses_back():
    body = make()
    assert body == (
        b'{"actor":{"id":"u_1","kind":"user","name":"Alice"},"data":{"sha256":"'
        + b"ab" * 32
        + b'","size_bytes":10,"uri":"s3://b/k"},"log":"audit.example.eu/acme-bank","prev":"'
        + PREV.hex().encode()
        + b'","seq":7,"subject":{"id":"dsv_1","kind":"dataset_version"},'
        b'"time":"2026-11-23T09:15:02.123456Z","type":"dataset_version.registered","v":1}'
    )
    assert parse_entry(body, origin=ORIGIN) == json.loads(body)
    first = make(seq=0, prev=bytes(32))
    assert parse_entry(first)["prev"] == ZERO_HASH_HEX


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"log": "has space"}, "log"),
        ({"log": "a+b"}, "log"),
        ({"seq": -1}, "seq"),
        ({"seq": True}, "seq"),
        ({"seq": 2**53}, "seq"),
        ({"time": datetime(2026, 1, 1)}, "time"),
        ({"time": "2026-11-23T09:15:02.123456Z"}, "time"),
        ({"type": "Dataset.registered"}, "type"),
        ({"type": "registered"}, "type"),
        ({"type": "dataset..registered"}, "type"),
        ({"type": "dataset-version.registered"}, "type"),
        ({"actor": {"kind": "robot", "id": "x", "name": "y"}}, "actor.kind"),
        ({"actor": {"kind": "user", "id": "x"}}, "actor"),
        ({"actor": {"kind": "user", "id": "", "name": "y"}}, "actor.id"),
        ({"actor": {"kind": "user", "id": "x", "name": 5}}, "actor.name"),
        ({"subject": {"kind": "x", "id": "y", "extra": 1}}, "subject"),
        ({"subject": {"kind": "", "id": "y"}}, "subject.kind"),
        ({"data": []}, "data"),
        ({"data": {"x": float("nan")}}, "data.x"),
        ({"data": {"x": [1, float("inf")]}}, "data.x[1]"),
        ({"data": {"n": 2**53}}, "data.n"),
        ({"data": {"n": -(2**53)}}, "data.n"),
        ({"data": {"f": 2.0**53}}, "data.f"),
        ({"data": {"f": -1e20}}, "data.f"),
        ({"data": {"file": {"sha256": "AB" * 32}}}, "data.file.sha256"),
        ({"data": {"input_sha256": "ab" * 31}}, "data.input_sha256"),
        ({"data": {"sha256": None}}, "data.sha256"),
        ({"data": {1: "x"}}, "data"),
        ({"data": {"x": b"bytes"}}, "data.x"),
        ({"data": {"x": {1, 2}}}, "data.x"),
        ({"prev": b"short"}, "prev"),
        ({"seq": 0}, "prev"),
        ({"data": {"blob": "x" * MAX_ENTRY_BYTES}}, "65535"),
    ],
)
def test_build_entry_rejects_invalid_fields(overrides: dict[str, Any], field: str):
    with pytest.raises(EntryError, match=re.escape(field)):
        make(**overrides)


def test_build_entry_accepts_edge_values():
    body = make(
        data={
            "n": 2**53 - 1,
            "m": -(2**53 - 1),
            "accuracy": 0.9312,
            "amount": "12345678901234567890.01",
            "nested": [{"model_sha256": "0" * 64}, None, True],
            "ünïcode": "😀 \u2028 \x00",
        }
    )
    parsed = parse_entry(body, origin=ORIGIN)
    assert parsed["data"]["accuracy"] == 0.9312
    assert parsed == reference_parse(body)


# --- parsing --------------------------------------------------------------------------


def _edit(body: bytes, **changes: Any) -> bytes:
    obj = json.loads(body)
    obj.update(changes)
    return rfc8785.dumps(obj)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda b: b + b" ", "not canonical JCS"),
        (lambda b: b" " + b, "not canonical JCS"),
        (lambda b: b.replace(b'"seq":7,', b'"seq": 7,'), "not canonical JCS"),
        (lambda b: b.replace(b"s3://b/k", b"s3:\\/\\/b\\/k"), "not canonical JCS"),
        (lambda b: b.replace(b"Alice", b"Al\\u0069ce"), "not canonical JCS"),
        (lambda b: b.replace(b'"seq":7', b'"seq":7.0'), "seq:"),
        (lambda b: b.replace(b'"size_bytes":10', b'"size_bytes":10.0'), "not canonical JCS"),
        (lambda b: b.replace(b'"size_bytes":10', b'"size_bytes":1e1'), "not canonical JCS"),
        (lambda b: b.replace(b'"size_bytes":10', b'"size_bytes":-0'), "not canonical JCS"),
        (
            lambda b: b.replace(b'{"sha256"', b'{"size_bytes":10,"sha256"', 1),
            "not canonical JCS",
        ),  # duplicate key
        (
            lambda b: b.replace(
                b'"actor":{"id":"u_1","kind":"user"', b'"actor":{"kind":"user","id":"u_1"'
            ),
            "not canonical JCS",
        ),
        (lambda b: b.replace(b'"size_bytes":10', b'"size_bytes":NaN'), "not valid JSON"),
        (lambda b: b[:-1], "not valid JSON"),
        (lambda b: b"\xff" + b, "not valid UTF-8"),
        (lambda b: b"[]", "not a JSON object"),
        (lambda b: _edit(b, extra=1), "unknown field 'extra'"),
        (lambda b: _edit(b, v=2), "v: must be 1"),
        (lambda b: _edit(b, v=True), "v: must be 1"),
        (lambda b: _edit(b, log="other.example/x"), "log: 'other.example/x' is not"),
        (lambda b: _edit(b, seq="7"), "seq:"),
        (lambda b: _edit(b, prev="AB" * 32), "prev:"),
        (lambda b: _edit(b, time="2026-02-29T00:00:00.000000Z"), "time:"),
        (lambda b: _edit(b, type="x.Y"), "type:"),
    ],
)
def test_parse_entry_rejects(mangle, message: str):
    with pytest.raises(EntryError, match=message):
        parse_entry(mangle(make()), origin=ORIGIN)


def test_parse_entry_rejects_missing_field_and_big_entries():
    obj = json.loads(make())
    del obj["data"]
    with pytest.raises(EntryError, match="missing field 'data'"):
        parse_entry(rfc8785.dumps(obj))
    with pytest.raises(EntryError, match="more than 65535"):
        parse_entry(b" " * (MAX_ENTRY_BYTES + 1))
    with pytest.raises(EntryError, match=r"nested too deeply|not valid JSON"):
        parse_entry(make().replace(b'"uri":"s3://b/k"', b'"deep":' + b"[" * 5000 + b"]" * 5000))


def test_origin_is_optional():
    assert parse_entry(make())["log"] == ORIGIN
    with pytest.raises(EntryError, match="log:"):
        parse_entry(make(), origin="audit.example.eu/other")


# --- fast paths against RFC 8785 ------------------------------------------------------

json_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53 - 1), 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | json_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=12,
)
ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10)


@settings(max_examples=500)
@given(value=json_values)
@example(value={"\U0001f600": 1, "\uff61": 2})  # JCS sorts by UTF-16: non-BMP first
@example(value={"a": "\x7f", "b": "\x1f", "c": "/"})
def test_ascii_encoder_equals_jcs_where_the_fast_path_uses_it(value: Any):
    canonical = rfc8785.dumps(value).decode("utf-8")
    simple = canonical.isascii() and "\\u" not in canonical and "\x7f" not in canonical
    if simple and not any(isinstance(x, float) for x in _leaves(value)):
        assert entry_module._ascii_json(value) == canonical


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]


@settings(max_examples=500)
@given(
    data=st.dictionaries(json_text, json_values, max_size=5),
    actor_id=ascii_text.filter(bool),
    name=ascii_text | json_text,
    subject_kind=ascii_text.filter(bool),
    seq=st.integers(1, 2**53 - 1),
)
def test_parse_entry_accepts_what_build_entry_builds(
    data: dict[str, Any], actor_id: str, name: str, subject_kind: str, seq: int
):
    assume(not any(k.endswith("sha256") for k in _keys(data)))
    try:
        body = make(
            data=data,
            seq=seq,
            actor={"kind": "api_key", "id": actor_id, "name": name},
            subject={"kind": subject_kind, "id": "x"},
        )
    except EntryError:
        assume(False)
    parsed = parse_entry(body, origin=ORIGIN)
    assert parsed == reference_parse(body) == json.loads(body)


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [*value, *(k for v in value.values() for k in _keys(v))]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []


MUTATIONS = [
    lambda b, i: b[:i] + b" " + b[i:],
    lambda b, i: b[:i] + b[i + 1 :],
    lambda b, i: b[:i] + bytes([b[i] ^ 0x01]) + b[i + 1 :] if i < len(b) else b,
    lambda b, i: b[:i] + b"\\/" + b[i:],
    lambda b, i: b[:i] + b'\\"' + b[i:],
    lambda b, i: b[:i] + b"\\u0041" + b[i:],
    lambda b, i: b[:i] + b".0" + b[i:],
    lambda b, i: b[:i] + b'"k":1,' + b[i:],
    lambda b, i: b[:i] + b"\x7f" + b[i:],
    lambda b, i: b[:i] + "é".encode() + b[i:],
]


@settings(max_examples=1500)
@given(
    data=st.dictionaries(json_text, json_values, max_size=3),
    name=ascii_text,
    mutation=st.sampled_from(range(len(MUTATIONS))),
    position=st.integers(0, 10_000),
)
def test_parse_entry_agrees_with_reference_on_mutated_entries(
    data: dict[str, Any], name: str, mutation: int, position: int
):
    try:
        body = make(data=data, actor={"kind": "user", "id": "u", "name": name})
    except EntryError:
        assume(False)
    mutated = MUTATIONS[mutation](body, position % (len(body) + 1))
    want = reference_parse(mutated)
    try:
        got = parse_entry(mutated, origin=ORIGIN)
    except EntryError:
        got = None
    assert got == want
