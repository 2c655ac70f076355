"""RFC 6962 / RFC 9162 §2.1 Merkle trees: tree hash, proofs and compact ranges.

Positions in the tree are described two ways:

* a *leaf range* ``(start, end)`` is the half-open range of leaf indices ``[start, end)``;
* a *subtree* ``(level, index)`` is the complete, aligned subtree holding leaves
  ``[index * 2**level, (index + 1) * 2**level)``; level 0 is a single leaf.

Proof generation is split in two steps so that storage can serve proofs without
loading the tree: :func:`inclusion_proof_ranges` / :func:`consistency_proof_ranges`
say which leaf ranges' hashes make up a proof, :func:`range_subtrees` says which
stored complete subtrees make up each range, and :func:`range_hash` combines them.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256

from .hashing import EMPTY_ROOT, HASH_SIZE, node_hash

__all__ = [
    "CompactRange",
    "ProofError",
    "consistency_proof",
    "consistency_proof_ranges",
    "inclusion_proof",
    "inclusion_proof_ranges",
    "range_hash",
    "range_subtrees",
    "tree_hash",
    "verify_consistency",
    "verify_inclusion",
]


class ProofError(ValueError):
    """An inclusion or consistency proof does not verify."""


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (RFC 6962's ``k``), for n >= 2."""
    return 1 << ((n - 1).bit_length() - 1)


def tree_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle Tree Hash of a list of leaf hashes.

    Hashes level by level, carrying an unpaired last node up unchanged; this gives the
    same root as RFC 6962's recursive split and needs one pass per level.
    """
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        paired = len(level) & ~1
        it = iter(level[:paired])
        nxt = [sha256(b"\x01" + left + right).digest() for left, right in zip(it, it, strict=True)]
        if paired != len(level):
            nxt.append(level[-1])
        level = nxt
    return level[0]


def range_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Decompose the leaf range ``[start, end)`` into maximal aligned complete subtrees.

    Returns ``(level, index)`` pairs from left to right. ``range_subtrees(0, size)``
    is the right edge (frontier) of a tree of ``size`` leaves.
    """
    if start < 0 or end < start:
        raise ValueError(f"invalid leaf range [{start}, {end})")
    out: list[tuple[int, int]] = []
    while start < end:
        fits = (end - start).bit_length() - 1
        # A subtree starting at ``start`` can be no larger than start's alignment.
        level = fits if start == 0 else min(fits, (start & -start).bit_length() - 1)
        out.append((level, start >> level))
        start += 1 << level
    return out


