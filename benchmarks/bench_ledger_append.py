"""Time ledger appends on PostgreSQL against a plain INSERT, in the same run.

Usage: python benchmarks/bench_ledger_append.py [--single N] [--rounds R]
                                                [--bulk N] [--batch B] [--keep]

1. Single appends: ``entry_append`` in autocommit (each call is its own transaction:
   lock the log head, insert the entry, its tree nodes and a signed checkpoint, move
   the head), against the named baseline, "plain INSERT of one row of the same byte
   size, one transaction each", into a table with only a primary key. Both run on
   the same connection with the same settings (``synchronous_commit`` as the server
   has it, printed), in alternating rounds (ABBA) so that drift cancels. Prints
   commits per second of each and their ratio, then the time the 0.8x target leaves
   an append beyond the INSERT against what building one append (canonical entry,
   hashes, signed checkpoint) costs in Python before it reaches the database.
2. Bulk: ``entries_append`` of N entries in batches of B (one transaction and one
   checkpoint per batch). Prints entries per second.

Entries look like a real registry event: a dataset version registration with a
digest, a size, a URI and a few metadata keys.

The database: DATABASE_URL if set (a fresh organization is made in it; nothing is
dropped), otherwise a database ``bench_ledger`` on postgres://postgres@127.0.0.1:5432
that is dropped and created afresh, migrated, and dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_postgres import database_drop, database_recreate, setup_django  # noqa: E402

BENCH_DB = "bench_ledger"


def prepare_database(keep: bool) -> tuple[str, bool]:
    """The database URL to use and whether this script created (and may drop) it."""
    given = os.environ.get("DATABASE_URL")
    if given:
        return given, False
    return database_recreate(BENCH_DB), not keep


def backend_cpu_seconds() -> float | None:
    """CPU time used so far by this connection's server process, when the server runs
    on this machine (it tells where the time goes); None otherwise."""
    from django.db import connection

    try:
        pid = connection.connection.info.backend_pid
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, AttributeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Client (this process) and server-backend CPU time over a block of work."""

    def __init__(self) -> None:
        self.client = 0.0
        self.server: float | None = 0.0

    def __enter__(self) -> CpuMeter:
        self._c0, self._s0 = time.process_time(), backend_cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client += time.process_time() - self._c0
        s1 = backend_cpu_seconds()
        if self.server is not None and s1 is not None and self._s0 is not None:
            self.server += s1 - self._s0
        else:
            self.server = None

    def per(self, n: int) -> str:
        server = "n/a" if self.server is None else f"{1e6 * self.server / n:.0f}"
        return f"CPU per item: client {1e6 * self.client / n:.0f} us, server backend {server} us"


def event(i: int) -> dict:
    """A dataset version registration, as a pipeline would record it."""
    return {
        "type": "dataset_version.registered",
        "subject_id": f"dsv_{uuid.UUID(int=i)}",
        "data": {
            "sha256": hashlib.sha256(i.to_bytes(8, "big")).hexdigest(),
            "size_bytes": 48_213_904 + i,
            "uri": f"s3://acme-ml-datasets/credit-scoring/v{i}/train.parquet",
            "format": "parquet",
            "rows": 1_250_000 + i,
            "schema_sha256": hashlib.sha256(b"schema" + i.to_bytes(8, "big")).hexdigest(),
            "parent": {"kind": "dataset", "id": "ds_credit_scoring"},
        },
    }


def draft(i: int, actor):
    """``event(i)`` as ``entries_append`` takes it."""
    from apps.ledger.types import EntryDraft, Subject

    e = event(i)
    return EntryDraft(
        type=e["type"],
        actor=actor,
        subject=Subject(kind="dataset_version", id=e["subject_id"]),
        data=e["data"],
    )


