"""Offline verifier for ledger export bundles and tlog-proof files.

Usage::

    python -m apps.ledger.offline_verifier BUNDLE.zip [--trusted-checkpoint FILE] [--vkey VKEY ...]
    python -m apps.ledger.offline_verifier proof FILE.tlog-proof --vkey VKEY [--vkey VKEY ...]
    python -m apps.ledger.offline_verifier receipt RECEIPT.json --vkey VKEY [--input ROW.json]

It needs only the standard library, ``cryptography`` and ``rfc8785``, and runs from
the copy that every bundle carries in ``verifier/``. It performs the checks of
ledger format §5 in order, prints one ``ok:`` line per check, and exits 0 only if
all of them hold; otherwise it prints one ``FAIL`` line naming the check and the
file or entry, and exits 1.

It imports no Django. The stored log in the service's database is checked by
:mod:`apps.ledger.stored_log_check` instead.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import multiprocessing
import os
import re
import sys
import zipfile
import zlib
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

import rfc8785

from apps.ledger.core.bundle import (
    BUNDLE_FORMAT,
    ENTRIES_PATH,
    KEYS_PATH,
    MANIFEST_PATH,
    VERIFY_MD_PATH,
    checkpoint_path,
    split_note,
)
from apps.ledger.core.checkpoint import CheckpointError, open_checkpoint, parse_checkpoint
from apps.ledger.core.entry import EntryError, parse_entry, parse_time
from apps.ledger.core.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash
from apps.ledger.core.merkle import (
    CompactRange,
    ProofError,
    range_hash,
    range_subtrees,
    verify_inclusion,
)
from apps.ledger.core.note import NoteError, NoteVerifier, b64decode_strict, is_valid_key_name
from apps.ledger.core.rows import row_input_sha256
from apps.ledger.core.tlogproof import TlogProofError, parse_tlog_proof, verify_tlog_proof

__all__ = ["VerifyReport", "main", "verify_bundle", "verify_proof_file", "verify_receipt"]

_CHECKPOINT_NAME = re.compile(r"checkpoints/(0|[1-9][0-9]*)\.note")
_PROOF_NAME = re.compile(r"proofs/(0|[1-9][0-9]*)\.tlog-proof")
_VERIFIER_NAME = re.compile(r"verifier/[A-Za-z0-9_]+(?:/[A-Za-z0-9_]+)*\.py")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MANIFEST_KEYS = frozenset({"format", "origin", "tree_size", "root", "files", "created"})
_MAX_SMALL_FILE = 64 << 20  # every file but entries.jsonl is read whole
_READ_BLOCK = 4 << 20
_CHUNK_LINES = 1 << 14  # entries per task; a power of two so chunks are whole subtrees
_PARALLEL_MIN_BYTES = 16 << 20  # below this, worker start-up costs more than it saves


# What reading a damaged or unusual ZIP member can raise (NotImplementedError: an
# unsupported compression method).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError)


class _Fail(Exception):
    """A failed check; its message is the text after ``FAIL``."""


@dataclass
class VerifyReport:
    """Outcome of :func:`verify_bundle`: the checks that held, and the first that failed."""

    ok: bool = False
    checks: list[str] = field(default_factory=list)
    failure: str | None = None
    origin: str | None = None
    tree_size: int | None = None
    root: bytes | None = None
    trusted_vkeys: list[str] = field(default_factory=list)
    keys_from_bundle: bool = False

    @property
    def lines(self) -> list[str]:
        """What the CLI prints: one line per check, then ``OK ...`` or one ``FAIL`` line."""
        out = list(self.checks)
        if self.ok:
            root = base64.b64encode(self.root or b"").decode("ascii")
            out.append(
                f"OK bundle verifies: origin {self.origin}, {self.tree_size} entries, root {root}"
            )
        else:
            out.append(f"FAIL {self.failure}")
        return out


# --- the entries pass -------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    first_seq: int
    blob: bytes  # the chunk's lines, each ending in b"\n"
    origin: str
    partial_sizes: tuple[int, ...]  # tree sizes ending strictly inside this chunk
    leaf_seqs: tuple[int, ...]  # seqs whose leaf hashes are wanted
    chunk_lines: int


@dataclass
class _ChunkResult:
    first_seq: int
    count: int = 0
    error: tuple[int, str] | None = None
    first_prev: str = ""
    first_time: str = ""
    last_leaf: bytes = b""
    last_time: str = ""
    chunk_root: bytes | None = None
    partials: dict[int, list[bytes]] = field(default_factory=dict)
    leaves: dict[int, bytes] = field(default_factory=dict)


def _check_chunk(task: _Task) -> _ChunkResult:
    """Check one chunk of entries: validity, seq, chain and time within the chunk.

    Links to the previous chunk (first entry's ``prev`` and ``time``) are checked by
    the caller, which sees chunks in order.
    """
    lines = task.blob.split(b"\n")
    lines.pop()  # the empty string after the last newline
    first = task.first_seq
    res = _ChunkResult(first_seq=first, count=len(lines))
    leaves: list[bytes] = []
    append = leaves.append
    origin = task.origin
    last_hex = ""
    last_time = ""
    seq = first
    for line in lines:
        try:
            obj = parse_entry(line, origin=origin)
        except EntryError as exc:
            res.error = (seq, str(exc))
            return res
        if obj["seq"] != seq:
            res.error = (
                seq,
                f"entry has seq {obj['seq']}; entries must run 0..N-1 in order"
                " (one missing, inserted or moved)",
            )
            return res
        leaf = sha256(b"\x00" + line).digest()
        time = obj["time"]
        if seq == first:
            res.first_prev = obj["prev"]
            res.first_time = time
        else:
            if obj["prev"] != last_hex:
                res.error = (seq, f"prev does not link to seq {seq - 1}")
                return res
            # Fixed-width RFC 3339 UTC text sorts as time does.
            if time < last_time:
                res.error = (seq, f"time {time} is before seq {seq - 1}'s {last_time}")
                return res
        last_hex = leaf.hex()
        last_time = time
        append(leaf)
        seq += 1
    res.last_leaf = leaves[-1]
    res.last_time = last_time
    _hash_chunk(task, leaves, res)
    return res


def _hash_chunk(task: _Task, leaves: list[bytes], res: _ChunkResult) -> None:
    """Keep the chunk's wanted leaf hashes, its root when it is whole, and the subtrees
    of every tree size that ends inside it, for :class:`_Combiner`."""
    first = task.first_seq
    for s in task.leaf_seqs:
        if first <= s < first + len(leaves):
            res.leaves[s] = leaves[s - first]
    full = len(leaves) == task.chunk_lines
    sizes = [s for s in task.partial_sizes if s <= first + len(leaves)]
    if full or sizes:
        levels = [leaves]
        while len(levels[-1]) > 1:
            below = levels[-1]
            it = iter(below[: len(below) & ~1])
            levels.append([sha256(b"\x01" + a + b).digest() for a, b in zip(it, it, strict=True)])
        if full:
            res.chunk_root = levels[-1][0]
        for s in sizes:
            res.partials[s] = [
                levels[level][index - (first >> level)] for level, index in range_subtrees(first, s)
            ]


@dataclass
class _Scan:
    count: int = 0
    digest: str = ""
    error: tuple[int, str] | None = None
    roots: dict[int, bytes] = field(default_factory=dict)
    leaves: dict[int, bytes] = field(default_factory=dict)


class _Combiner:
    """Folds chunk results, in order, into links across chunks and prefix roots."""

    def __init__(self, sizes: set[int], chunk_lines: int) -> None:
        self.scan = _Scan()
        self.sizes = sizes
        self.chunk_lines = chunk_lines
        self.chunks = CompactRange()  # over chunk roots: the frontier at chunk granularity
        self.last_leaf = b""
        self.last_time = ""
        if 0 in sizes:
            self.scan.roots[0] = EMPTY_ROOT

    def add(self, res: _ChunkResult) -> None:
        scan = self.scan
        if scan.error is not None:
            return
        first = res.first_seq
        if res.error is not None and res.error[0] == first:
            scan.error = res.error
            return
        if first > 0:
            if res.first_prev != self.last_leaf.hex():
                scan.error = (first, f"prev does not link to seq {first - 1}")
                return
            if res.first_time < self.last_time:
                scan.error = (
                    first,
                    f"time {res.first_time} is before seq {first - 1}'s {self.last_time}",
                )
                return
        if res.error is not None:
            scan.error = res.error
            return
        head = self.chunks.hashes
        for s, partial in res.partials.items():
            scan.roots[s] = range_hash(head + partial)
        if res.chunk_root is not None:
            self.chunks.append(res.chunk_root)
            end = first + self.chunk_lines
            if end in self.sizes:
                scan.roots[end] = self.chunks.root()
        scan.leaves.update(res.leaves)
        scan.count = first + res.count
        self.last_leaf = res.last_leaf
        self.last_time = res.last_time


def _chunks(
    stream: Any, digest: Any, chunk_lines: int, on_tail: Callable[[bytes], None]
) -> Iterator[tuple[int, bytes]]:
    """Yield (first_seq, blob) per chunk of ``chunk_lines`` lines, hashing every byte read.

    A blob is whole lines, each ending in a newline. Blocks are cut by counting
    newlines rather than splitting into lines, which would cost the parent process
    a Python object per entry.
    """
    carry = b""
    parts: list[bytes] = []
    need = chunk_lines
    seq = 0
    while True:
        block = stream.read(_READ_BLOCK)
        if not block:
            break
        digest.update(block)
        data = carry + block
        cut = data.rfind(b"\n") + 1
        carry = data[cut:]
        data = data[:cut]
        while data:
            n = data.count(b"\n")
            if n < need:
                parts.append(data)
                need -= n
                break
            rest = data.split(b"\n", need)[-1]
            parts.append(data[: len(data) - len(rest)])
            yield seq, b"".join(parts)
            seq += chunk_lines
            parts = []
            need = chunk_lines
            data = rest
    if parts:
        yield seq, b"".join(parts)
    on_tail(carry)


def _scan_entries(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    *,
    origin: str,
    sizes: set[int],
    leaf_seqs: set[int],
    workers: int | None,
    chunk_lines: int,
) -> _Scan:
    if chunk_lines < 1 or chunk_lines & (chunk_lines - 1):
        raise ValueError("chunk_lines must be a power of two")
    if workers is None:
        workers = _default_workers(info.file_size)
    combiner = _Combiner(sizes, chunk_lines)
    digest = hashlib.sha256()
    tail: list[bytes] = []
    # Sorted once, so a bundle with a checkpoint per transaction costs a bisection
    # per chunk rather than a scan of every size.
    sorted_sizes = sorted(sizes)
    sorted_seqs = sorted(leaf_seqs)

    def task(first: int, blob: bytes) -> _Task:
        end = first + chunk_lines
        return _Task(
            first_seq=first,
            blob=blob,
            origin=origin,
            partial_sizes=tuple(
                sorted_sizes[bisect_right(sorted_sizes, first) : bisect_left(sorted_sizes, end)]
            ),
            leaf_seqs=tuple(
                sorted_seqs[bisect_left(sorted_seqs, first) : bisect_left(sorted_seqs, end)]
            ),
            chunk_lines=chunk_lines,
        )

    try:
        with zf.open(info) as stream:
            chunks = _chunks(stream, digest, chunk_lines, tail.append)
            if workers <= 1:
                for first, blob in chunks:
                    if combiner.scan.error is None:
                        combiner.add(_check_chunk(task(first, blob)))
            else:
                _scan_parallel(chunks, task, combiner, workers)
    except _ZIP_ERRORS as exc:
        raise _Fail(f"{ENTRIES_PATH}: cannot read it from the ZIP: {exc}") from None
    scan = combiner.scan
    scan.digest = digest.hexdigest()
    if tail and tail[0] and scan.error is None:
        scan.error = (scan.count, "last line does not end in a newline")
    return scan


def _scan_parallel(
    chunks: Iterator[tuple[int, bytes]],
    task: Callable[[int, bytes], _Task],
    combiner: _Combiner,
    workers: int,
) -> None:
    # A bounded window of tasks in flight keeps memory flat however big the log is.
    window = 2 * workers + 1
    pending: deque[Any] = deque()
    with multiprocessing.get_context().Pool(workers) as pool:
        for first, blob in chunks:
            if combiner.scan.error is not None:
                continue  # keep reading: the file's digest is checked first
            pending.append(pool.apply_async(_check_chunk, (task(first, blob),)))
            while len(pending) >= window:
                combiner.add(pending.popleft().get())
        while pending:
            combiner.add(pending.popleft().get())


def _default_workers(uncompressed_size: int) -> int:
    if uncompressed_size < _PARALLEL_MIN_BYTES:
        return 1
    if multiprocessing.current_process().daemon:
        return 1  # daemonic processes (e.g. task-queue workers) may not have children
    return max(1, min(os.cpu_count() or 1, 8))


# --- reading the bundle -----------------------------------------------------------


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@dataclass
class _Manifest:
    origin: str
    tree_size: int
    root: bytes
    files: dict[str, str]


def _parse_manifest(data: bytes) -> _Manifest:
    where = MANIFEST_PATH
    try:
        obj = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _Fail(f"{where}: not valid JSON: {exc}") from None
    if not isinstance(obj, dict) or obj.keys() != _MANIFEST_KEYS:
        raise _Fail(f"{where}: must hold exactly the keys {', '.join(sorted(_MANIFEST_KEYS))}")
    if obj["format"] != BUNDLE_FORMAT:
        raise _Fail(f"{where}: format is {obj['format']!r}, this verifier reads {BUNDLE_FORMAT!r}")
    origin = obj["origin"]
    if not isinstance(origin, str) or not is_valid_key_name(origin):
        raise _Fail(f"{where}: origin is not a valid log origin")
    size = obj["tree_size"]
    if type(size) is not int or size < 0:
        raise _Fail(f"{where}: tree_size is not a non-negative integer")
    root_text = obj["root"]
    if not isinstance(root_text, str):
        raise _Fail(f"{where}: root is not a string")
    try:
        root = b64decode_strict(root_text, what="root")
    except ValueError as exc:
        raise _Fail(f"{where}: {exc}") from None
    if len(root) != HASH_SIZE:
        raise _Fail(f"{where}: root is not a {HASH_SIZE}-byte hash")
    files = obj["files"]
    if not isinstance(files, dict) or not all(
        isinstance(v, str) and _HEX64.fullmatch(v) for v in files.values()
    ):
        raise _Fail(f"{where}: files must map paths to lowercase hex SHA-256 digests")
    created = obj["created"]
    try:
        parse_time(created)
    except ValueError:
        raise _Fail(f"{where}: created is not RFC 3339 UTC with microseconds and Z") from None
    return _Manifest(origin=origin, tree_size=size, root=root, files=files)


def _decode_text(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Fail(f"{where}: not valid UTF-8") from None


def _parse_vkeys(text: str, where: str, origin: str) -> list[NoteVerifier]:
    if not text.endswith("\n"):
        raise _Fail(f"{where}: must be one verifier key per line, each ending in a newline")
    out: list[NoteVerifier] = []
    for n, line in enumerate(text[:-1].split("\n"), start=1):
        try:
            verifier = NoteVerifier.from_vkey(line)
        except NoteError as exc:
            raise _Fail(f"{where} line {n}: {exc}") from None
        if verifier.name != origin:
            raise _Fail(
                f"{where} line {n}: key name {verifier.name!r} is not the origin {origin!r}"
            )
        out.append(verifier)
    return out


def _claimed_size(note: str) -> int | None:
    """The size a checkpoint note claims, before anything is verified (for root planning)."""
    try:
        return parse_checkpoint(split_note(note)).size
    except CheckpointError:
        return None


def verify_bundle(
    path: str | os.PathLike[str],
    *,
    trusted_checkpoint: str | None = None,
    trusted_vkeys: Sequence[str] = (),
    workers: int | None = None,
    chunk_lines: int = _CHUNK_LINES,
) -> VerifyReport:
    """Verify an export bundle as ledger format §5 says; never raises for bad input.

    ``trusted_checkpoint`` is the text of a signed checkpoint obtained earlier (it need
    not be in the bundle); ``trusted_vkeys`` pins the keys checkpoints must verify
    with (otherwise the bundle's ``keys.vkey`` is trusted, and the report says so).
    ``workers`` sets the number of processes for the entries (default: one per CPU
    for large bundles, none for small ones).
    """
    report = VerifyReport()
    try:
        _verify_bundle(
            os.fspath(path),
            report,
            trusted_checkpoint=trusted_checkpoint,
            trusted_vkeys=trusted_vkeys,
            workers=workers,
            chunk_lines=chunk_lines,
        )
    except _Fail as exc:
        report.failure = str(exc)
        report.ok = False
    else:
        report.ok = True
    return report


def _verify_bundle(
    path: str,
    report: VerifyReport,
    *,
    trusted_checkpoint: str | None,
    trusted_vkeys: Sequence[str],
    workers: int | None,
    chunk_lines: int,
) -> None:
    pinned: list[NoteVerifier] = []
    for text in trusted_vkeys:
        try:
            pinned.append(NoteVerifier.from_vkey(text.strip()))
        except NoteError as exc:
            raise _Fail(f"--vkey {text.strip()!r}: {exc}") from None
    trusted_size: int | None = None
    if trusted_checkpoint is not None:
        trusted_size = _claimed_size(trusted_checkpoint)
        if trusted_size is None:
            raise _Fail("trusted checkpoint: not a signed checkpoint note")

    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise _Fail(f"{path}: no such file") from None
    except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError):
        raise _Fail(f"{path}: not a ZIP file (or a damaged one)") from None
    except OSError as exc:
        raise _Fail(f"{path}: cannot read: {exc.strerror or exc}") from None
    with zf:
        _verify_zip(
            zf,
            report,
            pinned=pinned,
            trusted_checkpoint=trusted_checkpoint,
            trusted_size=trusted_size,
            workers=workers,
            chunk_lines=chunk_lines,
        )


def _verify_zip(
    zf: zipfile.ZipFile,
    report: VerifyReport,
    *,
    pinned: list[NoteVerifier],
    trusted_checkpoint: str | None,
    trusted_size: int | None,
    workers: int | None,
    chunk_lines: int,
) -> None:
    """Run the checks of ledger format §5 in order; the first that fails raises _Fail.

    ``entries.jsonl`` is read once, by :func:`_scan_entries`: it takes the file's
    digest (check 1) and checks every entry (checks 2-5) as the file streams, and
    computes the tree roots and leaf hashes that the later checks compare against.
    """
    infos = _check_layout(zf)
    manifest = _parse_manifest(_read_small(zf, infos[MANIFEST_PATH]))
    report.origin, report.tree_size, report.root = (
        manifest.origin,
        manifest.tree_size,
        manifest.root,
    )
    _check_manifest_lists_every_file(manifest, infos)
    files = _check_file_digests(zf, infos, manifest)
    sizes, leaf_seqs = _hashes_wanted(manifest, files, trusted_size)
    scan = _scan_entries(
        zf,
        infos[ENTRIES_PATH],
        origin=manifest.origin,
        sizes=sizes,
        leaf_seqs=leaf_seqs,
        workers=workers,
        chunk_lines=chunk_lines,
    )
    _check_entries_digest(scan, manifest, report)
    _check_entries(scan, manifest, report)
    trusted = _trusted_keys(pinned, files.keys, report)
    _check_checkpoints(files.checkpoints, trusted, manifest, scan, report)
    _check_latest_checkpoint(files.checkpoints, manifest, scan, report)
    _check_trusted_checkpoint(trusted_checkpoint, trusted, manifest, scan, report)
    _check_proofs(files.proofs, trusted, manifest, scan, report)


def _check_layout(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Layout: unique names, no encryption, a manifest, only the paths the format defines."""
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        if info.filename in infos:
            raise _Fail(f"{info.filename}: appears twice in the ZIP")
        if info.flag_bits & 0x1:
            raise _Fail(f"{info.filename}: encrypted ZIP members are not allowed")
        infos[info.filename] = info
    if MANIFEST_PATH not in infos:
        raise _Fail(f"bundle: missing {MANIFEST_PATH}")
    for name in infos:
        if name in (MANIFEST_PATH, ENTRIES_PATH, KEYS_PATH, VERIFY_MD_PATH):
            continue
        if not (
            _CHECKPOINT_NAME.fullmatch(name)
            or _PROOF_NAME.fullmatch(name)
            or _VERIFIER_NAME.fullmatch(name)
        ):
            raise _Fail(f"{name}: unexpected file in a {BUNDLE_FORMAT} bundle")
    return infos


def _read_small(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member other than entries.jsonl, read whole (and refused when too large)."""
    name = info.filename
    if info.file_size > _MAX_SMALL_FILE:
        raise _Fail(f"{name}: too large ({info.file_size} bytes)")
    try:
        return zf.read(info)
    except _ZIP_ERRORS as exc:
        raise _Fail(f"{name}: cannot read it from the ZIP: {exc}") from None


def _check_manifest_lists_every_file(
    manifest: _Manifest, infos: dict[str, zipfile.ZipInfo]
) -> None:
    """Check 1, first half: the manifest lists exactly the files in the ZIP."""
    for name in manifest.files:
        if name not in infos:
            raise _Fail(f"bundle: missing {name} (listed in {MANIFEST_PATH})")
    for name in infos:
        if name != MANIFEST_PATH and name not in manifest.files:
            raise _Fail(f"{name}: not listed in {MANIFEST_PATH}")
    for name in (ENTRIES_PATH, KEYS_PATH):
        if name not in infos:
            raise _Fail(f"bundle: missing {name}")


@dataclass
class _Files:
    """The bundle's small files that later checks read, once their digests matched."""

    keys: list[NoteVerifier]  # from keys.vkey
    checkpoints: dict[int, str]  # size -> signed note
    proofs: dict[int, str]  # seq -> tlog-proof text


def _check_file_digests(
    zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], manifest: _Manifest
) -> _Files:
    """Check 1 for every file but entries.jsonl (whose digest is taken as it streams),
    then the reading of the files the later checks use."""
    contents: dict[str, bytes] = {}
    for name in sorted(infos):
        if name in (MANIFEST_PATH, ENTRIES_PATH):
            continue
        data = _read_small(zf, infos[name])
        if hashlib.sha256(data).hexdigest() != manifest.files[name]:
            raise _Fail(f"{name}: SHA-256 does not match {MANIFEST_PATH}")
        if not name.startswith("verifier/") and name != VERIFY_MD_PATH:
            contents[name] = data
    keys = _parse_vkeys(_decode_text(contents[KEYS_PATH], KEYS_PATH), KEYS_PATH, manifest.origin)
    files = _Files(keys=keys, checkpoints={}, proofs={})
    for name, data in contents.items():
        if m := _CHECKPOINT_NAME.fullmatch(name):
            files.checkpoints[int(m.group(1))] = _decode_text(data, name)
        elif m := _PROOF_NAME.fullmatch(name):
            files.proofs[int(m.group(1))] = _decode_text(data, name)
    return files


def _hashes_wanted(
    manifest: _Manifest, files: _Files, trusted_size: int | None
) -> tuple[set[int], set[int]]:
    """Every tree size whose root, and every seq whose leaf hash, a later check needs,
    so that the one pass over the entries computes them all."""
    sizes = {manifest.tree_size, *files.checkpoints}
    sizes.update(s for s in map(_claimed_size, files.checkpoints.values()) if s is not None)
    if trusted_size is not None:
        sizes.add(trusted_size)
    leaf_seqs = set(files.proofs)
    for text in files.proofs.values():
        try:
            parsed = parse_tlog_proof(text)
        except TlogProofError:
            continue  # reported when the proofs are checked
        leaf_seqs.add(parsed.index)
        claimed = _claimed_size(parsed.checkpoint_note)
        if claimed is not None:
            sizes.add(claimed)
    return sizes, leaf_seqs


def _check_entries_digest(scan: _Scan, manifest: _Manifest, report: VerifyReport) -> None:
    """Check 1, last file: entries.jsonl's digest, taken while it was scanned."""
    if scan.digest != manifest.files[ENTRIES_PATH]:
        raise _Fail(f"{ENTRIES_PATH}: SHA-256 does not match {MANIFEST_PATH}")
    report.checks.append(
        f"ok: {MANIFEST_PATH} covers all {len(manifest.files)} files; every SHA-256 matches"
    )


def _check_entries(scan: _Scan, manifest: _Manifest, report: VerifyReport) -> None:
    """Checks 2-5: canonical valid entries of this origin, seq 0..N-1, chain, time.

    The scan checked each entry in turn (:func:`_check_chunk`) and kept the first
    problem; this reports it, then checks the count against the manifest.
    """
    size = manifest.tree_size
    if scan.error is not None:
        seq, message = scan.error
        raise _Fail(f"{ENTRIES_PATH} seq {seq}: {message}")
    if scan.count != size:
        raise _Fail(
            f"{ENTRIES_PATH}: holds {scan.count} entries but {MANIFEST_PATH} tree_size is {size}"
        )
    span = f"seq 0..{size - 1}" if size else "no entries"
    report.checks.append(
        f"ok: {size} entries: canonical version-1 entries of {manifest.origin}, {span},"
        " chain links, time monotonic"
    )


def _trusted_keys(
    pinned: list[NoteVerifier], bundle_keys: list[NoteVerifier], report: VerifyReport
) -> list[NoteVerifier]:
    """The keys checks 6-8 trust: those given with --vkey, else the bundle's own."""
    if pinned:
        report.trusted_vkeys = [v.vkey for v in pinned]
        report.checks.append(f"ok: trusting {len(pinned)} key(s) given with --vkey")
        return pinned
    report.keys_from_bundle = True
    report.trusted_vkeys = [v.vkey for v in bundle_keys]
    report.checks.append(
        f"ok: trusting the {len(bundle_keys)} key(s) in {KEYS_PATH} from the bundle itself"
        " (no --vkey given; pass --vkey to pin the log's keys)"
    )
    return bundle_keys


def _check_checkpoints(
    checkpoints: dict[int, str],
    trusted: list[NoteVerifier],
    manifest: _Manifest,
    scan: _Scan,
    report: VerifyReport,
) -> None:
    """Check 6: every checkpoint is signed by a trusted key and its root is the tree
    hash of that many entries."""
    origin, size = manifest.origin, manifest.tree_size
    for cp_size in sorted(checkpoints):
        where = checkpoint_path(cp_size)
        try:
            checkpoint, _ = open_checkpoint(checkpoints[cp_size], trusted)
        except (NoteError, CheckpointError) as exc:
            raise _Fail(f"{where}: {exc}") from None
        if checkpoint.origin != origin:
            raise _Fail(f"{where}: origin {checkpoint.origin!r} is not {origin!r}")
        if checkpoint.size != cp_size:
            raise _Fail(f"{where}: holds tree size {checkpoint.size}, not {cp_size}")
        if cp_size > size:
            raise _Fail(f"{where}: tree size {cp_size} is beyond the bundle's {size} entries")
        if checkpoint.root != scan.roots[cp_size]:
            raise _Fail(
                f"{where}: root does not equal the tree hash of the first {cp_size} entries"
            )
    report.checks.append(
        f"ok: {len(checkpoints)} checkpoint(s) verify with a trusted key; each root equals"
        " the tree hash of that many entries"
    )


def _check_latest_checkpoint(
    checkpoints: dict[int, str], manifest: _Manifest, scan: _Scan, report: VerifyReport
) -> None:
    """Check 7: the checkpoint of size N exists and its root is the manifest's."""
    size = manifest.tree_size
    if size not in checkpoints:
        raise _Fail(f"bundle: missing {checkpoint_path(size)}, the checkpoint of size {size}")
    if scan.roots[size] != manifest.root:
        raise _Fail(f"{MANIFEST_PATH}: root is not the root of {checkpoint_path(size)}")
    root_text = base64.b64encode(manifest.root).decode("ascii")
    report.checks.append(
        f"ok: {checkpoint_path(size)} has {MANIFEST_PATH}'s tree size {size} and root {root_text}"
    )


def _check_trusted_checkpoint(
    trusted_checkpoint: str | None,
    trusted: list[NoteVerifier],
    manifest: _Manifest,
    scan: _Scan,
    report: VerifyReport,
) -> None:
    """Check 8: a checkpoint the auditor kept earlier is a prefix of the bundle (no
    rollback, no fork); without one, the report says this was not checked."""
    if trusted_checkpoint is None:
        report.checks.append(
            "note: no --trusted-checkpoint given: rollback and fork against a checkpoint"
            " you kept earlier were not checked"
        )
        return
    origin, size = manifest.origin, manifest.tree_size
    where = "trusted checkpoint"
    try:
        checkpoint, _ = open_checkpoint(trusted_checkpoint, trusted)
    except (NoteError, CheckpointError) as exc:
        raise _Fail(f"{where}: {exc}") from None
    if checkpoint.origin != origin:
        raise _Fail(f"{where}: origin {checkpoint.origin!r} is not {origin!r}")
    if checkpoint.size > size:
        raise _Fail(
            f"{where}: tree size {checkpoint.size} is larger than the bundle's {size}"
            " (rollback: entries the log had signed are missing)"
        )
    if checkpoint.root != scan.roots[checkpoint.size]:
        raise _Fail(
            f"{where}: root differs from the tree hash of the bundle's first"
            f" {checkpoint.size} entries (fork: the history was rewritten)"
        )
    report.checks.append(
        f"ok: trusted checkpoint of size {checkpoint.size} verifies and is a prefix of"
        " this bundle: no rollback, no fork"
    )


def _check_proofs(
    proofs: dict[int, str],
    trusted: list[NoteVerifier],
    manifest: _Manifest,
    scan: _Scan,
    report: VerifyReport,
) -> None:
    """Optional proofs: each must verify and prove the entry that is in the bundle."""
    origin, size = manifest.origin, manifest.tree_size
    for seq in sorted(proofs):
        where = f"proofs/{seq}.tlog-proof"
        try:
            checkpoint, _ = verify_tlog_proof(proofs[seq], trusted)
            parsed = parse_tlog_proof(proofs[seq])
        except TlogProofError as exc:
            raise _Fail(f"{where}: {exc}") from None
        if parsed.index != seq:
            raise _Fail(f"{where}: proves seq {parsed.index}, not {seq}")
        if checkpoint.origin != origin:
            raise _Fail(f"{where}: origin {checkpoint.origin!r} is not {origin!r}")
        if seq >= size or scan.leaves.get(seq) != leaf_hash(parsed.extra):
            raise _Fail(f"{where}: entry differs from {ENTRIES_PATH} seq {seq}")
        if checkpoint.size > size or scan.roots.get(checkpoint.size) != checkpoint.root:
            raise _Fail(f"{where}: checkpoint is not consistent with this bundle")
    if proofs:
        report.checks.append(
            f"ok: {len(proofs)} tlog-proof(s) verify and prove entries of {ENTRIES_PATH}"
        )


# --- single tlog-proof ------------------------------------------------------------


def verify_proof_file(text: str, trusted_vkeys: Sequence[str]) -> list[str]:
    """Verify one tlog-proof file; return the ``ok:`` lines, or raise ValueError."""
    verifiers = []
    for v in trusted_vkeys:
        try:
            verifiers.append(NoteVerifier.from_vkey(v.strip()))
        except NoteError as exc:
            raise ValueError(f"--vkey {v.strip()!r}: {exc}") from None
    if not verifiers:
        raise ValueError("give the log's verifier key with --vkey")
    checkpoint, entry = verify_tlog_proof(text, verifiers)
    root = base64.b64encode(checkpoint.root).decode("ascii")
    return [
        f"ok: checkpoint of {checkpoint.origin} at size {checkpoint.size} verifies"
        " with a trusted key",
        f"ok: entry seq {entry['seq']} is included in that tree (root {root})",
        f"ok: entry is canonical: type {entry['type']}, time {entry['time']}",
    ]


# --- command line -----------------------------------------------------------------

_PROG = "python -m apps.ledger.offline_verifier"


def _main_bundle(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Verify a ledger export bundle offline (ledger format v1, §5).",
        epilog="Subcommands: 'proof FILE.tlog-proof --vkey VKEY' verifies one tlog-proof.",
    )
    parser.add_argument("bundle", help="the export bundle (.zip)")
    parser.add_argument(
        "--trusted-checkpoint",
        metavar="FILE",
        help="a signed checkpoint you obtained earlier: the bundle must extend it",
    )
    parser.add_argument(
        "--vkey",
        action="append",
        default=[],
        metavar="VKEY",
        help="a verifier key of the log to trust (repeatable); default: the bundle's keys.vkey",
    )
    parser.add_argument("--workers", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    trusted_checkpoint = None
    if args.trusted_checkpoint is not None:
        trusted_checkpoint = _read_text(
            args.trusted_checkpoint, what=f"--trusted-checkpoint {args.trusted_checkpoint}"
        )
        if trusted_checkpoint is None:
            return 1
    report = verify_bundle(
        args.bundle,
        trusted_checkpoint=trusted_checkpoint,
        trusted_vkeys=args.vkey,
        workers=args.workers,
    )
    for line in report.lines:
        print(line)
    return 0 if report.ok else 1


def _main_proof(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"{_PROG} proof",
        description="Verify one C2SP tlog-proof file of a ledger entry offline.",
    )
    parser.add_argument("file", help="the .tlog-proof file")
    _add_trusted_vkeys(parser)
    args = parser.parse_args(argv)
    text = _read_text(args.file, what=args.file)
    if text is None:
        return 1
    return _print_verdict(args.file, lambda: verify_proof_file(text, args.vkey))


def _add_trusted_vkeys(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--vkey", action="append", required=True, metavar="VKEY", help="trusted log key"
    )


def _read_text(path: str, *, what: str) -> str | None:
    """The file's text, or None after printing the FAIL line that says why not."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not valid UTF-8"
        print(f"FAIL {what}: cannot read: {reason}")
        return None


def _print_verdict(file: str, verify: Callable[[], list[str]]) -> int:
    """Prints the ``ok:`` lines and the verdict of one verified file; the exit status."""
    try:
        lines = verify()
    except ValueError as exc:
        print(f"FAIL {file}: {exc}")
        return 1
    for line in lines:
        print(line)
    print(f"OK {file} verifies")
    return 0


# --- row receipt (spec §6) ---------------------------------------------------------

RECEIPT_FORMAT = "audit-platform/row-receipt@v1"
_BATCH_ENTRY_TYPES = ("prediction_batch.completed", "prediction_batch.recorded")
_LEAF_KEYS = frozenset({"row", "input_sha256", "output"})


def verify_receipt(
    receipt: dict[str, Any], trusted_vkeys: Sequence[str], row_input: Any = None
) -> list[str]:
    """Verify one decision's receipt: the batch entry's tlog-proof against a trusted
    key, the row's leaf in the batch's rows tree (``data.rows_root``), and, given the
    row's input, its digest. Returns the ``ok:`` lines, or raises ValueError."""
    row, leaf, proof, tlog_text = _parse_receipt(receipt)
    lines = verify_proof_file(tlog_text, trusted_vkeys)
    entry_obj = json.loads(parse_tlog_proof(tlog_text).extra)
    rows, root_hex = _batch_rows_root(entry_obj)
    leaf_obj = _parse_row_leaf(leaf, row)
    _check_row_inclusion(row=row, rows=rows, leaf=leaf, proof=proof, root_hex=root_hex)
    subject = entry_obj.get("subject", {})
    lines.append(
        f"ok: row {row} is leaf {row} of the {rows}-row tree of prediction batch "
        f"{subject.get('id')} (rows_root {root_hex})"
    )
    lines.append(f"ok: output {json.dumps(leaf_obj['output'])}")
    if row_input is not None:
        lines.append(_check_row_input(row_input, leaf_obj))
    return lines


def _parse_receipt(receipt: Any) -> tuple[int, bytes, list[bytes], str]:
    """The receipt's row number, leaf bytes, rows-tree inclusion proof and tlog-proof."""
    if not isinstance(receipt, dict) or receipt.get("format") != RECEIPT_FORMAT:
        raise ValueError(f"not a row receipt (format must be {RECEIPT_FORMAT!r})")
    try:
        row = receipt["row"]
        leaf = b64decode_strict(receipt["leaf"], what="leaf", error=ValueError)
        proof = [
            b64decode_strict(h, what="inclusion_proof", error=ValueError)
            for h in receipt["inclusion_proof"]
        ]
        tlog_text = receipt["tlog_proof"]
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"receipt lacks a field or has one of the wrong type: {exc}") from None
    if not isinstance(row, int) or isinstance(row, bool) or row < 0:
        raise ValueError("row must be a non-negative integer")
    return row, leaf, proof, tlog_text


def _batch_rows_root(entry_obj: dict[str, Any]) -> tuple[int, str]:
    """The row count and rows root (hex) of the prediction-batch entry a receipt proves."""
    if entry_obj.get("type") not in _BATCH_ENTRY_TYPES:
        raise ValueError(f"the proven entry is a {entry_obj.get('type')}, not a prediction batch")
    data = entry_obj.get("data", {})
    rows, root_hex = data.get("rows"), data.get("rows_root")
    if not isinstance(rows, int) or not isinstance(root_hex, str) or not _HEX64.fullmatch(root_hex):
        raise ValueError("the batch entry has no usable rows and rows_root")
    return rows, root_hex


def _parse_row_leaf(leaf: bytes, row: int) -> dict[str, Any]:
    """The row's leaf object, which must be canonical and name the receipt's row."""
    try:
        leaf_obj = json.loads(leaf)
    except ValueError:
        raise ValueError("leaf: not JSON") from None
    if not isinstance(leaf_obj, dict) or set(leaf_obj) != _LEAF_KEYS:
        raise ValueError('leaf: must be {"row", "input_sha256", "output"}')
    if rfc8785.dumps(leaf_obj) != leaf:
        raise ValueError("leaf: not in RFC 8785 canonical form")
    if leaf_obj["row"] != row:
        raise ValueError(f"leaf is for row {leaf_obj['row']}, the receipt says row {row}")
    return leaf_obj


def _check_row_inclusion(
    *, row: int, rows: int, leaf: bytes, proof: list[bytes], root_hex: str
) -> None:
    """The row's leaf is leaf ``row`` of the batch's rows tree."""
    try:
        verify_inclusion(
            index=row,
            size=rows,
            leaf_hash=leaf_hash(leaf),
            proof=proof,
            root=bytes.fromhex(root_hex),
        )
    except ProofError as exc:
        raise ValueError(f"row inclusion proof: {exc}") from None


def _check_row_input(row_input: Any, leaf_obj: dict[str, Any]) -> str:
    """The given input is the row's: its digest is the leaf's ``input_sha256``."""
    if not isinstance(row_input, dict):
        raise ValueError("--input must hold the row as a JSON object {column: value}")
    found = row_input_sha256(row_input)
    if found != leaf_obj["input_sha256"]:
        raise ValueError(
            f"--input: the row's digest is {found}, the receipt commits to "
            f"{leaf_obj['input_sha256']}"
        )
    return f"ok: the given input is the row's input (sha256 {found})"


def _main_receipt(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"{_PROG} receipt",
        description="Verify one decision's row receipt (ledger format §6) offline.",
    )
    parser.add_argument("file", help="the receipt (.json), as served by the API")
    _add_trusted_vkeys(parser)
    parser.add_argument(
        "--input", metavar="ROW.json", help="the row's input {column: value} to check its digest"
    )
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as f:
            receipt = json.load(f)
        row_input = None
        if args.input is not None:
            with open(args.input, encoding="utf-8") as f:
                row_input = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"not valid JSON ({exc})"
        print(f"FAIL {args.file}: cannot read: {reason}")
        return 1
    return _print_verdict(args.file, lambda: verify_receipt(receipt, args.vkey, row_input))


# First-argument dispatch keeps 'verify BUNDLE.zip' working next to subcommands.
_SUBCOMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "proof": _main_proof,
    "receipt": _main_receipt,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in _SUBCOMMANDS:
            return _SUBCOMMANDS[args[0]](args[1:])
        return _main_bundle(args)
    except BrokenPipeError:
        # The reader went away (``| head``); say nothing more, and do not claim success.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # an auditor gets one line, not a traceback, even for our bugs
        print(f"FAIL the verifier itself failed: {exc.__class__.__name__}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
