"""Reads from the ledger: checkpoints, keys, entries, proofs.

Roots and proofs come from stored complete-subtree hashes: each needs one query for
O(log n) nodes, never a walk over the entries.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Q, QuerySet

from apps.ledger.core.hashing import EMPTY_ROOT
from apps.ledger.core.merkle import (
    consistency_proof_ranges,
    inclusion_proof_ranges,
    range_hash,
    range_subtrees,
)
from apps.ledger.core.tlogproof import format_tlog_proof
from apps.ledger.models import Checkpoint, Entry, Log, SigningKey, TreeNode
from audit_platform.errors import InvalidInput, NotFound


def log_for(*, organization: Any) -> Log:
    return Log.objects.get(organization=organization)


def checkpoint_latest(*, log: Log) -> Checkpoint:
    return Checkpoint.objects.filter(log=log).order_by("-size").first()


def checkpoint_at(*, log: Log, size: int) -> Checkpoint:
    checkpoint = Checkpoint.objects.filter(log=log, size=size).first()
    if checkpoint is None:
        raise NotFound(f"No checkpoint of size {size} was signed for this log.")
    return checkpoint


def verifier_keys(*, log: Log) -> list[str]:
    return list(
        SigningKey.objects.filter(log=log).order_by("created_at").values_list("vkey", flat=True)
    )


def entries_filtered(
    *,
    log: Log,
    start: int | None = None,
    end: int | None = None,
    type: str | None = None,
    subject_kind: str | None = None,
    subject_id: str | None = None,
    actor_kind: str | None = None,
    actor_id: str | None = None,
    time_from: datetime | None = None,
    time_to: datetime | None = None,
) -> QuerySet[Entry]:
    """Entries in ``seq`` order; ``end`` and ``time_to`` are exclusive."""
    entries = Entry.objects.filter(log=log)
    if start is not None:
        entries = entries.filter(seq__gte=start)
    if end is not None:
        entries = entries.filter(seq__lt=end)
    if type:
        entries = entries.filter(type=type)
    if subject_kind:
        entries = entries.filter(subject_kind=subject_kind)
    if subject_id:
        entries = entries.filter(subject_id=subject_id)
    if actor_kind:
        entries = entries.filter(actor_kind=actor_kind)
    if actor_id:
        entries = entries.filter(actor_id=actor_id)
    if time_from is not None:
        entries = entries.filter(time__gte=time_from)
    if time_to is not None:
        entries = entries.filter(time__lt=time_to)
    return entries.order_by("seq")


def entry_at(*, log: Log, seq: int) -> Entry:
    entry = Entry.objects.filter(log=log, seq=seq).first()
    if entry is None:
        raise NotFound(f"No entry with seq {seq} in this log (size {log.size}).")
    return entry


# One probe of the (log, level, index) unique index per wanted node. The table name
# is a constant, the positions travel as two array parameters.
_PG_NODES = (
    'SELECT t.level, t."index", t.hash FROM ledger_treenode t'
    " JOIN unnest(%s::smallint[], %s::bigint[]) AS w(level, idx)"
    ' ON t.level = w.level AND t."index" = w.idx'
    " WHERE t.log_id = %s"
)


def _node_hashes(*, log: Log, positions: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    wanted = set(positions)
    if not wanted:
        return {}
    if connection.vendor == "postgresql":
        levels, indexes = zip(*wanted, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(_PG_NODES, [list(levels), list(indexes), log.pk])
            rows = cursor.fetchall()
    else:
        condition = Q()
        for level, index in wanted:
            condition |= Q(level=level, index=index)
        rows = TreeNode.objects.filter(condition, log=log).values_list("level", "index", "hash")
    found = {(level, index): bytes(node) for level, index, node in rows}
    missing = wanted - found.keys()
    if missing:
        raise RuntimeError(
            f"log {log.origin}: tree nodes missing from storage: {sorted(missing)[:5]}"
        )
    return found


def _hashes_of_ranges(*, log: Log, ranges: list[tuple[int, int]]) -> list[bytes]:
    subtrees = [range_subtrees(start, end) for start, end in ranges]
    nodes = _node_hashes(log=log, positions=(pos for parts in subtrees for pos in parts))
    return [range_hash([nodes[pos] for pos in parts]) for parts in subtrees]


def _require_size(*, log: Log, size: int, name: str = "size") -> None:
    if size < 0:
        raise InvalidInput(f"{name} must not be negative.", fields={name: ["Must be >= 0."]})
    if size > log.size:
        raise InvalidInput(
            f"{name}={size} is larger than the tree ({log.size} entries).",
            fields={name: [f"Must be at most {log.size}."]},
        )


def root_at(*, log: Log, size: int) -> bytes:
    _require_size(log=log, size=size)
    if size == 0:
        return EMPTY_ROOT
    return _hashes_of_ranges(log=log, ranges=[(0, size)])[0]


def inclusion_proof(*, log: Log, index: int, size: int) -> list[bytes]:
    _require_size(log=log, size=size)
    if not 0 <= index < size:
        raise InvalidInput(
            f"index={index} is not in a tree of size {size}; it must be in 0..{size - 1}.",
            fields={"index": [f"Must be less than size ({size})."]},
        )
    return _hashes_of_ranges(log=log, ranges=inclusion_proof_ranges(index, size))


def consistency_proof(*, log: Log, old_size: int, new_size: int) -> list[bytes]:
    _require_size(log=log, size=new_size, name="new")
    if not 1 <= old_size <= new_size:
        raise InvalidInput(
            f"old={old_size} must be between 1 and new={new_size}.",
            fields={"old": [f"Must be at most new ({new_size})."]},
        )
    return _hashes_of_ranges(log=log, ranges=consistency_proof_ranges(old_size, new_size))


def tlog_proof(*, log: Log, seq: int, size: int | None = None) -> str:
    """A C2SP tlog-proof for one entry against a stored checkpoint (the latest by default)."""
    checkpoint = checkpoint_latest(log=log) if size is None else checkpoint_at(log=log, size=size)
    entry = entry_at(log=log, seq=seq)
    if seq >= checkpoint.size:
        raise InvalidInput(
            f"Entry {seq} is not covered by the checkpoint of size {checkpoint.size}.",
            fields={"size": [f"Must be greater than {seq}."]},
        )
    proof = inclusion_proof(log=log, index=seq, size=checkpoint.size)
    return format_tlog_proof(
        entry_bytes=bytes(entry.body), index=seq, proof=proof, checkpoint_note=checkpoint.note
    )


def checkpoints_for_export(*, log: Log, size: int, every: bool = False) -> Iterator[Checkpoint]:
    """The checkpoint of ``size`` and, before it, the last checkpoint of each UTC day
    (or every checkpoint when ``every``)."""
    earlier = Checkpoint.objects.filter(log=log, size__lt=size).order_by("size")
    if every:
        yield from earlier.iterator(chunk_size=2000)
    else:
        last_of_day: Checkpoint | None = None
        for checkpoint in earlier.iterator(chunk_size=2000):
            if (
                last_of_day is not None
                and last_of_day.created_at.date() != checkpoint.created_at.date()
            ):
                yield last_of_day
            last_of_day = checkpoint
        if last_of_day is not None:
            yield last_of_day
    yield checkpoint_at(log=log, size=size)


# --- Reads for documents (reports, compliance): entries about records, in bulk -----------


@dataclass(frozen=True)
class CheckpointFacts:
    """What a document states about the checkpoint it is covered by."""

    size: int
    root: str  # base64, as in the signed note
    note: str
    created_at: datetime


class EntrySummary(NamedTuple):
    """One line of a document's table of cited entries."""

    seq: int
    time: datetime
    type: str
    subject_kind: str
    subject_id: str
    leaf_hash: bytes


