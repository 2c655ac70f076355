"""C2SP tlog-checkpoint v1.0.0 checkpoints, as the ledger uses them (ledger format §4).

The note text is exactly three lines: origin, tree size (ASCII decimal, no leading
zeros) and base64 root hash. The ledger never writes extension lines, so a verifier
of ledger checkpoints rejects them.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .hashing import HASH_SIZE
from .note import (
    NoteSigner,
    NoteVerifier,
    b64decode_strict,
    is_valid_key_name,
    open_note,
    sign_note,
)

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "open_checkpoint",
    "parse_checkpoint",
    "sign_checkpoint",
]

_SIZE = re.compile(r"0|[1-9][0-9]*")


class CheckpointError(ValueError):
    """A checkpoint's text is malformed."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: the log's origin, its size and its RFC 6962 root hash."""

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.origin):
            raise CheckpointError(f"invalid origin {self.origin!r}")
        if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 0:
            raise CheckpointError(f"invalid tree size {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise CheckpointError(f"root hash must be {HASH_SIZE} bytes")

    def to_text(self) -> str:
        """The note text: three lines, each ending in a newline."""
        root = base64.b64encode(self.root).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse checkpoint note text strictly (three lines, no extension lines)."""
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint text must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) != 3:
        raise CheckpointError(f"checkpoint text must be exactly 3 lines, got {len(lines)}")
    origin, size, root = lines
    if not is_valid_key_name(origin):
        raise CheckpointError(f"invalid origin line {origin!r}")
    if not _SIZE.fullmatch(size):
        raise CheckpointError(f"invalid tree size line {size!r}")
    raw = b64decode_strict(root, what="checkpoint root hash", error=CheckpointError)
    if len(raw) != HASH_SIZE:
        raise CheckpointError(f"checkpoint root hash is {len(raw)} bytes, not {HASH_SIZE}")
    return Checkpoint(origin=origin, size=int(size), root=raw)


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[NoteSigner]) -> str:
    """The signed note of ``checkpoint`` (the log signs with keys named after its origin)."""
    return sign_note(checkpoint.to_text(), signers)


def open_checkpoint(
    note: str, verifiers: Sequence[NoteVerifier]
) -> tuple[Checkpoint, list[NoteVerifier]]:
    """Verify a signed checkpoint note and parse its text.

    Raises NoteError for signature problems and CheckpointError for a malformed text.
    """
    text, verified = open_note(note, verifiers)
    return parse_checkpoint(text), verified
