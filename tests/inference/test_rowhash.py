"""The column-speed leaves are byte for byte the reference encoder's (spec §6)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.inference import rowhash
from apps.ledger.core.rows import RowsTree


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
    return leaves, acc.root_hex()


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
