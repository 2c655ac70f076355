"""The column-speed leaves are byte for byte the reference encoder's (spec §6)."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.inference import rowhash
from apps.ledger.core.hashing import leaf_hash
from apps.ledger.core.merkle import CompactRange
from apps.ledger.core.rows import RowsTree


@pytest.fixture(autouse=True, params=["compiled", "python"])
def hashing(request, monkeypatch):
    """Every test here runs twice: with the compiled texts (C++) and hashing (C), and
    with the pure-Python path a machine without a compiler uses; both must give the
    reference bytes."""
    if request.param == "python":
        monkeypatch.setattr(rowhash, "compiled", None)
        monkeypatch.setattr(rowhash, "compiled_text", None)
    elif rowhash.compiled is None or rowhash.compiled_text is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "apps.inference._rowhash or _rowtext was not built: CI installs gcc, g++, "
                "libssl-dev and libdouble-conversion-dev"
            )
        pytest.skip("the compiled row texts and hashing were not built here")
    return request.param


def reference(batch: pa.RecordBatch, outputs) -> tuple[list[bytes], str]:
    tree = RowsTree()
    names = batch.schema.names
    leaves = [
        tree.add(row_input=dict(zip(names, values, strict=True)), output=out)
        for values, out in zip(
            zip(*(c.to_pylist() for c in batch.columns), strict=True), outputs, strict=True
        )
    ]
    return leaves, tree.root_hex()


def fast(batch: pa.RecordBatch, outputs: np.ndarray) -> tuple[list[bytes], str]:
    leaves = rowhash.leaves(first_row=0, digests=rowhash.input_digests(batch), outputs=outputs)
    acc = rowhash.RowsAccumulator()
    acc.add(rowhash.leaf_hashes(leaves))
    return leaves.to_pylist(), acc.root_hex()


floats = st.floats(allow_infinity=False, width=64) | st.none()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            floats,
            st.integers(-(2**53) + 1, 2**53 - 1) | st.none(),
            st.text(max_size=5) | st.none(),
            st.booleans(),
            st.floats(allow_nan=False, allow_infinity=False, width=32),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_fast_leaves_equal_reference_leaves(rows):
    cols = list(zip(*rows, strict=True))
    batch = pa.RecordBatch.from_pydict(
        {
            "z": pa.array(cols[0], pa.float64()),
            "a": pa.array(cols[1], pa.int64()),
            "é": pa.array(cols[2], pa.string()),
            "B": pa.array(cols[3], pa.bool_()),
            "f32": pa.array(cols[4], pa.float32()),
        }
    )
    outputs = np.linspace(-3, 3, len(rows)).astype(np.float32)
    expected = reference(batch, [float(o) for o in outputs])
    assert fast(batch, outputs) == expected


def test_root_over_many_chunks_equals_reference():
    n = rowhash.CHUNK_LEAVES * 2 + 123
    batch = pa.RecordBatch.from_pydict({"x": np.arange(n, dtype=np.float64) / 7})
    outputs = np.arange(n, dtype=np.float32) % 5
    acc = rowhash.RowsAccumulator()
    for start in range(0, n, 50_000):
        part = batch.slice(start, 50_000)
        leaves = rowhash.leaves(
            first_row=start,
            digests=rowhash.input_digests(part),
            outputs=outputs[start : start + 50_000],
        )
        acc.add(rowhash.leaf_hashes(leaves))
    tree = RowsTree()
    for i, value in enumerate(batch.column(0).to_pylist()):
        tree.add(row_input={"x": value}, output=float(outputs[i]))
    assert acc.root_hex() == tree.root_hex()


def test_multiclass_outputs_are_arrays():
    batch = pa.RecordBatch.from_pydict({"x": [1.0, 2.0]})
    outputs = np.array([[0.25, 0.75], [1.0, 0.0]])
    leaves, _ = fast(batch, outputs)
    assert b'"output":[0.25,0.75]' in leaves[0] and b'"output":[1,0]' in leaves[1]


def accumulated_root(hashes: list[bytes], piece: int) -> str:
    acc = rowhash.RowsAccumulator()
    column = pa.array(hashes, pa.binary(32))
    for start in range(0, len(hashes), piece):
        acc.add(column.slice(start, piece))
    assert acc.rows == len(hashes)
    return acc.root_hex()


@pytest.mark.parametrize(
    "n",
    [
        0,
        1,
        2,
        3,
        rowhash.CHUNK_LEAVES - 1,
        rowhash.CHUNK_LEAVES,
        rowhash.CHUNK_LEAVES + 1,
        3 * rowhash.CHUNK_LEAVES + 5,
        65_537,
    ],
)
def test_rows_root_of_odd_sizes_equals_the_compact_range_root(n):
    """The accumulator's level-by-level root, fed in pieces that do not line up with
    its chunks, is the RFC 6962 root the ledger's compact range computes leaf by leaf."""
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    expected = CompactRange()
    for h in hashes:
        expected.append(h)
    for piece in (1000, 16_384):
        assert accumulated_root(hashes, piece) == expected.root().hex()


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_small_batches_equal_the_reference(n):
    batch = pa.RecordBatch.from_pydict({"x": pa.array(np.arange(n) / 3, pa.float64())})
    outputs = np.arange(n, dtype=np.float32) / 7
    assert fast(batch, outputs) == reference(batch, [float(o) for o in outputs])