def bench_single(org, *, per_round: int, rounds: int) -> None:
    from django.db import connection, transaction

    from apps.ledger.services import entry_append
    from apps.ledger.types import Actor, Subject

    assert connection.get_autocommit(), "appends must each be their own transaction"
    assert not transaction.get_connection().in_atomic_block
    actor = Actor(kind="api_key", id="ak_7f3a9c", name="training pipeline")
    counter = iter(range(1, 10**9))

    def ours(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            e = event(next(counter))
            entry_append(
                organization=org,
                actor=actor,
                type=e["type"],
                subject=Subject(kind="dataset_version", id=e["subject_id"]),
                data=e["data"],
            )
        return time.perf_counter() - start

    # Warm up (connection, caches, signer), then size the baseline row on real entries.
    ours(50)
    plain, facts = plain_inserts()
    print(
        f"single appends: {rounds} rounds x {per_round} commits each side, ABBA order; "
        f"synchronous_commit={facts['sync_commit']}, fsync={facts['fsync']}"
    )
    print(
        f"  entry row {facts['row_bytes']} B (canonical body {facts['body_bytes']} B); "
        f"baseline row {facts['plain_row_bytes']} B (bytea payload {facts['payload_len']} B, "
        "bigserial PK)"
    )
    t_ours, t_plain, cpu_ours, cpu_plain, ratios = alternate(
        ours, plain, rounds=rounds, per_round=per_round
    )
    n = rounds * per_round
    ours_cps, plain_cps = n / t_ours, n / t_plain
    for name, cps, cpu in (
        ("entry_append", ours_cps, cpu_ours),
        ("plain INSERT", plain_cps, cpu_plain),
    ):
        print(f"  {name}: {cps:6.0f} commits/s ({1000 / cps:.3f} ms each; {cpu.per(n)})")
    print(
        f"  ratio ours/baseline: {ours_cps / plain_cps:.3f} "
        f"(per round: median {statistics.median(ratios):.3f}, "
        f"min {min(ratios):.3f}, max {max(ratios):.3f})"
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_plain_insert")
    print_allowance(org, actor=actor, plain_seconds=t_plain / n, counter=counter)


def plain_inserts():
    """The baseline: a table with only a primary key, whose rows are as large as the
    ledger's entry rows so far, and a function that times ``n`` INSERTs into it, one
    transaction each; and the facts to print (commit settings, row sizes)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT avg(pg_column_size(e.*))::int, avg(length(body))::int FROM ledger_entry e"
        )
        row_bytes, body_bytes = cursor.fetchone()
        cursor.execute("SHOW synchronous_commit")
        sync_commit = cursor.fetchone()[0]
        cursor.execute("SHOW fsync")
        fsync = cursor.fetchone()[0]
        cursor.execute("DROP TABLE IF EXISTS bench_plain_insert")
        cursor.execute(
            "CREATE TABLE bench_plain_insert (id bigserial PRIMARY KEY, payload bytea NOT NULL)"
        )
        # Fit the payload so that the plain row is as large as an entry row.
        cursor.execute(
            "INSERT INTO bench_plain_insert (payload) VALUES (%s) RETURNING pg_column_size("
            "bench_plain_insert.*)",
            [os.urandom(body_bytes)],
        )
        overhead = cursor.fetchone()[0] - body_bytes
    payload_len = row_bytes - overhead
    # Fresh random bytes each time: nothing compresses, nothing is shared.
    payloads = [os.urandom(payload_len) for _ in range(512)]
    sql = "INSERT INTO bench_plain_insert (payload) VALUES (%s)"

    def plain(n: int) -> float:
        start = time.perf_counter()
        with connection.cursor() as cursor:
            for i in range(n):
                cursor.execute(sql, [payloads[i % 512]])
        return time.perf_counter() - start

    plain(50)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_size(p.*) FROM bench_plain_insert p ORDER BY id DESC LIMIT 1"
        )
        plain_row_bytes = cursor.fetchone()[0]
    return plain, {
        "sync_commit": sync_commit,
        "fsync": fsync,
        "row_bytes": row_bytes,
        "body_bytes": body_bytes,
        "plain_row_bytes": plain_row_bytes,
        "payload_len": payload_len,
    }


def alternate(ours, plain, *, rounds: int, per_round: int):
    """Total seconds and CPU of each side over ``rounds`` rounds in ABBA order, and
    the baseline/ours ratio of each round."""
    t_ours = t_plain = 0.0
    cpu_ours, cpu_plain = CpuMeter(), CpuMeter()
    ratios = []
    for r in range(rounds):
        if r % 2 == 0:
            with cpu_ours:
                a = ours(per_round)
            with cpu_plain:
                b = plain(per_round)
        else:
            with cpu_plain:
                b = plain(per_round)
            with cpu_ours:
                a = ours(per_round)
        t_ours += a
        t_plain += b
        ratios.append(b / a)
    return t_ours, t_plain, cpu_ours, cpu_plain, ratios


def print_allowance(org, *, actor, plain_seconds: float, counter) -> None:
    """What the append must do in Python before it reaches the database, against the
    time that the 0.8x target allows it beyond a plain INSERT."""
    from django.db import connection

    from apps.ledger import services
    from apps.ledger.core.checkpoint import Checkpoint, sign_checkpoint

    # The head this process remembers after its own appends (a private cache of the
    # service: the benchmark builds on it exactly as the next append would).
    head = services._heads[(connection.settings_dict["NAME"], org.pk)]
    drafts = [draft(next(counter), actor) for _ in range(2000)]
    start = time.process_time()
    for one in drafts:
        services._Batch.build(head, [one])
    build = (time.process_time() - start) / len(drafts)
    text = Checkpoint(origin=head.origin, size=head.size, root=bytes(32))
    start = time.process_time()
    for _ in drafts:
        sign_checkpoint(text, head.signers)
    sign = (time.process_time() - start) / len(drafts)
    allowance = plain_seconds * (1 / 0.8 - 1)
    print(
        f"  allowance at 0.8x: {1e6 * allowance:.0f} us per commit beyond a plain INSERT; "
        f"building one append in Python before any database work takes {1e6 * build:.0f} us "
        f"(of which the Ed25519 checkpoint signature {1e6 * sign:.0f} us)"
    )


def bench_bulk(org, *, total: int, batch: int) -> None:
    from apps.ledger.models import Log
    from apps.ledger.services import entries_append
    from apps.ledger.types import Actor, EntryDraft

    actor = Actor(kind="api_key", id="ak_7f3a9c", name="training pipeline")
    first = 10**7

    def drafts(start: int, n: int) -> list[EntryDraft]:
        return [draft(i, actor) for i in range(start, start + n)]

    entries_append(organization=org, drafts=drafts(first - batch, batch))  # warm up
    size_before = Log.objects.get(organization=org).size
    # Drafts are made before the clock starts: they are the caller's work, not ours.
    batches = [drafts(first + s, min(batch, total - s)) for s in range(0, total, batch)]
    with CpuMeter() as cpu:
        start = time.perf_counter()
        for chunk in batches:
            entries_append(organization=org, drafts=chunk)
        elapsed = time.perf_counter() - start
    assert Log.objects.get(organization=org).size == size_before + total
    print(f"bulk: entries_append of {total} entries in batches of {batch}")
    print(f"  {total / elapsed:6.0f} entries/s ({elapsed:.2f} s; {cpu.per(total)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=6000, help="single appends each side")
    parser.add_argument("--rounds", type=int, default=30, help="alternating rounds")
    parser.add_argument("--bulk", type=int, default=100_000, help="entries in the bulk test")
    parser.add_argument("--batch", type=int, default=5000, help="entries per entries_append")
    parser.add_argument("--keep", action="store_true", help="keep the bench_ledger database")
    args = parser.parse_args()

    url, created = prepare_database(args.keep)
    setup_django(url)
    from django.db import connection

    from apps.tenancy.services import organization_create

    org = organization_create(slug=f"bench-{uuid.uuid4().hex[:12]}", name="Benchmark Org")
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        print(f"server: {cursor.fetchone()[0]}")
    print(f"client: Python {sys.version.split()[0]}, {os.cpu_count()} CPU cores on this machine")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    try:
        if args.single:
            bench_single(org, per_round=max(1, args.single // args.rounds), rounds=args.rounds)
        if args.bulk:
            bench_bulk(org, total=args.bulk, batch=args.batch)
        print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    finally:
        if created:
            database_drop(BENCH_DB)


if __name__ == "__main__":
    main()
