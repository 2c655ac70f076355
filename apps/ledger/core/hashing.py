"""RFC 6962 / RFC 9162 hashing with SHA-256 (ledger format §3)."""

from __future__ import annotations

from hashlib import sha256

__all__ = ["EMPTY_ROOT", "HASH_SIZE", "leaf_hash", "node_hash"]

HASH_SIZE = 32

#: Root of the empty tree: SHA-256 of the empty string.
EMPTY_ROOT: bytes = sha256(b"").digest()


def leaf_hash(entry_bytes: bytes) -> bytes:
    """Leaf hash of one entry: ``SHA-256(0x00 || entry_bytes)``."""
    return sha256(b"\x00" + entry_bytes).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node hash: ``SHA-256(0x01 || left || right)``."""
    return sha256(b"\x01" + left + right).digest()
