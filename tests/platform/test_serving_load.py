"""The production server under load, briefly: gunicorn on PostgreSQL with concurrent
pipeline clients answers every request, holds no more database connections than its
pools allow, closes the schema to anonymous callers, and leaves a log that verifies.
The full run (50 clients for 30 s) is benchmarks/bench_load.py (docs/benchmarks.md)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import dj_database_url
import pytest

from tests.support import require_service

ROOT = Path(__file__).resolve().parents[2]


def _bench_load():
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "benchmarks/bench_load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def postgres_server() -> tuple[str, str]:
    """The PostgreSQL server of DATABASE_URL, and a database name of this checkout's
    own for the run (the server's processes need committed data, not a test
    transaction)."""
    url = os.environ.get("DATABASE_URL", "")
    require_service("PostgreSQL", url.startswith("postgres"), f"DATABASE_URL is {url!r}")
    parsed = dj_database_url.parse(url)
    auth = parsed["USER"] + (f":{parsed['PASSWORD']}" if parsed["PASSWORD"] else "")
    server = f"postgres://{auth}@{parsed['HOST'] or '127.0.0.1'}:{parsed['PORT'] or 5432}"
    return server, f"{parsed['NAME']}_load"


def test_gunicorn_under_concurrent_clients_keeps_connections_bounded(postgres_server, tmp_path):
    server, database = postgres_server
    bench = _bench_load()
    workers, pool = 2, 3
    result = bench.run_load(
        clients=20,
        seconds=5,
        workers=workers,
        threads=3,
        pool=pool,
        server=server,
        database=database,
        log_dir=tmp_path,
    )
    assert result.errors == []
    assert result.requests > 20 and result.writes > 5
    assert 0 < result.peak_connections <= workers * pool
    assert result.connections_after == 0
    assert result.verified, result.verify_output
    # DJANGO_ENV=production: the schema answers the API key, not an anonymous caller.
    assert (result.schema_anonymous, result.schema_with_key) == (401, 200)
