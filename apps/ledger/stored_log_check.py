"""Checking the stored log in the database by re-deriving it from its entries:
``manage.py ledger_verify``, the verification task and the audit-trail report. It
trusts no stored hash, root, tree node or checkpoint; it recomputes them and reports
the first disagreement with its ``seq``.

Export bundles are checked offline, without Django, by :mod:`apps.ledger.offline_verifier`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

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
        _StoredLogCheck(log=log, result=result).run()
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


class _StoredLogCheck:
    """One pass over a stored log: entries in ``seq`` order, a chunk at a time, each
    checked against its bytes, the chain and the recomputed tree; each checkpoint
    as the recomputed tree reaches its size; then the stored tree and head."""

    def __init__(self, *, log: Log, result: LogVerification) -> None:
        self.log = log
        self.result = result
        try:
            self.verifiers = [
                NoteVerifier.from_vkey(v)
                for v in SigningKey.objects.filter(log=log).values_list("vkey", flat=True)
            ]
        except NoteError as exc:
            raise _Problem(f"a stored verifier key is malformed: {exc}") from None
        self.checkpoints = iter(
            Checkpoint.objects.filter(log=log).order_by("size").iterator(chunk_size=CHUNK)
        )
        self.pending = next(self.checkpoints, None)
        self.tree = CompactRange()
        self.prev_hex = ZERO_HASH_HEX
        self.last_time: datetime | None = None
        self.node_count = 0

    def run(self) -> None:
        self.check_checkpoints_at(0)
        entries = Entry.objects.filter(log=self.log).order_by("seq").iterator(chunk_size=CHUNK)
        chunk: list[Entry] = []
        for entry in entries:
            chunk.append(entry)
            if len(chunk) == CHUNK:
                self.check_chunk(chunk)
                chunk = []
        if chunk:
            self.check_chunk(chunk)
        self.result.entries = self.tree.size
        self.check_nothing_left_over()
        self.check_head()
        tree = self.tree
        self.result.checks = [
            f"{tree.size} entries canonical, seq 0..{tree.size - 1} without gaps",
            "every prev links and time never decreases",
            f"{self.node_count} stored tree nodes recomputed",
            f"{self.result.checkpoints} checkpoints verify and match the recomputed roots",
            "log head matches",
        ]

    def check_checkpoints_at(self, size: int) -> None:
        """Every stored checkpoint of this size verifies and has the recomputed root."""
        while self.pending is not None and self.pending.size == size:
            pending = self.pending
            try:
                signed, _ = open_checkpoint(pending.note, self.verifiers)
            except (NoteError, ValueError) as exc:
                raise _Problem(f"checkpoint of size {size} does not verify: {exc}") from None
            root = self.tree.root()
            if signed.origin != self.log.origin or signed.size != size or signed.root != root:
                raise _Problem(
                    f"checkpoint of size {size} does not match the tree of entries 0..{size - 1}: "
                    "one of them is not what was signed",
                    size - 1,
                )
            if bytes(pending.root) != root:
                raise _Problem(
                    f"checkpoint of size {size}: stored root column differs from its note"
                )
            self.result.checkpoints += 1
            self.pending = next(self.checkpoints, None)

    def check_chunk(self, chunk: list[Entry]) -> None:
        """Check each entry of the chunk, then the stored tree nodes the chunk made."""
        expected: dict[tuple[int, int], bytes] = {}
        node_seq: dict[tuple[int, int], int] = {}
        for entry in chunk:
            seq = self.tree.size
            leaf = self.check_entry(entry, seq)
            for level, index, node in self.tree.append(leaf):
                expected[(level, index)] = node
                node_seq[(level, index)] = seq
            self.check_checkpoints_at(self.tree.size)
        stored = _stored_nodes(log=self.log, expected=expected)
        for position, node in expected.items():
            if stored.get(position) != node:
                raise _Problem(
                    f"stored tree node {position} is missing or wrong", node_seq[position]
                )
        self.node_count += len(expected)

    def check_entry(self, entry: Entry, seq: int) -> bytes:
        """The entry at ``seq``: canonical, linked, in time, and its stored leaf hash and
        indexed columns agree with its bytes. Returns its leaf hash."""
        if entry.seq != seq:
            raise _Problem(
                f"expected seq {seq} next, found seq {entry.seq} (entries missing or added)",
                seq,
            )
        body = bytes(entry.body)
        try:
            parsed = parse_entry(body, origin=self.log.origin)
        except EntryError as exc:
            raise _Problem(f"entry is not a valid canonical version-1 entry: {exc}", seq) from None
        if parsed["seq"] != seq:
            raise _Problem(f"entry says seq {parsed['seq']} but is stored at seq {seq}", seq)
        if parsed["prev"] != self.prev_hex:
            raise _Problem(f"prev does not link to the leaf hash of seq {seq - 1}", seq)
        time = parse_time(parsed["time"])
        if self.last_time is not None and time < self.last_time:
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
        self.prev_hex, self.last_time = leaf.hex(), time
        return leaf

    def check_nothing_left_over(self) -> None:
        """No checkpoint beyond the entries, no tree node that no entry made."""
        if self.pending is not None:
            raise _Problem(
                f"a checkpoint of size {self.pending.size} exists but the log has only"
                f" {self.tree.size} entries"
            )
        if TreeNode.objects.filter(log=self.log).count() != self.node_count:
            raise _Problem("the tree holds nodes that no entry accounts for")

    def check_head(self) -> None:
        """The stored head (size, root, last leaf, frontier) is the recomputed one."""
        log, tree = self.log, self.tree
        if (log.size, bytes(log.root), bytes(log.last_leaf_hash).hex(), bytes(log.frontier)) != (
            tree.size,
            tree.root(),
            self.prev_hex,
            tree.to_bytes(),
        ):
            raise _Problem(
                f"the log head (size {log.size}) disagrees with the {tree.size} stored entries"
            )
