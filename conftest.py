"""Shared test setup.

The suite runs against the database named by DATABASE_URL (PostgreSQL in CI).
Tests that need PostgreSQL or Redis skip where they are missing, except under
CI=true, where they fail: CI must never go green on a skipped service.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.db import connection

from tests.support import ledger_triggers_disabled, require_service


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


@pytest.fixture
def make_org(db):
    """Creates organizations (with their ledger) on demand: ``make_org("acme")``."""
    from apps.tenancy.services import organization_create

    def make(slug: str = "acme", name: str | None = None):
        return organization_create(slug=slug, name=name or slug.title())

    return make


@pytest.fixture
def org(make_org):
    return make_org("acme")


@pytest.fixture
def other_org(make_org):
    return make_org("globex")


@pytest.fixture
def api_key_for(db):
    """``api_key_for(org, role)`` returns a fresh secret for a key of that role."""
    from apps.tenancy.services import api_key_create
    from audit_platform.principal import Principal

    def make(organization, role: str = "owner", name: str = "test") -> str:
        actor = Principal.system(organization=organization, name="tests")
        return api_key_create(organization=organization, role=role, name=name, actor=actor)[1]

    return make


@pytest.fixture
def client_for(api_key_for):
    """``client_for(org, role)``: a DRF test client that sends a Bearer key of that role."""
    from rest_framework.test import APIClient

    def make(organization, role: str = "owner") -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(organization, role)}")
        return client

    return make
