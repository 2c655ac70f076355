"""Shared test setup.

The suite runs against the database named by DATABASE_URL (PostgreSQL in CI).
Tests that need PostgreSQL or Redis skip where they are missing, except under
CI=true, where they fail: CI must never go green on a skipped service.

Shared fixtures live in tests/fixtures.py, objects made through the services in
tests/factories.py, and plain helpers (assert_nothing_written among them) in
tests/support.py. A folder's conftest.py holds only what that folder alone needs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.support import ledger_triggers_disabled, require_service

# Fixtures every test folder shares (organizations, API clients, API calls).
pytest_plugins = ["tests.fixtures"]


@pytest.fixture(scope="session", autouse=True)
def _transactional_flush_passes_ledger_triggers() -> Iterator[None]:
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def teardown(self: TransactionTestCase) -> None:
        with ledger_triggers_disabled():
            original(self)

    TransactionTestCase._fixture_teardown = teardown
    yield
    TransactionTestCase._fixture_teardown = original


GPU_TESTS = Path(__file__).resolve().parent / "tests" / "gpu"


@pytest.fixture(autouse=True)
def _cpu_outside_tests_gpu(request: pytest.FixtureRequest, settings, monkeypatch) -> None:
    """Every test outside tests/gpu runs on the CPU, on any machine: INFERENCE_DEVICE
    defaults to auto, which takes a GPU where NVML finds one, and these tests
    assert what the CPU records. Worker processes the tests start inherit it.
    A test that sets INFERENCE_DEVICE itself (with a fake NVML) still can."""
    if GPU_TESTS in Path(str(request.node.path)).resolve().parents:
        return
    settings.INFERENCE_DEVICE = "cpu"
    monkeypatch.setenv("INFERENCE_DEVICE", "cpu")


@pytest.fixture
def postgres():
    """For tests that need PostgreSQL itself (row locks, its triggers)."""
    require_service(
        "PostgreSQL", connection.vendor == "postgresql", f"DATABASE_URL uses {connection.vendor}"
    )
    return connection


@pytest.fixture
def redis_url() -> str:
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        available = True
    except redis.RedisError as exc:
        available, reason = False, f"{url}: {exc}"
    require_service("Redis", available, reason if not available else url)
    return url
