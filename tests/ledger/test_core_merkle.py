"""Merkle tree hash, proofs and compact ranges against RFC 6962 and shared vectors."""

from __future__ import annotations

import base64
import json
from functools import cache
from hashlib import sha256
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.ledger.core.hashing import EMPTY_ROOT, leaf_hash, node_hash
from apps.ledger.core.merkle import (
    CompactRange,
    ProofError,
    consistency_proof,
    consistency_proof_ranges,
    inclusion_proof,
    inclusion_proof_ranges,
    range_hash,
    range_subtrees,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "testvectors" / "merkle"
MAX_SIZE = 300


def _vector_files(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json")) if VECTORS.is_dir() else []


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


# --- RFC 6962 by the book, recursive, as the reference ------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _k(len(leaves))
    return node_hash(naive_mth(leaves[:k]), naive_mth(leaves[k:]))


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_mth(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_mth(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [naive_mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, leaves[:k], complete), naive_mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_mth(leaves[:k])]


LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(MAX_SIZE)]


@cache
def root_of(size: int) -> bytes:
    return naive_mth(LEAVES[:size])


# --- shared vectors ------------------------------------------------------------------


def test_vector_folder_is_present_and_complete():
    assert VECTORS.is_dir(), f"missing test vectors at {VECTORS}"
    assert len(_vector_files("inclusion")) >= 80
    assert len(_vector_files("consistency")) >= 90


@pytest.mark.parametrize(
    "path", _vector_files("inclusion"), ids=lambda p: str(p.relative_to(VECTORS))
)
def test_inclusion_vector(path: Path):
    v = json.loads(path.read_text())

    def run() -> None:
        verify_inclusion(
            index=v["leafIdx"],
            size=v["treeSize"],
            leaf_hash=_b64(v["leafHash"]),
            proof=[_b64(p) for p in v["proof"] or []],
            root=_b64(v["root"]),
        )

    if v["wantErr"]:
        with pytest.raises(ProofError):
            run()
    else:
        run()


@pytest.mark.parametrize(
    "path", _vector_files("consistency"), ids=lambda p: str(p.relative_to(VECTORS))
)
def test_consistency_vector(path: Path):
    v = json.loads(path.read_text())

    def run() -> None:
        verify_consistency(
            old_size=v["size1"],
            new_size=v["size2"],
            old_root=_b64(v["root1"]),
            new_root=_b64(v["root2"]),
            proof=[_b64(p) for p in v["proof"] or []],
        )

    if v["wantErr"]:
        with pytest.raises(ProofError):
            run()
    else:
        run()


# --- tree hash, ranges, compact ranges -----------------------------------------------


def test_empty_tree():
    assert sha256(b"").digest() == EMPTY_ROOT
    assert tree_hash([]) == EMPTY_ROOT
    assert CompactRange().root() == EMPTY_ROOT
    assert range_hash([]) == EMPTY_ROOT
    assert range_subtrees(0, 0) == []


def test_every_size_agrees_with_the_recursive_definition():
    tree = CompactRange()
    for size in range(MAX_SIZE + 1):
        want = root_of(size)
        assert tree_hash(LEAVES[:size]) == want, size
        assert tree.root() == want, size
        assert tree.size == size
        frontier = range_subtrees(0, size)
        hashes = [naive_mth(LEAVES[i << lvl : (i + 1) << lvl]) for lvl, i in frontier]
        assert tree.hashes == hashes
        assert range_hash(hashes) == want
        if size < MAX_SIZE:
            tree.append(LEAVES[size])


def test_append_returns_the_subtrees_it_completes():
    tree = CompactRange()
    for size in range(MAX_SIZE):
        nodes = tree.append(LEAVES[size])
        assert nodes[0] == (0, size, LEAVES[size])
        levels = [level for level, _, _ in nodes]
        assert levels == list(range(len(nodes)))
        # The leaf completes one subtree per trailing one bit of its index.
        assert len(nodes) == (size ^ (size + 1)).bit_length()
        for level, index, h in nodes:
            assert h == naive_mth(LEAVES[index << level : (index + 1) << level])


def test_compact_range_bytes_round_trip():
    tree = CompactRange()
    for size in range(100):
        copy = CompactRange.from_bytes(size, tree.to_bytes())
        assert copy == tree and copy.root() == tree.root()
        tree.append(LEAVES[size])
    with pytest.raises(ValueError, match="needs 96 bytes"):
        CompactRange.from_bytes(7, bytes(64))
    with pytest.raises(ValueError):
        CompactRange(size=3, hashes=[LEAVES[0]])


@given(start=st.integers(0, 5000), length=st.integers(0, 5000))
def test_range_subtrees_are_a_minimal_aligned_cover(start: int, length: int):
    end = start + length
    subtrees = range_subtrees(start, end)
    pos = start
    for level, index in subtrees:
        assert index << level == pos, "contiguous and aligned"
        pos += 1 << level
    for (level, index), (next_level, _) in pairwise(subtrees):
        if next_level == level:
            assert index % 2 == 1, "two siblings would have been one subtree"
    assert pos == end


def test_range_subtrees_rejects_bad_ranges():
    with pytest.raises(ValueError):
        range_subtrees(5, 4)
    with pytest.raises(ValueError):
        range_subtrees(-1, 4)


# --- proofs ---------------------------------------------------------------------------


def _check_inclusion(index: int, size: int) -> None:
    proof = inclusion_proof(index, size, LEAVES)
    assert proof == naive_path(index, LEAVES[:size])
    for (start, end), h in zip(inclusion_proof_ranges(index, size), proof, strict=True):
        parts = [
            naive_mth(LEAVES[i << lvl : (i + 1) << lvl]) for lvl, i in range_subtrees(start, end)
        ]
        assert range_hash(parts) == h == naive_mth(LEAVES[start:end])
    root = root_of(size)
    verify_inclusion(index=index, size=size, leaf_hash=LEAVES[index], proof=proof, root=root)
    for i in range(len(proof)):
        for bit in (0, 7 * 8 + 3, 255):
            bad = list(proof)
            bad[i] = bytes(a ^ (b == bit // 8) << (bit % 8) for b, a in enumerate(bad[i]))
            with pytest.raises(ProofError):
                verify_inclusion(
                    index=index, size=size, leaf_hash=LEAVES[index], proof=bad, root=root
                )
    with pytest.raises(ProofError):
        verify_inclusion(
            index=index, size=size, leaf_hash=LEAVES[index], proof=proof[:-1] or [root], root=root
        )
    with pytest.raises(ProofError):
        verify_inclusion(
            index=index, size=size, leaf_hash=LEAVES[index], proof=[*proof, root], root=root
        )
    if size > 1:
        other = (index + 1) % size
        with pytest.raises(ProofError):
            verify_inclusion(
                index=other, size=size, leaf_hash=LEAVES[index], proof=proof, root=root
            )
        with pytest.raises(ProofError):
            verify_inclusion(
                index=index, size=size, leaf_hash=LEAVES[other], proof=proof, root=root
            )


def _check_consistency(old: int, new: int) -> None:
    proof = consistency_proof(old, new, LEAVES)
    assert proof == naive_subproof(old, LEAVES[:new], True)
    for (start, end), h in zip(consistency_proof_ranges(old, new), proof, strict=True):
        parts = [
            naive_mth(LEAVES[i << lvl : (i + 1) << lvl]) for lvl, i in range_subtrees(start, end)
        ]
        assert range_hash(parts) == h == naive_mth(LEAVES[start:end])
    old_root, new_root = root_of(old), root_of(new)
    verify_consistency(
        old_size=old, new_size=new, old_root=old_root, new_root=new_root, proof=proof
    )
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        with pytest.raises(ProofError):
            verify_consistency(
                old_size=old, new_size=new, old_root=old_root, new_root=new_root, proof=bad
            )
    if old < new:
        with pytest.raises(ProofError):
            verify_consistency(
                old_size=old, new_size=new, old_root=old_root, new_root=new_root, proof=proof[:-1]
            )
        with pytest.raises(ProofError):
            verify_consistency(
                old_size=old, new_size=new, old_root=new_root, new_root=new_root, proof=proof
            )
        with pytest.raises(ProofError):
            verify_consistency(
                old_size=old, new_size=new, old_root=old_root, new_root=old_root, proof=proof
            )


def test_all_inclusion_proofs_of_small_trees():
    for size in range(1, 65):
        for index in range(size):
            _check_inclusion(index, size)


def test_all_consistency_proofs_of_small_trees():
    for new in range(1, 65):
        for old in range(1, new + 1):
            _check_consistency(old, new)


@settings(max_examples=300)
@given(data=st.data())
def test_inclusion_proofs_up_to_max_size(data: st.DataObject):
    size = data.draw(st.integers(1, MAX_SIZE))
    _check_inclusion(data.draw(st.integers(0, size - 1)), size)


@settings(max_examples=300)
@given(data=st.data())
def test_consistency_proofs_up_to_max_size(data: st.DataObject):
    new = data.draw(st.integers(1, MAX_SIZE))
    _check_consistency(data.draw(st.integers(1, new)), new)


def test_proof_ranges_reject_impossible_arguments():
    with pytest.raises(ValueError, match="not in a tree of size 5"):
        inclusion_proof_ranges(5, 5)
    with pytest.raises(ValueError, match="no leaves"):
        inclusion_proof_ranges(0, 0)
    with pytest.raises(ValueError, match="larger than new size"):
        consistency_proof_ranges(6, 5)
    with pytest.raises(ValueError, match="non-empty"):
        consistency_proof_ranges(0, 5)
    assert consistency_proof_ranges(5, 5) == []


def test_verify_rejects_malformed_proof_elements():
    proof = inclusion_proof(3, 8, LEAVES)
    with pytest.raises(ProofError, match="proof element 1 is 31 bytes"):
        verify_inclusion(
            index=3,
            size=8,
            leaf_hash=LEAVES[3],
            proof=[proof[0], proof[1][:31], proof[2]],
            root=root_of(8),
        )