def range_hash(subtree_hashes: Sequence[bytes]) -> bytes:
    """Combine the hashes of a range's :func:`range_subtrees`, right to left.

    This is the RFC 6962 MTH of the leaves in the range for every range that starts
    at 0 and for every range returned by the proof-range functions (they start at a
    multiple of a power of two at least as large as the range). ``EMPTY_ROOT`` for
    an empty range.
    """
    if not subtree_hashes:
        return EMPTY_ROOT
    acc = subtree_hashes[-1]
    for h in reversed(subtree_hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_proof_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose hashes form the RFC 9162 §2.1.3.1 inclusion proof of ``index``.

    In proof order: the leaf's sibling first, the root's child last.
    """
    if size < 1:
        raise ValueError(f"tree size {size} has no leaves to prove")
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            out.append((mid, hi))
            hi = mid
        else:
            out.append((lo, mid))
            lo = mid
    out.reverse()
    return out


def consistency_proof_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose hashes form the RFC 9162 §2.1.4.1 consistency proof.

    In proof order (leaf side first). Empty when the sizes are equal. A proof from
    the empty tree does not exist (every tree extends it), so ``old_size`` must be
    at least 1.
    """
    if old_size < 1:
        raise ValueError(f"old size {old_size}: consistency proofs start from a non-empty tree")
    if new_size < old_size:
        raise ValueError(f"old size {old_size} is larger than new size {new_size}")
    out: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, new_size, old_size, True
    # Iterative RFC 6962 SUBPROOF(m, D[lo:hi], complete); m is relative to lo.
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
            m -= k
            complete = False
    if not complete:
        out.append((lo, hi))
    out.reverse()
    return out


def _hash_ranges(ranges: list[tuple[int, int]], leaf_hashes: Sequence[bytes]) -> list[bytes]:
    return [tree_hash(leaf_hashes[start:end]) for start, end in ranges]


def inclusion_proof(index: int, size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Inclusion proof of leaf ``index`` in the tree of the first ``size`` leaf hashes."""
    if len(leaf_hashes) < size:
        raise ValueError(f"need {size} leaf hashes, got {len(leaf_hashes)}")
    return _hash_ranges(inclusion_proof_ranges(index, size), leaf_hashes)


def consistency_proof(old_size: int, new_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Consistency proof between the trees of the first ``old_size`` and ``new_size`` leaves."""
    if len(leaf_hashes) < new_size:
        raise ValueError(f"need {new_size} leaf hashes, got {len(leaf_hashes)}")
    return _hash_ranges(consistency_proof_ranges(old_size, new_size), leaf_hashes)


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for i, h in enumerate(proof):
        if len(h) != HASH_SIZE:
            raise ProofError(f"proof element {i} is {len(h)} bytes, not {HASH_SIZE}")


def verify_inclusion(
    *, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Verify an inclusion proof exactly as RFC 9162 §2.1.3.2; raise ProofError if it fails."""
    if index < 0 or size < 0:
        raise ProofError(f"negative index {index} or size {size}")
    if index >= size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    if len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"leaf hash is {len(leaf_hash)} bytes, not {HASH_SIZE}")
    _check_proof_hashes(proof)
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof has too many elements")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof has too few elements")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root hash")


def verify_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Verify a consistency proof exactly as RFC 9162 §2.1.4.2; raise ProofError if it fails.

    Equal sizes need an empty proof and equal roots. RFC 9162 defines the proof only
    for ``0 < old_size``: a claim of consistency with the empty tree proves nothing,
    so it is rejected (callers compare the old root with ``EMPTY_ROOT`` themselves).
    """
    if old_size < 0 or new_size < 0:
        raise ProofError(f"negative tree size {old_size} or {new_size}")
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == 0:
        raise ProofError("old size is 0: there is no consistency proof from the empty tree")
    if old_size == new_size:
        if proof:
            raise ProofError("sizes are equal but the consistency proof is not empty")
        if old_root != new_root:
            raise ProofError("sizes are equal but the roots differ")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    _check_proof_hashes(proof)
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof has too many elements")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof has too few elements")
    if fr != old_root:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("consistency proof does not lead to the new root")


class CompactRange:
    """The right edge of a tree: the hashes of ``range_subtrees(0, size)``, largest first.

    Enough to append leaves and compute the root without the rest of the tree.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0:
            raise ValueError(f"negative size {size}")
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a compact range of size {size} has {size.bit_count()} hashes, got {len(hashes)}"
            )
        for h in hashes:
            if len(h) != HASH_SIZE:
                raise ValueError(f"hash of {len(h)} bytes, not {HASH_SIZE}")
        self._size = size
        self._hashes = [bytes(h) for h in hashes]

    @property
    def size(self) -> int:
        """Number of leaves covered."""
        return self._size

    @property
    def hashes(self) -> list[bytes]:
        """A copy of the subtree hashes, left (largest) to right."""
        return list(self._hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf; return the complete subtrees it completes, level 0 first.

        The first item is the leaf itself, ``(0, size_before, leaf_hash)``.
        """
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash of {len(leaf_hash)} bytes, not {HASH_SIZE}")
        index = self._size
        level = 0
        cur = bytes(leaf_hash)
        out = [(0, index, cur)]
        hashes = self._hashes
        # While the new node is a right child, its left sibling is the last hash.
        while index & 1:
            cur = node_hash(hashes.pop(), cur)
            level += 1
            index >>= 1
            out.append((level, index, cur))
        hashes.append(cur)
        self._size += 1
        return out

    def root(self) -> bytes:
        """Root hash of the tree of ``size`` leaves (``EMPTY_ROOT`` when empty)."""
        return range_hash(self._hashes)

    def to_bytes(self) -> bytes:
        """The hashes concatenated (32 bytes each), for storage next to ``size``."""
        return b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> CompactRange:
        """Inverse of :meth:`to_bytes`."""
        if len(data) != HASH_SIZE * size.bit_count():
            raise ValueError(
                f"a compact range of size {size} needs {HASH_SIZE * size.bit_count()} bytes,"
                f" got {len(data)}"
            )
        return cls(size, [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)])

    def copy(self) -> CompactRange:
        """An independent copy."""
        return CompactRange(self._size, self._hashes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    def __hash__(self) -> int:
        return hash((self._size, tuple(self._hashes)))

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"
