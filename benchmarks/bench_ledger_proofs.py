"""Time inclusion and consistency proofs through the selectors on a 1,000,000-entry log.

Usage: python benchmarks/bench_ledger_proofs.py [--entries N] [--calls C] [--batch B]
                                                [--keep | --reuse]

Builds the log through the service (``entries_append`` in batches of B, each batch one
transaction with one signed checkpoint, as a bulk import would), then times C calls
each of ``selectors.inclusion_proof`` and ``selectors.consistency_proof`` for random
arguments, and prints median and p99 in milliseconds. Every call goes to the
database (nothing is cached between calls); a sample of the proofs is verified
against signed checkpoints outside the timed loop.

The database: DATABASE_URL if set (a fresh organization is made in it; nothing is
dropped), otherwise a database ``bench_ledger_proofs`` on
postgres://postgres@127.0.0.1:5432, dropped and created afresh and dropped at the end
unless --keep. --reuse times proofs on a kept database without rebuilding it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_ledger_append import draft  # noqa: E402
from bench_postgres import (  # noqa: E402
    DEFAULT_SERVER,
    database_drop,
    database_recreate,
    setup_django,
)

BENCH_DB = "bench_ledger_proofs"
SLUG = "bench-proofs"


def build(org, *, entries: int, batch: int) -> None:
    from apps.ledger.services import entries_append
    from apps.ledger.types import Actor

    actor = Actor(kind="api_key", id="ak_7f3a9c", name="training pipeline")
    have = 1  # organization.created
    start = time.perf_counter()
    while have < entries:
        n = min(batch, entries - have)
        drafts = [draft(i, actor) for i in range(have, have + n)]
        entries_append(organization=org, drafts=drafts)
        have += n
    elapsed = time.perf_counter() - start
    print(
        f"built {entries} entries through entries_append in batches of {batch}: "
        f"{elapsed:.1f} s ({(entries - 1) / elapsed:.0f} entries/s)"
    )


def timed(fn, args: list[tuple[int, int]]) -> list[float]:
    out = []
    for a, b in args:
        t = time.perf_counter()
        fn(a, b)
        out.append((time.perf_counter() - t) * 1000)
    return out


def report(name: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    print(
        f"  {name:<44} median {statistics.median(ms):6.3f} ms   p99 {p99:6.3f} ms   "
        f"max {ms[-1]:6.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=1000, help="timed calls per kind")
    parser.add_argument("--batch", type=int, default=10_000, help="entries per entries_append")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--reuse", action="store_true", help="use a kept database as it is")
    args = parser.parse_args()

    given = os.environ.get("DATABASE_URL")
    if given:
        url, created = given, False
    elif args.reuse:
        url, created = f"{DEFAULT_SERVER}/{BENCH_DB}", False
    else:
        url, created = database_recreate(BENCH_DB), not args.keep
    setup_django(url)

    from apps.ledger import selectors
    from apps.tenancy.models import Organization
    from apps.tenancy.services import organization_create

    try:
        if args.reuse and not given:
            org = Organization.objects.get(slug=SLUG)
        else:
            slug = SLUG if not given else f"{SLUG}-{uuid.uuid4().hex[:8]}"
            org = organization_create(slug=slug, name="Benchmark Proofs")
            build(org, entries=args.entries, batch=args.batch)
        log = selectors.log_for(organization=org)
        print(f"log {log.origin}: {log.size} entries; {args.calls} timed calls per kind")
        time_and_check(log, calls=args.calls)
    finally:
        if created:
            database_drop(BENCH_DB)


def time_and_check(log, *, calls: int) -> None:
    """Times each kind of proof on random sizes, then checks a sample of the proofs
    against the signed checkpoints (not timed)."""
    from apps.ledger import selectors

    n = log.size
    rng = random.Random(20261123)
    at_head = [(rng.randrange(n), n) for _ in range(calls)]
    sizes = [rng.randint(1, n) for _ in range(calls)]
    anywhere = [(rng.randrange(s), s) for s in sizes]
    to_head = [(rng.randint(1, n), n) for _ in range(calls)]
    between = [tuple(sorted((rng.randint(1, n), rng.randint(1, n)))) for _ in range(calls)]

    def inclusion(index: int, size: int) -> list[bytes]:
        return selectors.inclusion_proof(log=log, index=index, size=size)

    def consistency(old: int, new: int) -> list[bytes]:
        return selectors.consistency_proof(log=log, old_size=old, new_size=new)

    timed(inclusion, at_head[:50])  # warm the connection and caches
    timed(consistency, to_head[:50])
    report(f"inclusion_proof(index random, size={n})", timed(inclusion, at_head))
    report("inclusion_proof(index, size both random)", timed(inclusion, anywhere))
    report(f"consistency_proof(old random, new={n})", timed(consistency, to_head))
    report("consistency_proof(old, new both random)", timed(consistency, between))
    check(log, at_head=at_head[:20], rng=rng, inclusion=inclusion, consistency=consistency)


def check(log, *, at_head, rng, inclusion, consistency) -> None:
    """The proofs are right: checked against the signed checkpoint of the log's size."""
    from apps.ledger import selectors
    from apps.ledger.core.checkpoint import open_checkpoint
    from apps.ledger.core.merkle import verify_consistency, verify_inclusion
    from apps.ledger.core.note import NoteVerifier
    from apps.ledger.models import Entry

    n = log.size
    verifiers = [NoteVerifier.from_vkey(v) for v in selectors.verifier_keys(log=log)]
    head, _ = open_checkpoint(selectors.checkpoint_latest(log=log).note, verifiers)
    assert head.size == n
    for index, size in at_head:
        leaf = bytes(Entry.objects.get(log=log, seq=index).leaf_hash)
        verify_inclusion(
            index=index, size=size, leaf_hash=leaf, proof=inclusion(index, size), root=head.root
        )
    stored = list(log.checkpoints.filter(size__gt=0).values_list("size", flat=True))
    for old in rng.sample(stored, min(20, len(stored))):
        earlier, _ = open_checkpoint(selectors.checkpoint_at(log=log, size=old).note, verifiers)
        verify_consistency(
            old_size=old,
            new_size=n,
            old_root=earlier.root,
            new_root=head.root,
            proof=consistency(old, n),
        )
    print("  checked: 20 inclusion and 20 consistency proofs verify against signed checkpoints")


if __name__ == "__main__":
    main()