class EntryLine(NamedTuple):
    """One entry as an audit trail lists it, with its exact bytes."""

    seq: int
    time: datetime
    type: str
    subject_kind: str
    subject_id: str
    actor_kind: str
    actor_id: str
    body: bytes


class SubjectEntry(NamedTuple):
    """Which entry (``seq``) of which ``type`` is about which record."""

    subject_kind: str
    subject_id: str
    type: str
    seq: int


def checkpoint_facts(*, checkpoint: Checkpoint) -> CheckpointFacts:
    return CheckpointFacts(
        size=checkpoint.size,
        root=base64.b64encode(bytes(checkpoint.root)).decode("ascii"),
        note=checkpoint.note,
        created_at=checkpoint.created_at,
    )


def entries_about(
    *,
    log: Log,
    subjects: Mapping[str, Iterable[Any]],
    time_from: datetime | None = None,
    time_to: datetime | None = None,
) -> QuerySet[Entry]:
    """Entries about any of ``subjects`` (subject kind → record ids), in ``seq`` order;
    none when no id is given. ``time_to`` is exclusive."""
    condition = Q()
    for kind, ids in subjects.items():
        wanted = [str(i) for i in ids]
        if wanted:
            condition |= Q(subject_kind=kind, subject_id__in=wanted)
    if not condition:
        return Entry.objects.none()
    return entries_filtered(log=log, time_from=time_from, time_to=time_to).filter(condition)


