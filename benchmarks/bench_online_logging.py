"""Online decisions logged as JSON Lines, sealed included, against a plain table.

Usage: python benchmarks/bench_online_logging.py [--decisions N] [--post P] [--seal S]

Ours: ``POST /api/v1/deployments/{id}/online/decisions`` with P decisions of JSON
Lines a request, through the whole Django stack in-process (API key, parser, view,
service): each line checked and its input digested (RFC 8785), the decisions
inserted with duplicate detection, and every S decisions sealed into a prediction
batch (rows file, rows root, ``prediction_batch.recorded`` entry) by the sealing task,
which runs in-process right after the commit that fills a batch (no broker). The rest
is sealed at the end, inside the timing.

Baseline, in the same run and on the same database: the same JSON Lines parsed with
``json.loads`` and the same rows (id, input, output) written with psycopg's
``executemany`` into a plain table with only a primary key, one transaction per
post. No digest, no duplicate check, no sealing, no HTTP.

Prints decisions per second of each and their ratio, the CPU model and the load.
Makes a database ``bench_online`` on postgres://postgres@127.0.0.1:5432, dropped at
the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_ledger_append import CpuMeter  # noqa: E402
from bench_postgres import database_drop, database_recreate, setup_django  # noqa: E402

BENCH_DB = "bench_online"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def posts(decisions: int, per_post: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    lines = [
        json.dumps(
            {
                "id": f"req-{n}",
                "input": {
                    "age": rng.randint(18, 90),
                    "income": round(rng.uniform(0, 200_000), 2),
                    "region": rng.choice(["north", "south", "east", "west"]),
                    "tenure": rng.randint(0, 40),
                    "score": rng.random(),
                    "defaults": rng.randint(0, 3),
                    "employed": rng.random() < 0.7,
                    "since": f"20{rng.randint(10, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                },
                "output": rng.random(),
            }
        )
        for n in range(decisions)
    ]
    return [
        ("\n".join(lines[i : i + per_post]) + "\n").encode() for i in range(0, decisions, per_post)
    ]


def run_ours(bodies: list[bytes], deployment_id: int, key: str, cpu: CpuMeter) -> float:
    from django.test import Client

    from apps.fleet.services.online import online_seal

    client = Client()
    url = f"/api/v1/deployments/{deployment_id}/online/decisions"
    start = time.perf_counter()
    with cpu:
        _post_all(client, url, bodies, key)
        online_seal(deployment_id=deployment_id, force=True)
    return time.perf_counter() - start


def _post_all(client: Any, url: str, bodies: list[bytes], key: str) -> None:
    for body in bodies:
        response = client.post(
            url,
            data=body,
            content_type="application/x-ndjson",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        assert response.status_code == 202, response.content[:500]


def run_baseline(bodies: list[bytes], cpu: CpuMeter) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_plain (id bigserial PRIMARY KEY, request_id text, "
            "input jsonb, output jsonb)"
        )
    raw = connection.connection
    start = time.perf_counter()
    with cpu:
        _insert_plain(raw, bodies)
    return time.perf_counter() - start


def _insert_plain(raw: Any, bodies: list[bytes]) -> None:
    for body in bodies:
        rows = [json.loads(line) for line in body.decode().splitlines() if line]
        with raw.transaction(), raw.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_plain (request_id, input, output) VALUES (%s, %s, %s)",
                [(r["id"], json.dumps(r["input"]), json.dumps(r["output"])) for r in rows],
            )


def setup_deployment() -> tuple[int, str]:
    from tests import factories

    org = factories.OrganizationFactory(slug="bench-online")
    key = factories.ApiKeyFactory(organization=org, role="ml_engineer")
    version = factories.ModelVersionFactory(model__system__organization=org)
    deployment = factories.DeploymentFactory(system=version.model.system, serving=version)
    return deployment.pk, key.secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--post", type=int, default=10_000, help="decisions per request")
    parser.add_argument("--seal", type=int, default=10_000, help="FLEET_SEAL_ROWS")
    args = parser.parse_args()
    os.environ["FLEET_SEAL_ROWS"] = str(args.seal)
    os.environ["FLEET_MAX_BODY_BYTES"] = str(64 * 1024**2)
    os.environ.pop("CELERY_BROKER_URL", None)  # the sealing task runs in-process
    url = database_recreate(BENCH_DB)
    load_start = os.getloadavg()
    try:
        with tempfile.TemporaryDirectory() as media:
            setup_django(url, media=media)
            from django.conf import settings

            settings.ALLOWED_HOSTS = ["*"]
            deployment_id, key = setup_deployment()
            bodies = posts(args.decisions, args.post)
            baseline_cpu, ours_cpu = CpuMeter(), CpuMeter()
            baseline = run_baseline(bodies, baseline_cpu)
            ours = run_ours(bodies, deployment_id, key, ours_cpu)
            from apps.registry.models import PredictionBatch

            sealed = PredictionBatch.objects.filter(deployment_id=deployment_id)
            rows = sum(b.row_count for b in sealed)
            assert rows == args.decisions, (rows, args.decisions)
    finally:
        database_drop(BENCH_DB)
    n = args.decisions
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*load_start))
    print("load average at end:   {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"{n} decisions, {args.post} a post, sealed every {args.seal}: {sealed.count()} batches")
    print(f"ours (HTTP, digests, dedup, sealing): {ours:.2f} s, {n / ours:,.0f} decisions/s")
    print(
        f"baseline (json.loads + executemany into a plain table): {baseline:.2f} s, "
        f"{n / baseline:,.0f} decisions/s"
    )
    print(f"ratio ours/baseline throughput: {baseline / ours:.2f}x")
    for name, meter in (("ours", ours_cpu), ("baseline", baseline_cpu)):
        server = f"{meter.server:.2f} s" if meter.server is not None else "unknown"
        print(f"CPU time of {name}: this process {meter.client:.2f} s, database backend {server}")


if __name__ == "__main__":
    main()
