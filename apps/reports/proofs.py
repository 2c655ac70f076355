"""C2SP tlog-proofs for many entries at once, against one stored checkpoint.

``ledger.selectors.tlog_proof`` costs two queries per entry; an audit-trail report
cites thousands. Here the tree nodes that a chunk of proofs needs are read in one
query per chunk, so the cost is one query per ``CHUNK`` entries and memory stays
bounded by the chunk, not by the number of entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from django.db.models import Q

from apps.ledger.core.merkle import inclusion_proof_ranges, range_hash, range_subtrees
from apps.ledger.core.tlogproof import format_tlog_proof
from apps.ledger.models import Checkpoint, Entry, Log, TreeNode

CHUNK = 1000


def _chunks(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def tlog_proofs(
    *, log: Log, checkpoint: Checkpoint, seqs: Iterable[int]
) -> Iterator[tuple[int, str]]:
    """``(seq, tlog-proof text)`` for each ``seq`` (ascending), all against ``checkpoint``."""
    size = checkpoint.size
    ordered = sorted({seq for seq in seqs if 0 <= seq < size})
    for chunk in _chunks(ordered, CHUNK):
        plans = {
            seq: [range_subtrees(lo, hi) for lo, hi in inclusion_proof_ranges(seq, size)]
            for seq in chunk
        }
        wanted: dict[int, set[int]] = defaultdict(set)
        for parts in plans.values():
            for subtrees in parts:
                for level, index in subtrees:
                    wanted[level].add(index)
        condition = Q()
        for level, indexes in wanted.items():
            condition |= Q(level=level, index__in=sorted(indexes))
        nodes = {
            (level, index): bytes(node)
            for level, index, node in TreeNode.objects.filter(condition, log=log).values_list(
                "level", "index", "hash"
            )
        }
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
