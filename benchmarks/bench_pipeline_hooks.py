"""Pipeline hooks end to end: ledger-writing lifecycle events through the production
server on PostgreSQL, against a bare DRF write in the same server.

    python benchmarks/bench_pipeline_hooks.py [--clients 8] [--seconds 20] [--rounds 2]

Makes a database of its own (``bench_hooks``; dropped at the end), starts gunicorn as
production runs it (bench_load.py's settings: DEBUG off, PostgreSQL pool) with one
extra route from ``benchmarks/pipeline_hooks_baseline.py``, seeds an organization, a
pipeline key and a served deployment, then drives it with ``--clients`` keep-alive
clients, each for ``--seconds``:

- **ours**: the lifecycle hooks a pipeline records, round robin: a dataset version
  (digest, schema, datasheet), a training run started and completed, a prediction batch
  with its rows root. Every one is a ledger entry, committed with its record.
- **baseline** (named, same run, same server, same key): the same JSON bodies POSTed to
  ``/bench/bare-write``, which writes each as one row of a table with no ledger.

Rounds alternate A B B A. Prints requests/s, p50/p99 latency of each, the ratio of
requests/s (target: at least 0.85) and p99 (target: under 50 ms), the CPU model and the
load average, and whether the log verifies afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import (  # the benchmarks folder is not a package
    DEFAULT_SERVER,
    ORG,
    PYTHON,
    ROOT,
    cpu_model,
    database_drop,
    database_recreate,
    free_port,
    gunicorn_command,
    load_average,
    manage,
    percentile,
    request,
    running_server,
    seed,
    server_env,
)

DATABASE = "bench_hooks"
SCHEMA = [{"name": f"f{j:02d}", "type": "number"} for j in range(30)]
DATASHEET = {  # Art. 10(2), answered as a pipeline would
    "design_choices": "Applicants of 2024-2025, one row per application.",
    "collection_process": "Exported from the loan origination system.",
    "data_origin": "Internal CRM",
    "original_purpose": "Loan servicing",
    "preparation_steps": {"cleaning": "Dropped duplicates", "labelling": "Default in 12 months"},
    "assumptions": "Past repayment predicts future repayment.",
    "suitability": "Covers all regions where the product is sold.",
    "bias_examination": "Approval rates compared by age band and sex.",
    "bias_mitigation": "Reweighing of under-represented age bands.",
    "data_gaps": "Few applicants over 75.",
}
SEED_DEPLOYMENT = """
from apps.tenancy.models import Organization
from apps.tenancy import services
from audit_platform.principal import Principal
org = Organization.objects.get(slug={org!r})
owner = org.memberships.get(role="owner").user
services.organization_policy_update(
    organization=org,
    actor=Principal.for_user(organization=org, user=owner, role="owner", second_factor=True),
    allow_unclassified_activation=True,
)
"""


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def seed_served(port: int, key: str, system_id: str, env: dict[str, str]) -> dict[str, Any]:
    """A dataset, and a deployment serving a model version (the organization's policy
    lets this unclassified benchmark system serve, set by its owner)."""
    manage("shell", "-c", SEED_DEPLOYMENT.format(org=ORG), env=env)

    def post(path: str, body: Any, expected: int = 201) -> Any:
        status, data = request(port, "POST", path, body, key)
        if status != expected:
            raise RuntimeError(f"seeding {path}: {status} {data}")
        return data

    dataset = post("/api/v1/datasets/", {"system_id": system_id, "name": "applicants"})
    model = post("/api/v1/models/", {"system_id": system_id, "name": "scorer"})
    version = post(
        f"/api/v1/models/{model['id']}/versions/",
        {
            "version": "1",
            "artifact_sha256": digest("model"),
            "artifact_format": "xgboost-json",
            "framework": "xgboost",
            "framework_version": "2",
            "uri": "s3://models/scorer/1/model.json",
        },
    )
    deployment = post("/api/v1/deployments/", {"system_id": system_id, "environment": "production"})
    post(
        f"/api/v1/deployments/{deployment['id']}/activate",
        {"model_version_id": version["id"]},
        expected=200,
    )
    return {"dataset": dataset["id"], "deployment": deployment["id"], "system": system_id}


def hook_requests(ids: dict[str, Any], tag: str) -> list[tuple[str, Any, int]]:
    """One round of lifecycle hooks: (path, body, expected status); the training run's
    completion path is filled in once its start answered. ``tag`` makes the dataset
    version's label unique."""
    return [
        (
            f"/api/v1/datasets/{ids['dataset']}/versions/",
            {
                "version": f"v{tag}",
                "sha256": digest(f"data {tag}"),
                "size_bytes": 1_000_000,
                "row_count": 10_000,
                "schema": SCHEMA,
                "split": "train",
                "datasheet": DATASHEET,
                "contains_personal_data": False,
                "contains_special_category_data": False,
                "uri": f"s3://data/applicants/{tag}.parquet",
            },
            201,
        ),
        (
            "/api/v1/training-runs/",
            {"system_id": ids["system"], "params": {"max_depth": 6}, "code_revision": "9f3c2ab"},
            201,
        ),
        ("complete", {"metrics": {"auc": 0.81}, "energy_joules": 12.5}, 200),
        (
            "/api/v1/prediction-batches/",
            {
                "deployment_id": ids["deployment"],
                "input_sha256": digest(f"in {tag}"),
                "output_sha256": digest(f"out {tag}"),
                "row_count": 10_000,
                "rows_root": digest(f"rows {tag}"),
            },
            201,
        ),
    ]


