"""Load through the production server: concurrent API clients against gunicorn on
PostgreSQL, with the database connections counted while they run.

    python benchmarks/bench_load.py [--clients 50] [--seconds 30] [--workers 2]
        [--threads 8] [--pool 8] [--baseline]

Makes a database of its own (``bench_load`` on the local server; dropped at the end),
migrates it, creates an organization and a pipeline API key, and starts the server
exactly as production runs it (``gunicorn -c python:audit_platform.gunicorn_conf``,
DJANGO_ENV=production, DEBUG off) on a free loopback port. Then each client keeps one
HTTP/1.1 connection, as a pipeline does, and for the given time sends a mix of reads
(system, training-run list, latest checkpoint, health) and ledger-writing pipeline
hooks (training run started, then completed; dataset registered) as fast as answers
come. A sampler counts the server's connections in ``pg_stat_activity`` every 20 ms.

Reports requests, errors (any answer other than the expected status, or a failed
connection), p50/p95/p99 latency, the peak number of database connections against
the bound ``workers x pool``, and whether the organization's log verifies afterwards
(``manage.py ledger_verify``). Prints the CPU model and the load average.

``--baseline`` runs the same load a second time through what bin/serve used to run:
Django's development server (a thread per client connection) with persistent
connections (DB_POOL=false, DB_CONN_MAX_AGE=60).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
ORG = "bench-load"
# Reads and writes, with their share of the requests a client sends.
MIX = (
    ("system", 20),
    ("runs", 20),
    ("checkpoint", 15),
    ("health", 10),
    ("train", 25),
    ("dataset", 10),
)


@dataclass
class Tally:
    """What one client saw."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    writes: int = 0


@dataclass
class Result:
    server: str
    clients: int
    seconds: float
    requests: int
    writes: int
    errors: list[str]
    p50_ms: float
    p95_ms: float
    p99_ms: float
    peak_connections: int
    connection_bound: int | None
    connections_after: int
    verified: bool
    verify_output: str
    schema_anonymous: int
    schema_with_key: int

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} x {os.cpu_count()}"
    return f"{platform.processor() or platform.machine()} x {os.cpu_count()}"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- database -------------------------------------------------------------------------


def _admin_url(server: str) -> str:
    return f"{server}/postgres"


