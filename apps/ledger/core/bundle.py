"""Export bundles (ledger format §5): a ZIP of one log's entries up to a checkpoint.

:func:`write_bundle` streams: entries are read from an iterable once, written into
``entries.jsonl`` while their SHA-256 and tree root are computed, and never held
in memory together. ``MANIFEST.json`` is written last and covers every other file.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

import rfc8785

from .checkpoint import CheckpointError, parse_checkpoint
from .entry import format_time
from .hashing import HASH_SIZE, leaf_hash
from .merkle import CompactRange
from .note import NoteVerifier

__all__ = [
    "BUNDLE_FORMAT",
    "ENTRIES_PATH",
    "KEYS_PATH",
    "MANIFEST_PATH",
    "VERIFY_MD_PATH",
    "checkpoint_path",
    "proof_path",
    "split_note",
    "verifier_sources",
    "write_bundle",
]

BUNDLE_FORMAT = "ledger-export/v1"
MANIFEST_PATH = "MANIFEST.json"
ENTRIES_PATH = "entries.jsonl"
KEYS_PATH = "keys.vkey"
VERIFY_MD_PATH = "VERIFY.md"
VERIFIER_DIR = "verifier/"

_EMPTY: Mapping = MappingProxyType({})
_SAFE_SOURCE_PATH = re.compile(r"[A-Za-z0-9_]+(?:/[A-Za-z0-9_]+)*\.py")
# The package markers in the bundle are written fresh rather than copied, so that
# nothing the service keeps in them (Django app config) can reach the auditor's Python.
_PACKAGE_MARKER = (
    b'"""Offline verifier for ledger export bundles (copied from the ledger service)."""\n'
)


def checkpoint_path(size: int) -> str:
    """Path of the checkpoint of ``size`` inside a bundle."""
    return f"checkpoints/{size}.note"


def proof_path(seq: int) -> str:
    """Path of the tlog-proof of entry ``seq`` inside a bundle."""
    return f"proofs/{seq}.tlog-proof"


def split_note(note: str) -> str:
    """The text part of a signed note (before the last blank line), unverified."""
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("malformed note: no blank line before the signatures")
    return note[: split + 1]


def verifier_sources() -> dict[str, bytes]:
    """Files for a bundle's ``verifier/`` folder, keyed by path relative to it.

    With them, ``cd verifier && python -m apps.ledger.offline_verifier ../bundle.zip`` runs from
    the bundle alone (plus the ``cryptography`` and ``rfc8785`` packages).
    """
    core = Path(__file__).resolve().parent
    ledger = core.parent
    files = {
        "apps/__init__.py": _PACKAGE_MARKER,
        "apps/ledger/__init__.py": _PACKAGE_MARKER,
    }
    for path in sorted(core.glob("*.py")):
        files[f"apps/ledger/core/{path.name}"] = path.read_bytes()
    files["apps/ledger/offline_verifier.py"] = (ledger / "offline_verifier.py").read_bytes()
    return files


def _zip_info(name: str, created: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_zip_time(created))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _zip_time(created: datetime) -> tuple[int, int, int, int, int, int]:
    # ZIP timestamps are local-time fields without a zone; we write UTC (and at least
    # 1980, the format's epoch).
    text = format_time(created)
    year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
    hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    if year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (year, month, day, hour, minute, second)


def write_bundle(
    fileobj: BinaryIO,
    *,
    origin: str,
    tree_size: int,
    root: bytes,
    entries: Iterable[bytes],
    checkpoints: Mapping[int, str],
    vkeys: Sequence[str],
    created: datetime,
    proofs: Mapping[int, str] = _EMPTY,
    verify_md: str,
    verifier_sources: Mapping[str, bytes] = _EMPTY,
) -> None:
    """Write the export bundle of ``origin`` up to ``tree_size`` into ``fileobj``.

    ``entries`` must yield the canonical bytes of entries 0..tree_size-1 in order;
    ``checkpoints`` maps sizes to signed checkpoint notes and must include
    ``tree_size`` with root ``root``; ``proofs`` maps seqs to tlog-proof files;
    ``verifier_sources`` maps paths (as from :func:`verifier_sources`) to file bytes,
    written under ``verifier/``. Raises ValueError when the inputs do not agree, in
    which case the ZIP is left without a manifest and will not verify.
    """
    _check_inputs(
        origin=origin,
        tree_size=tree_size,
        root=root,
        checkpoints=checkpoints,
        vkeys=vkeys,
        proofs=proofs,
        verifier_sources=verifier_sources,
    )

    digests: dict[str, str] = {}
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as zf:

        def put(name: str, data: bytes) -> None:
            zf.writestr(_zip_info(name, created), data)
            digests[name] = hashlib.sha256(data).hexdigest()

        put(VERIFY_MD_PATH, verify_md.encode("utf-8"))
        put(KEYS_PATH, "".join(f"{v}\n" for v in vkeys).encode("utf-8"))
        for size in sorted(checkpoints):
            put(checkpoint_path(size), checkpoints[size].encode("utf-8"))
        for seq in sorted(proofs):
            put(proof_path(seq), proofs[seq].encode("utf-8"))

        digests[ENTRIES_PATH], tree = _write_entries(zf, entries, created)
        if tree.size != tree_size:
            raise ValueError(f"got {tree.size} entries, expected {tree_size}")
        if tree.root() != root:
            raise ValueError("the entries' tree hash does not equal the checkpoint root")

        for path in sorted(verifier_sources):
            put(VERIFIER_DIR + path, bytes(verifier_sources[path]))

        manifest = _manifest(
            origin=origin, tree_size=tree_size, root=root, digests=digests, created=created
        )
        zf.writestr(_zip_info(MANIFEST_PATH, created), manifest)


def _check_inputs(
    *,
    origin: str,
    tree_size: int,
    root: bytes,
    checkpoints: Mapping[int, str],
    vkeys: Sequence[str],
    proofs: Mapping[int, str],
    verifier_sources: Mapping[str, bytes],
) -> None:
    """Refuse, before anything is written, inputs that would make a bundle that does
    not verify (or that puts unexpected paths into it)."""
    if len(root) != HASH_SIZE:
        raise ValueError(f"root must be {HASH_SIZE} bytes")
    if tree_size not in checkpoints:
        raise ValueError(f"checkpoints must include the checkpoint of size {tree_size}")
    for size, note in checkpoints.items():
        checkpoint = parse_checkpoint(split_note(note))
        if checkpoint.origin != origin or checkpoint.size != size:
            raise ValueError(f"checkpoint given for size {size} is {checkpoint}")
        if size > tree_size:
            raise ValueError(f"checkpoint of size {size} is beyond the bundle's {tree_size}")
        if size == tree_size and checkpoint.root != root:
            raise ValueError(f"checkpoint of size {tree_size} does not have root {root.hex()}")
    for v in vkeys:
        NoteVerifier.from_vkey(v)  # refuse to export a key file the verifier would reject
    for seq in proofs:
        if not 0 <= seq < tree_size:
            raise ValueError(f"proof for seq {seq} is outside the bundle")
    for path in verifier_sources:
        if not _SAFE_SOURCE_PATH.fullmatch(path):
            raise ValueError(f"unexpected verifier source path {path!r}")


def _write_entries(
    zf: zipfile.ZipFile, entries: Iterable[bytes], created: datetime
) -> tuple[str, CompactRange]:
    """Stream the entries into ``entries.jsonl``; return its SHA-256 (hex) and the tree
    of the entries written."""
    digest = hashlib.sha256()
    tree = CompactRange()
    # force_zip64: the size is unknown until the end and may pass 4 GiB.
    with zf.open(_zip_info(ENTRIES_PATH, created), "w", force_zip64=True) as out:
        for body in entries:
            if b"\n" in body:
                raise ValueError(f"entry {tree.size} contains a newline")
            line = bytes(body) + b"\n"
            out.write(line)
            digest.update(line)
            tree.append(leaf_hash(body))
    return digest.hexdigest(), tree


def _manifest(
    *, origin: str, tree_size: int, root: bytes, digests: dict[str, str], created: datetime
) -> bytes:
    """``MANIFEST.json``: canonical JSON, so that it has one form only."""
    manifest = {
        "format": BUNDLE_FORMAT,
        "origin": origin,
        "tree_size": tree_size,
        "root": base64.b64encode(root).decode("ascii"),
        "files": digests,
        "created": format_time(created),
    }
    return rfc8785.dumps(manifest) + b"\n"