def entry_seqs_about(*, log: Log, subjects: Mapping[str, Iterable[Any]]) -> Iterator[SubjectEntry]:
    """Every entry about ``subjects`` as (kind, id, type, seq), streamed in ``seq`` order."""
    rows = entries_about(log=log, subjects=subjects).values_list(
        "subject_kind", "subject_id", "type", "seq"
    )
    for row in rows.iterator(chunk_size=5000):
        yield SubjectEntry(*row)


def entry_seq_first(
    *, log: Log, subject_kind: str, subject_id: Any, type: str | None = None
) -> int | None:
    """The ``seq`` of the first entry about that record (of ``type`` if given), or None."""
    entries = entries_filtered(log=log, type=type, subject_kind=subject_kind)
    return entries.filter(subject_id=str(subject_id)).values_list("seq", flat=True).first()


def entry_summaries(*, log: Log, seqs: Iterable[int]) -> list[EntrySummary]:
    """The entries with those ``seq`` numbers, in ``seq`` order."""
    rows = Entry.objects.filter(log=log, seq__in=sorted(set(seqs))).values_list(
        "seq", "time", "type", "subject_kind", "subject_id", "leaf_hash"
    )
    return [
        EntrySummary(seq, time, type_, kind, sid, bytes(leaf))
        for seq, time, type_, kind, sid, leaf in rows.order_by("seq")
    ]


def entry_lines(*, entries: QuerySet[Entry], chunk_size: int = 2000) -> Iterator[EntryLine]:
    """``entries`` (from :func:`entries_filtered` or :func:`entries_about`) streamed in
    chunks: memory stays bounded by the chunk, however long the listing."""
    rows = entries.values_list(
        "seq", "time", "type", "subject_kind", "subject_id", "actor_kind", "actor_id", "body"
    )
    for *head, body in rows.iterator(chunk_size=chunk_size):
        yield EntryLine(*head, bytes(body))


# C2SP tlog-proofs for many entries at once. ``tlog_proof`` costs two queries per entry;
# a report cites thousands. The tree nodes that a chunk of proofs needs are read in one
# query per chunk (per level, one IN list), so the cost is one query per
# ``TLOG_PROOFS_CHUNK`` entries and memory stays bounded by the chunk.
TLOG_PROOFS_CHUNK = 1000


def _proof_nodes(
    *, log: Log, plans: Iterable[list[list[tuple[int, int]]]]
) -> dict[tuple[int, int], bytes]:
    wanted: dict[int, set[int]] = defaultdict(set)
    for parts in plans:
        for subtrees in parts:
            for level, index in subtrees:
                wanted[level].add(index)
    condition = Q()
    for level, indexes in wanted.items():
        condition |= Q(level=level, index__in=sorted(indexes))
    rows = TreeNode.objects.filter(condition, log=log).values_list("level", "index", "hash")
    return {(level, index): bytes(node) for level, index, node in rows}


def tlog_proofs(
    *, log: Log, checkpoint: Checkpoint, seqs: Iterable[int]
) -> Iterator[tuple[int, str]]:
    """``(seq, tlog-proof text)`` for each ``seq`` the checkpoint covers (ascending),
    all against ``checkpoint``; the same text :func:`tlog_proof` gives one at a time."""
    size = checkpoint.size
    ordered: Sequence[int] = sorted({seq for seq in seqs if 0 <= seq < size})
    for start in range(0, len(ordered), TLOG_PROOFS_CHUNK):
        chunk = ordered[start : start + TLOG_PROOFS_CHUNK]
        plans = {
            seq: [range_subtrees(lo, hi) for lo, hi in inclusion_proof_ranges(seq, size)]
            for seq in chunk
        }
        nodes = _proof_nodes(log=log, plans=plans.values())
        bodies = dict(
            Entry.objects.filter(log=log, seq__in=chunk).values_list("seq", "body").iterator()
        )
        for seq in chunk:
            proof = [range_hash([nodes[pos] for pos in subtrees]) for subtrees in plans[seq]]
            yield (
                seq,
                format_tlog_proof(
                    entry_bytes=bytes(bodies[seq]),
                    index=seq,
                    proof=proof,
                    checkpoint_note=checkpoint.note,
                ),
            )