def database_recreate(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(_admin_url(server), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


def database_drop(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_admin_url(server), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def connection_count(server: str, name: str) -> int:
    import psycopg

    with psycopg.connect(_admin_url(server), autocommit=True) as conn:
        return _count(conn, name)


def _count(conn: Any, name: str) -> int:
    return conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_type = "
        "'client backend'",
        [name],
    ).fetchone()[0]


class ConnectionSampler(threading.Thread):
    """Counts the connections to database ``name`` every 20 ms, from a connection to
    another database (so it does not count itself), and keeps the peak."""

    def __init__(self, server: str, name: str) -> None:
        super().__init__(daemon=True)
        self.server, self.name = server, name
        self.peak = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(_admin_url(self.server), autocommit=True) as conn:
            while not self._halt.is_set():
                self.peak = max(self.peak, _count(conn, self.name))
                self.samples += 1
                self._halt.wait(0.02)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


# --- the server -----------------------------------------------------------------------


def server_env(url: str, *, workers: int, threads: int, pool: int) -> dict[str, str]:
    """Production settings on loopback: DEBUG off, no HTTPS redirect (plain HTTP on
    127.0.0.1), tasks in-process, and a throttle high enough not to refuse the load
    (one API key sends all of it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DB_", "WEB_"))}
    env.update(
        DJANGO_ENV="production",
        DJANGO_SETTINGS_MODULE="audit_platform.settings",
        SECRET_KEY="bench-load-" + "k3y" * 20,
        ALLOWED_HOSTS="127.0.0.1",
        LEDGER_HOST="bench.invalid",
        LEDGER_KEY_ENCRYPTION_KEY="q0Bq8pD2x8H1b5c6y7Zl3sVv1w2E4r5T6y7U8i9O0pA=",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=url,
        CELERY_BROKER_URL="",
        API_THROTTLE_RATE="10000000/min",
        LOG_LEVEL="WARNING",
        WEB_CONCURRENCY=str(workers),
        WEB_THREADS=str(threads),
        DB_POOL_MAX_SIZE=str(pool),
    )
    return env


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}{result.stdout}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    """Starts the server, waits for /healthz to answer 200, stops it (SIGTERM) on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited:\n{log.read_text()[-3000:]}")
                with contextlib.suppress(OSError):
                    status, _ = request(port, "GET", "/healthz")
                    if status == 200:
                        break
                time.sleep(0.2)
            else:
                raise RuntimeError(f"the server did not answer:\n{log.read_text()[-3000:]}")
            yield
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def gunicorn_command(port: int) -> list[str]:
    return [GUNICORN, "-c", "python:audit_platform.gunicorn_conf", "-b", f"127.0.0.1:{port}"]


def runserver_command(port: int) -> list[str]:
    return [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]


# --- the clients ----------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    key: str | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, Any]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        if own:
            conn.close()
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = data[:200]
    return response.status, parsed


class Client(threading.Thread):
    """One pipeline on one keep-alive connection, sending MIX until the deadline."""

    def __init__(self, n: int, port: int, key: str, system_id: int, start: threading.Barrier):
        super().__init__(daemon=True)
        self.n, self.port, self.key, self.system_id = n, port, key, system_id
        self.start_line = start
        self.deadline = 0.0
        self.tally = Tally()
        self.rng = random.Random(n)
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, expected: int, body: Any = None) -> Any:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        started = time.perf_counter()
        try:
            status, data = request(self.port, method, path, body, self.key, self.conn)
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = None
            self.tally.errors.append(f"{method} {path}: {exc.__class__.__name__}: {exc}")
            return None
        self.tally.latencies.append(time.perf_counter() - started)
        if status != expected:
            self.tally.errors.append(f"{method} {path}: {status} {str(data)[:300]}")
            return None
        if method == "POST":
            self.tally.writes += 1
        return data

    def step(self, op: str, i: int) -> None:
        system = self.system_id
        if op == "system":
            self.call("GET", f"/api/v1/systems/{system}", 200)
        elif op == "runs":
            self.call("GET", f"/api/v1/training-runs/?system={system}", 200)
        elif op == "checkpoint":
            self.call("GET", "/api/v1/ledger/checkpoint", 200)
        elif op == "health":
            self.call("GET", "/healthz", 200)
        elif op == "train":
            body = {"system_id": system, "params": {"max_depth": 6}, "code_revision": "9f3c2ab"}
            run = self.call("POST", "/api/v1/training-runs/", 201, body)
            if run is not None:
                done = {"metrics": {"auc": round(self.rng.random(), 4)}, "energy_joules": 12.5}
                self.call("POST", f"/api/v1/training-runs/{run['id']}/complete", 200, done)
        else:
            body = {"system_id": system, "name": f"client-{self.n}-{i}"}
            self.call("POST", "/api/v1/datasets/", 201, body)

    def run(self) -> None:
        ops, weights = zip(*MIX, strict=True)
        self.start_line.wait()
        i = 0
        while time.monotonic() < self.deadline:
            self.step(self.rng.choices(ops, weights)[0], i)
            i += 1
        if self.conn is not None:
            self.conn.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def drive(port: int, key: str, system_id: int, clients: int, seconds: float) -> list[Tally]:
    start = threading.Barrier(clients + 1)
    threads = [Client(n, port, key, system_id, start) for n in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.deadline = deadline
    start.wait()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return [thread.tally for thread in threads]


# --- one run --------------------------------------------------------------------------


def seed(port: int, env: dict[str, str]) -> tuple[str, int]:
    """An organization, a pipeline API key, and one AI system registered through it."""
    owner = "load@example.invalid"
    manage("create_org", ORG, "--name", "Load test", "--owner-email", owner, env=env)
    key = manage(
        "create_api_key",
        *("--org", ORG, "--role", "pipeline", "--name", "load", "--answerable-email", owner),
        env=env,
    )
    key = key.strip().splitlines()[-1]
    body = {"name": "Credit scoring", "intended_purpose": "Load test.", "role": "provider"}
    status, system = request(port, "POST", "/api/v1/systems/", body, key)
    if status != 201:
        raise RuntimeError(f"registering the system: {status} {system}")
    return key, system["id"]


def run_load(
    *,
    clients: int,
    seconds: float,
    workers: int = 2,
    threads: int = 8,
    pool: int = 8,
    server: str = DEFAULT_SERVER,
    database: str = "bench_load",
    baseline: bool = False,
    log_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> Result:
    """Long because it is one run told in order: database, server, seed, load, count,
    stop, verify; each step is a call."""
    url = database_recreate(server, database)
    env = server_env(url, workers=workers, threads=threads, pool=pool)
    if baseline:
        env.update(DB_POOL="false", DB_CONN_MAX_AGE="60")
    env.update(extra_env or {})
    port = free_port()
    command = runserver_command(port) if baseline else gunicorn_command(port)
    log = (log_dir or Path("/tmp")) / f"bench_load_{database}_{port}.log"
    try:
        manage("migrate", "--noinput", env=env)
        with running_server(command, env, port, log):
            key, system_id = seed(port, env)
            schema_anonymous, _ = request(port, "GET", "/api/schema/")
            schema_with_key, _ = request(port, "GET", "/api/schema/", key=key)
            sampler = ConnectionSampler(server, database)
            sampler.start()
            started = time.monotonic()
            tallies = drive(port, key, system_id, clients, seconds)
            elapsed = time.monotonic() - started
            peak = sampler.stop()
        after = connection_count(server, database)
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
        database_drop(server, database)
    latencies = [x for t in tallies for x in t.latencies]
    return Result(
        server="runserver, persistent connections" if baseline else "gunicorn, pooled",
        clients=clients,
        seconds=elapsed,
        requests=len(latencies) + sum(len(t.errors) for t in tallies),
        writes=sum(t.writes for t in tallies),
        errors=[e for t in tallies for e in t.errors],
        p50_ms=percentile(latencies, 0.50),
        p95_ms=percentile(latencies, 0.95),
        p99_ms=percentile(latencies, 0.99),
        peak_connections=peak,
        connection_bound=None if baseline else workers * pool,
        connections_after=after,
        verified=verify.returncode == 0,
        verify_output=(verify.stdout + verify.stderr).strip(),
        schema_anonymous=schema_anonymous,
        schema_with_key=schema_with_key,
    )


def report(result: Result) -> None:
    bound = result.connection_bound
    print(f"--- {result.server}: {result.clients} clients for {result.seconds:.1f} s")
    print(
        f"requests {result.requests} ({result.throughput:.0f}/s), of which ledger writes "
        f"{result.writes}; errors {len(result.errors)}"
    )
    for error in result.errors[:10]:
        print(f"  error: {error}")
    print(
        f"latency p50 {result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms"
    )
    limit = f" (bound: {bound} = workers x pool)" if bound else " (no bound)"
    print(
        f"peak PostgreSQL connections {result.peak_connections}{limit}; "
        f"after stop {result.connections_after}"
    )
    print(
        f"schema without credentials: {result.schema_anonymous}; "
        f"with the API key: {result.schema_with_key}"
    )
    last = result.verify_output.splitlines()[-1] if result.verify_output else ""
    print(f"log verifies: {result.verified} ({last})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pool", type=int, default=8)
    parser.add_argument("--baseline", action="store_true", help="also run the old dev server")
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}; load average at start: {load_average()}")
    print(f"server: {args.workers} gunicorn workers x {args.threads} threads, pool {args.pool}")
    result = run_load(
        clients=args.clients,
        seconds=args.seconds,
        workers=args.workers,
        threads=args.threads,
        pool=args.pool,
    )
    report(result)
    bounded = result.peak_connections <= args.workers * args.pool
    ok = not result.errors and result.verified and bounded
    if args.baseline:
        print(f"load average before the baseline: {load_average()}")
        report(run_load(clients=args.clients, seconds=args.seconds, baseline=True))
    print(f"load average at the end: {load_average()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
