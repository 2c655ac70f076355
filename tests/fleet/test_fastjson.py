"""The fast canonical JSON and strict parsing of online logging give exactly what the
reference encoder (rfc8785) and the API's strict parser give."""

from __future__ import annotations

import json
import random

import pytest
import rfc8785

from apps.fleet.fastjson import canonical, input_sha256, leaf_bytes, strict_loads
from apps.ledger.core.rows import row_input_sha256, row_leaf_bytes
from audit_platform.parsers import RefusedJson, loads
from tests.platform.test_bad_input import BAD_BODIES

EDGE_NUMBERS = [
    0.0,
    -0.0,
    1.0,
    2.5,
    1e-7,
    1.5e-7,
    0.0001,
    -0.0001,
    # Either side of 1e-4, where Python starts printing an exponent.
    9.999999999999999e-05,
    0.00010000000000000002,
    -5e-05,
    123e-9,
    1e16,
    1e20,
    1e21,
    1.5e21,
    2**53 - 1,
    -(2**53 - 1),
    0.1 + 0.2,
    5e-324,
    1.7976931348623157e308,
    100.0,
]


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return rng.choice(
            [*EDGE_NUMBERS, rng.uniform(-1e6, 1e6), rng.random() * 10 ** rng.randint(-12, 25)]
        )
    if kind == 1:
        return rng.randint(-(2**53) + 1, 2**53 - 1)
    if kind == 2:
        return "".join(rng.choice('aé"\\\n\t\x01€😀z') for _ in range(rng.randrange(6)))
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["a", "B", "é", "€", "😀", "ﬀ", "aa", ""]
    return {rng.choice(keys): random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def test_canonical_bytes_are_rfc8785s_on_random_values():
    rng = random.Random(3)
    for _ in range(5_000):
        value = random_value(rng)
        assert canonical(value) == rfc8785.dumps(value), value


def test_digests_and_leaves_are_those_of_the_ledger_core():
    rng = random.Random(4)
    for i in range(500):
        row = {f"c{j}": random_value(rng, 2) for j in range(5)}
        assert input_sha256(row) == row_input_sha256(row)
        output = random_value(rng, 2)
        assert leaf_bytes(row=i, input_sha256="ab" * 32, output=output) == row_leaf_bytes(
            row=i, input_sha256="ab" * 32, output=output
        )


@pytest.mark.parametrize("label", sorted(BAD_BODIES))
def test_strict_loads_refuses_what_the_api_parser_refuses(label):
    body = BAD_BODIES[label]
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        expected = loads(text)
    except RefusedJson as exc:
        with pytest.raises(RefusedJson) as caught:
            strict_loads(text)
        assert caught.value.message == exc.message
    else:
        assert strict_loads(text) == expected


def test_strict_loads_reads_plain_lines_as_json_does():
    line = json.dumps({"id": "x", "input": {"a": 1.5, "b": [1, 2], "c": "é"}, "output": None})
    assert strict_loads(line) == json.loads(line)