class Client(threading.Thread):
    def __init__(self, name: str, port: int, key: str, ids: dict[str, Any], bare: bool):
        super().__init__(daemon=True)
        self.name, self.port, self.key, self.ids, self.bare = name, port, key, ids, bare
        self.deadline = 0.0
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.start_line: threading.Barrier | None = None

    def call(self, conn: http.client.HTTPConnection, path: str, body: Any, expected: int) -> Any:
        started = time.perf_counter()
        status, data = request(self.port, "POST", path, body, self.key, conn)
        self.latencies.append(time.perf_counter() - started)
        if status != expected:
            self.errors.append(f"{path}: {status} {str(data)[:200]}")
            return None
        return data

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        assert self.start_line is not None
        self.start_line.wait()
        i = 0
        run_id = None
        while time.monotonic() < self.deadline:
            for path, body, expected in hook_requests(self.ids, f"{self.name}-{i}"):
                if self.bare:
                    self.call(conn, "/bench/bare-write", body, 201)
                    continue
                if path == "complete":
                    if run_id is None:
                        continue
                    path = f"/api/v1/training-runs/{run_id}/complete"
                answer = self.call(conn, path, body, expected)
                if path == "/api/v1/training-runs/":
                    run_id = answer["id"] if answer else None
            i += 1
        conn.close()


def drive(
    port: int, key: str, ids: dict[str, Any], clients: int, seconds: float, *, bare: bool, run: int
):
    threads = [Client(f"{run}-{n}", port, key, ids, bare) for n in range(clients)]
    line = threading.Barrier(clients + 1)
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.start_line, thread.deadline = line, deadline
        thread.start()
    started = time.monotonic()
    line.wait()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.monotonic() - started
    latencies = [x for t in threads for x in t.latencies]
    errors = [e for t in threads for e in t.errors]
    return len(latencies) / elapsed, latencies, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}; load average at start: {load_average()}")
    url = database_recreate(DEFAULT_SERVER, DATABASE)
    env = server_env(url, workers=2, threads=8, pool=8)
    env["DJANGO_SETTINGS_MODULE"] = "benchmarks.pipeline_hooks_baseline"
    port = free_port()
    results: dict[str, list[tuple[float, list[float]]]] = {"ours": [], "bare": []}
    errors: list[str] = []
    try:
        manage("migrate", "--noinput", env=env)
        manage(
            "dbshell",
            "--",
            "-c",
            "CREATE TABLE bench_bare_write (id bigserial PRIMARY KEY, body jsonb NOT NULL)",
            env=env,
        )
        with running_server(gunicorn_command(port), env, port, Path("/tmp/bench_hooks.log")):
            key, system_id = seed(port, env)
            ids = seed_served(port, key, system_id, env)
            for round_ in range(args.rounds):
                for k, name in enumerate(("ours", "bare", "bare", "ours")):
                    rate, latencies, failed = drive(
                        port,
                        key,
                        ids,
                        args.clients,
                        args.seconds,
                        bare=name == "bare",
                        run=4 * round_ + k,
                    )
                    results[name].append((rate, latencies))
                    errors += failed
        verify = subprocess.run(
            [PYTHON, "manage.py", "ledger_verify", "--org", ORG],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        database_drop(DEFAULT_SERVER, DATABASE)
    summary = {}
    for name, runs in results.items():
        latencies = [x for _, run in runs for x in run]
        summary[name] = (
            statistics.median(rate for rate, _ in runs),
            percentile(latencies, 0.50),
            percentile(latencies, 0.99),
        )
        rate, p50, p99 = summary[name]
        print(f"{name:5s}: {rate:7.1f} requests/s (median of rounds), p50 {p50:.1f} ms, ", end="")
        print(f"p99 {p99:.1f} ms")
    ratio = summary["ours"][0] / summary["bare"][0]
    print(
        f"{args.clients} clients, {args.seconds:.0f} s per run, {args.rounds} rounds (ABBA); "
        f"ratio ours/bare requests/s: {ratio:.2f} (target >= 0.85); ours p99 "
        f"{summary['ours'][2]:.1f} ms (target < 50 ms)"
    )
    print(f"errors: {len(errors)}" + "".join(f"\n  {e}" for e in errors[:10]))
    last = (verify.stdout + verify.stderr).strip().splitlines()
    print(f"log verifies: {verify.returncode == 0} ({last[-1] if last else ''})")
    print(f"load average at the end: {load_average()}")
    return 0 if not errors and verify.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
