"""Checking the stored log in the database by re-deriving it from its entries:
``manage.py ledger_verify``, the verification task and the audit-trail report. It
trusts no stored hash, root, tree node or checkpoint; it recomputes them and reports
the first disagreement with its ``seq``.

Export bundles are checked offline, without Django, by :mod:`apps.ledger.offline_verifier`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from apps.ledger.core.checkpoint import open_checkpoint
from apps.ledger.core.entry import ZERO_HASH_HEX, EntryError, parse_entry, parse_time
from apps.ledger.core.hashing import leaf_hash
from apps.ledger.core.merkle import CompactRange
from apps.ledger.core.note import NoteError, NoteVerifier
from apps.ledger.models import Checkpoint, Entry, Log, SigningKey, TreeNode

CHUNK = 5000


class _Problem(Exception):
    def __init__(self, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.seq = seq


@dataclass
class LogVerification:
    origin: str
    entries: int = 0
    checkpoints: int = 0
    checks: list[str] = field(default_factory=list)
    problem: str | None = None
    seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.ok:
            return f"OK {self.origin}: " + "; ".join(self.checks)
        where = f" at seq {self.seq}" if self.seq is not None else ""
        return f"FAIL {self.origin}{where}: {self.problem}"


def log_verify(*, log: Log) -> LogVerification:
    log = Log.objects.get(pk=log.pk)  # the head as stored now, not as the caller cached it
    result = LogVerification(origin=log.origin)
    try:
        _verify(log=log, result=result)
    except _Problem as problem:
        result.problem, result.seq = problem.message, problem.seq
    return result


def _stored_nodes(
    *, log: Log, expected: dict[tuple[int, int], bytes]
) -> dict[tuple[int, int], bytes]:
    by_level: dict[int, list[int]] = defaultdict(list)
    for level, index in expected:
        by_level[level].append(index)
    condition = Q()
    for level, indexes in by_level.items():
        condition |= Q(level=level, index__gte=min(indexes), index__lte=max(indexes))
    rows = TreeNode.objects.filter(condition, log=log).values_list("level", "index", "hash")
    return {(level, index): bytes(node) for level, index, node in rows}


def _verify(*, log: Log, result: LogVerification) -> None:
    try:
        verifiers = [
            NoteVerifier.from_vkey(v)
            for v in SigningKey.objects.filter(log=log).values_list("vkey", flat=True)
        ]
    except NoteError as exc:
        raise _Problem(f"a stored verifier key is malformed: {exc}") from None
    checkpoints = iter(
        Checkpoint.objects.filter(log=log).order_by("size").iterator(chunk_size=CHUNK)
    )
    pending = next(checkpoints, None)
    tree = CompactRange()
    prev_hex, last_time, node_count = ZERO_HASH_HEX, None, 0

    def check_checkpoints_at(size: int) -> None:
        nonlocal pending
        while pending is not None and pending.size == size:
            try:
                signed, _ = open_checkpoint(pending.note, verifiers)
            except (NoteError, ValueError) as exc:
                raise _Problem(f"checkpoint of size {size} does not verify: {exc}") from None
            root = tree.root()
            if signed.origin != log.origin or signed.size != size or signed.root != root:
                raise _Problem(
                    f"checkpoint of size {size} does not match the tree of entries 0..{size - 1}: "
                    "one of them is not what was signed",
                    size - 1,
                )
            if bytes(pending.root) != root:
                raise _Problem(
                    f"checkpoint of size {size}: stored root column differs from its note"
                )
            result.checkpoints += 1
            pending = next(checkpoints, None)

    check_checkpoints_at(0)
    entries = Entry.objects.filter(log=log).order_by("seq").iterator(chunk_size=CHUNK)
    chunk: list[Entry] = []

    def flush(chunk: list[Entry]) -> None:
        nonlocal prev_hex, last_time, node_count
        expected: dict[tuple[int, int], bytes] = {}
        node_seq: dict[tuple[int, int], int] = {}
        for entry in chunk:
            seq = tree.size
            if entry.seq != seq:
                raise _Problem(
                    f"expected seq {seq} next, found seq {entry.seq} (entries missing or added)",
                    seq,
                )
            body = bytes(entry.body)
            try:
                parsed = parse_entry(body, origin=log.origin)
            except EntryError as exc:
                raise _Problem(
                    f"entry is not a valid canonical version-1 entry: {exc}", seq
                ) from None
            if parsed["seq"] != seq:
                raise _Problem(f"entry says seq {parsed['seq']} but is stored at seq {seq}", seq)
            if parsed["prev"] != prev_hex:
                raise _Problem(f"prev does not link to the leaf hash of seq {seq - 1}", seq)
            time = parse_time(parsed["time"])
            if last_time is not None and time < last_time:
                raise _Problem("time is earlier than the previous entry's", seq)
            leaf = leaf_hash(body)
            if bytes(entry.leaf_hash) != leaf:
                raise _Problem("stored leaf_hash is not the hash of the stored entry bytes", seq)
            if (
                entry.type != parsed["type"]
                or entry.time != time
                or (entry.subject_kind, entry.subject_id)
                != (parsed["subject"]["kind"], parsed["subject"]["id"])
                or (entry.actor_kind, entry.actor_id)
                != (parsed["actor"]["kind"], parsed["actor"]["id"])
            ):
                raise _Problem("indexed columns disagree with the entry bytes", seq)
            for level, index, node in tree.append(leaf):
                expected[(level, index)] = node
                node_seq[(level, index)] = seq
            prev_hex, last_time = leaf.hex(), time
            check_checkpoints_at(tree.size)
        stored = _stored_nodes(log=log, expected=expected)
        for position, node in expected.items():
            if stored.get(position) != node:
                raise _Problem(
                    f"stored tree node {position} is missing or wrong", node_seq[position]
                )
        node_count += len(expected)

    for entry in entries:
        chunk.append(entry)
        if len(chunk) == CHUNK:
            flush(chunk)
            chunk = []
    if chunk:
        flush(chunk)
    result.entries = tree.size

    if pending is not None:
        raise _Problem(
            f"a checkpoint of size {pending.size} exists but the log has only {tree.size} entries"
        )
    if TreeNode.objects.filter(log=log).count() != node_count:
        raise _Problem("the tree holds nodes that no entry accounts for")
    if (log.size, bytes(log.root), bytes(log.last_leaf_hash).hex(), bytes(log.frontier)) != (
        tree.size,
        tree.root(),
        prev_hex,
        tree.to_bytes(),
    ):
        raise _Problem(
            f"the log head (size {log.size}) disagrees with the {tree.size} stored entries"
        )
    result.checks = [
        f"{tree.size} entries canonical, seq 0..{tree.size - 1} without gaps",
        "every prev links and time never decreases",
        f"{node_count} stored tree nodes recomputed",
        f"{result.checkpoints} checkpoints verify and match the recomputed roots",
        "log head matches",
    ]
