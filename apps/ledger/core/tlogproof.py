"""C2SP tlog-proof v1 files for one entry (ledger format §7).

::

    c2sp.org/tlog-proof@v1
    extra <base64(entry bytes)>
    index <seq>
    <base64 hash>            (inclusion proof, leaf's sibling first)
    ...
    <empty line>
    <checkpoint note, verbatim>

The ledger always writes the ``extra`` line with the entry's canonical bytes, so the
file alone proves the entry; :func:`parse_tlog_proof` therefore requires it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .checkpoint import Checkpoint, CheckpointError, open_checkpoint
from .entry import EntryError, parse_entry
from .hashing import HASH_SIZE, leaf_hash
from .merkle import ProofError, verify_inclusion
from .note import NoteError, NoteVerifier, b64decode_strict

__all__ = [
    "TLOG_PROOF_HEADER",
    "TlogProof",
    "TlogProofError",
    "format_tlog_proof",
    "parse_tlog_proof",
    "verify_tlog_proof",
]

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
_INDEX = re.compile(r"index (0|[1-9][0-9]*)")
MAX_PROOF_HASHES = 64  # a tree of 2**64 leaves has at most 64 levels


class TlogProofError(ValueError):
    """A tlog-proof file is malformed or does not verify."""


@dataclass(frozen=True, slots=True)
class TlogProof:
    """The parts of a tlog-proof file; nothing in it is verified yet."""

    extra: bytes
    index: int
    proof: tuple[bytes, ...]
    checkpoint_note: str


def format_tlog_proof(
    *, entry_bytes: bytes, index: int, proof: Sequence[bytes], checkpoint_note: str
) -> str:
    """The tlog-proof file text for the entry at ``index``."""
    if index < 0:
        raise TlogProofError(f"negative index {index}")
    for i, h in enumerate(proof):
        if len(h) != HASH_SIZE:
            raise TlogProofError(f"proof element {i} is {len(h)} bytes, not {HASH_SIZE}")
    if not checkpoint_note.endswith("\n"):
        raise TlogProofError("checkpoint note must end in a newline")
    lines = [
        TLOG_PROOF_HEADER,
        "extra " + base64.b64encode(entry_bytes).decode("ascii"),
        f"index {index}",
        *(base64.b64encode(h).decode("ascii") for h in proof),
        "",
    ]
    return "\n".join(lines) + "\n" + checkpoint_note


def parse_tlog_proof(text: str) -> TlogProof:
    """Split a tlog-proof file into its parts, strictly; verifies nothing."""
    header, sep, rest = text.partition("\n")
    if not sep or header != TLOG_PROOF_HEADER:
        raise TlogProofError(f"first line must be {TLOG_PROOF_HEADER!r}")
    line, sep, rest = rest.partition("\n")
    if not sep or not line.startswith("extra "):
        raise TlogProofError("second line must be 'extra <base64 entry bytes>'")
    extra = b64decode_strict(line[len("extra ") :], what="extra line", error=TlogProofError)
    line, sep, rest = rest.partition("\n")
    match = _INDEX.fullmatch(line)
    if not sep or not match:
        raise TlogProofError("third line must be 'index <decimal, no leading zeros>'")
    index = int(match.group(1))
    proof: list[bytes] = []
    while True:
        line, sep, rest = rest.partition("\n")
        if not sep:
            raise TlogProofError("missing empty line before the checkpoint")
        if not line:
            break
        if len(proof) == MAX_PROOF_HASHES:
            raise TlogProofError(f"more than {MAX_PROOF_HASHES} proof lines")
        h = b64decode_strict(line, what=f"proof line {len(proof) + 1}", error=TlogProofError)
        if len(h) != HASH_SIZE:
            raise TlogProofError(f"proof line {len(proof) + 1} is not a {HASH_SIZE}-byte hash")
        proof.append(h)
    if not rest:
        raise TlogProofError("missing checkpoint")
    return TlogProof(extra=extra, index=index, proof=tuple(proof), checkpoint_note=rest)


def verify_tlog_proof(
    text: str, verifiers: Sequence[NoteVerifier]
) -> tuple[Checkpoint, dict[str, Any]]:
    """Verify a tlog-proof file: checkpoint signature, inclusion, and the entry itself.

    Returns the checkpoint and the parsed entry (whose ``log`` is the checkpoint's
    origin and whose ``seq`` is the proof's index).
    """
    parsed = parse_tlog_proof(text)
    try:
        checkpoint, _ = open_checkpoint(parsed.checkpoint_note, verifiers)
    except (NoteError, CheckpointError) as exc:
        raise TlogProofError(f"checkpoint: {exc}") from None
    try:
        verify_inclusion(
            index=parsed.index,
            size=checkpoint.size,
            leaf_hash=leaf_hash(parsed.extra),
            proof=parsed.proof,
            root=checkpoint.root,
        )
    except ProofError as exc:
        raise TlogProofError(f"inclusion proof: {exc}") from None
    try:
        entry = parse_entry(parsed.extra, origin=checkpoint.origin)
    except EntryError as exc:
        raise TlogProofError(f"entry: {exc}") from None
    if entry["seq"] != parsed.index:
        raise TlogProofError(
            f"entry has seq {entry['seq']} but the proof is for index {parsed.index}"
        )
    return checkpoint, entry