def test_leaf_hashes_are_rfc6962_leaf_hashes():
    batch = pa.RecordBatch.from_pydict({"x": np.linspace(-1, 1, 257)})
    leaves = rowhash.leaves(
        first_row=10, digests=rowhash.input_digests(batch), outputs=np.zeros(257, np.float32)
    )
    expected = [leaf_hash(leaf) for leaf in leaves.to_pylist()]
    assert rowhash.leaf_hashes(leaves).to_pylist() == expected
    assert rowhash.leaf_hashes(leaves.slice(100, 7)).to_pylist() == expected[100:107]


def test_multiclass_outputs_equal_the_reference():
    batch = pa.RecordBatch.from_pydict({"x": [1.0, 2.0, 3.0]})
    outputs = np.array([[0.1, 0.2, 0.7], [1.0, 0.0, 0.0], [1e-7, 1e21, 0.5]], np.float32)
    expected = reference(batch, [[float(v) for v in row] for row in outputs])
    assert fast(batch, outputs) == expected


def test_missing_and_nan_inputs_are_null_as_in_the_reference():
    batch = pa.RecordBatch.from_pydict(
        {
            "x": pa.array([np.nan, None, 1.5], pa.float64()),
            "n": pa.array([None, 2, 3], pa.int64()),
            "s": pa.array(["a", None, "b"], pa.string()),
        }
    )
    outputs = np.array([0.5, 0.25, 0.125], np.float32)
    leaves, root = fast(batch, outputs)
    assert (leaves, root) == reference(batch, [float(o) for o in outputs])


@pytest.mark.parametrize(
    "column",
    [
        pa.array(['say "hi"', "tab\there", "back\\slash"], pa.string()),
        pa.array([1e15, 2.5e12, 1e20], pa.float64()),
    ],
    ids=["text-needing-escapes", "exponent-range-floats"],
)
def test_values_outside_the_fast_path_fall_back_to_the_reference(column):
    batch = pa.RecordBatch.from_pydict({"v": column, "w": [1.0, 2.0, 3.0]})
    outputs = np.array([1.0, 2.0, 3.0], np.float32)
    assert fast(batch, outputs) == reference(batch, [float(o) for o in outputs])


def test_nan_outputs_fall_back_to_the_reference_as_null():
    batch = pa.RecordBatch.from_pydict({"x": [1.0, 2.0]})
    outputs = np.array([np.nan, 0.5], np.float32)
    leaves, root = fast(batch, outputs)
    assert (leaves, root) == reference(batch, [None, 0.5])
    assert b'"output":null' in leaves[0]


EDGE_FLOATS = [
    0.0,
    -0.0,
    5e-324,  # the smallest subnormal
    2.2250738585072014e-308,  # the smallest normal
    1.7976931348623157e308,
    1e21,  # ECMAScript's first exponent form
    999999999999999900000.0,  # the last plain form below it
    1e-7,  # ECMAScript's first negative exponent form
    1e-6,  # and the last plain form above it
    0.1 + 0.2,  # 17 significant digits
    2.0**53,
    2.0**53 + 2,  # above 2**53: still a double, written as ECMAScript does
    -123456.789e-300,
]


def test_edge_floats_equal_the_reference_in_inputs_and_outputs():
    batch = pa.RecordBatch.from_pydict({"x": pa.array(EDGE_FLOATS, pa.float64())})
    outputs = np.array(EDGE_FLOATS, np.float64)
    assert fast(batch, outputs) == reference(batch, EDGE_FLOATS)


def test_keys_outside_the_basic_plane_sort_by_utf16_code_units_and_strings_escape():
    # "\U0001f600" sorts before "\uff61" in UTF-16 code units, after it in code points.
    batch = pa.RecordBatch.from_pydict(
        {
            "\uff61": pa.array(["", "line\nbreak\x01", None], pa.string()),
            "\U0001f600": pa.array(["😀", 'quote " and \\', "\x7f\u2028"], pa.string()),
            "nothing": pa.nulls(3),
        }
    )
    outputs = np.array([1.0, 2.0, 3.0], np.float32)
    assert fast(batch, outputs) == reference(batch, [1.0, 2.0, 3.0])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=30))
def test_any_finite_double_is_written_as_the_reference_writes_it(values):
    batch = pa.RecordBatch.from_pydict({"v": pa.array(values, pa.float64())})
    outputs = np.array(values, np.float64)
    assert fast(batch, outputs) == reference(batch, values)


def test_an_infinite_input_is_refused_naming_its_column_and_row():
    batch = pa.RecordBatch.from_pydict({"v": pa.array([1.0, float("inf")], pa.float64())})
    with pytest.raises(ValueError, match=r"infinite values .*column 'v', row 1 of the chunk"):
        rowhash.input_digests(batch)


def test_the_compiled_texts_refuse_buffers_that_do_not_match_the_row_count(hashing):
    if hashing == "python":
        pytest.skip("the compiled texts only")
    texts = rowhash.compiled_text
    short = np.zeros(2, np.float64)
    with pytest.raises(ValueError, match="row count"):
        texts.row_texts(3, [(b'{"x":', 0, short, None, None)])
    offsets_past_the_end = np.array([0, 2, 9], np.int32)
    with pytest.raises(ValueError, match="out of range"):
        texts.row_texts(2, [(b'{"s":', 3, b"abc", offsets_past_the_end, None)])
    with pytest.raises(ValueError, match="do not match"):
        texts.leaf_texts(0, b"0" * 64, np.zeros(2, np.float64), 0)
