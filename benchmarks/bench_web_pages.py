"""The dashboard's server time in a large organization: 50 AI systems (classified), 500
model versions and 100,000 ledger entries, against a named baseline in the same run.

Ours: ``GET /`` through Django's test client, signed in as an owner (the whole view,
templates included; no network). The obligations met/total of every system come from
``compliance.selectors.obligation_tallies``, a fixed number of queries for all of them.

Baseline, same run: what the dashboard would otherwise do for that column, the
per-system checklist ``obligations_for_system`` called for each of the 50 systems
(its queries grow with the systems), timed alone, against ``obligation_tallies`` alone.
Rounds alternate (ours, baseline); the median and best of each are printed with the
ratio, and the page's query count. The issue's target: every page under 300 ms.

The database: ``bench_web`` on postgres://postgres@127.0.0.1:5432, dropped and created
afresh, migrated, and dropped at the end unless --keep.

Usage: .venv/bin/python benchmarks/bench_web_pages.py [--entries N] [--rounds R] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_ledger_append import draft  # noqa: E402
from bench_postgres import database_drop, database_recreate, setup_django  # noqa: E402

BENCH_DB = "bench_web"
SYSTEMS, VERSIONS_EACH = 50, 10
TARGET_MS = 300


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def seed(*, entries: int):
    from apps.ledger.services import entries_append
    from apps.ledger.types import Actor
    from apps.tenancy import services as tenancy
    from tests.factories import (
        AISystemFactory,
        ClassificationFactory,
        IncidentFactory,
        ModelFactory,
        ModelVersionFactory,
    )

    org = tenancy.organization_create(slug="bench-web", name="Benchmark Org")
    owner, _ = tenancy.membership_add(
        organization=org,
        email="owner@bench.example.invalid",
        role="owner",
        actor=tenancy_actor(org),
    )
    systems = []
    for n in range(SYSTEMS):
        system = AISystemFactory(organization=org, name=f"System {n:02d}")
        ClassificationFactory(system=system)
        model = ModelFactory(system=system)
        for _ in range(VERSIONS_EACH):
            ModelVersionFactory(model=model)
        if n % 10 == 0:
            IncidentFactory(system=system)
        systems.append(system)
    actor = Actor(kind="api_key", id="ak_bench", name="training pipeline")
    batch = 5000
    for start in range(0, entries, batch):
        entries_append(
            organization=org,
            drafts=[draft(i, actor) for i in range(start, min(entries, start + batch))],
        )
    return org, owner.user, systems


def tenancy_actor(org):
    from audit_platform.principal import Principal

    return Principal.system(organization=org, name="bench_web_pages")


def timed(func) -> float:
    start = time.perf_counter()
    func()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="extra ledger entries")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the bench_web database")
    args = parser.parse_args()

    url = database_recreate(BENCH_DB)
    setup_django(url)
    try:
        run(args)
    finally:
        if not args.keep:
            database_drop(BENCH_DB)


def run(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.test import Client

    from apps.compliance import selectors as compliance
    from apps.ledger import selectors as ledger

    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; Python {sys.version.split()[0]}")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    seeding = time.perf_counter()
    org, owner, systems = seed(entries=args.entries)
    size = ledger.log_for(organization=org).size
    print(
        f"seeded in {time.perf_counter() - seeding:.0f} s: {len(systems)} systems, "
        f"{SYSTEMS * VERSIONS_EACH} model versions, {size} ledger entries"
    )
    client = Client()
    client.force_login(owner)

    def page() -> None:
        response = client.get("/")
        assert response.status_code == 200, response.status_code

    page()  # warm: templates compiled, connection open
    counted = []
    with connection.execute_wrapper(lambda execute, *a: counted.append(1) or execute(*a)):
        page()
    ours_page, ours_tally, baseline = [], [], []
    for _ in range(args.rounds):
        ours_page.append(timed(page))
        ours_tally.append(timed(lambda: compliance.obligation_tallies(systems=systems)))
        baseline.append(
            timed(lambda: [compliance.obligations_for_system(system=s) for s in systems])
        )

    def line(name: str, values: list[float]) -> str:
        median, best = statistics.median(values), min(values)
        return f"  {name:<52} median {median:7.1f} ms, best {best:7.1f} ms"

    print(f"dashboard GET / ({len(counted)} queries), {args.rounds} rounds:")
    print(line("ours: the whole page", ours_page))
    print(line("ours: obligations met/total, obligation_tallies", ours_tally))
    print(line("baseline: obligations_for_system for each system", baseline))
    ratio = statistics.median(baseline) / statistics.median(ours_tally)
    print(f"  obligations column: ours is {ratio:.1f}x faster than the baseline (medians)")
    verdict = "within" if statistics.median(ours_page) < TARGET_MS else "OVER"
    print(f"  page median {verdict} the {TARGET_MS} ms target")
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
