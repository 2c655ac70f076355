"""Requests are rate-limited per API key, not per address."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from apps.tenancy.throttling import PrincipalRateThrottle


@pytest.fixture
def three_per_minute(monkeypatch):
    monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", {"principal": "3/min"})
    cache.clear()
    yield
    cache.clear()


def test_a_key_over_its_rate_gets_429_and_another_key_does_not(org, client_for, three_per_minute):
    busy, quiet = client_for(org, "pipeline"), client_for(org, "pipeline")
    statuses = [busy.get(reverse("organization")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = busy.get(reverse("organization"))
    assert limited.json()["error"]["code"] == "throttled"
    assert int(limited["Retry-After"]) > 0
    # Same address, other key: its own budget.
    assert quiet.get(reverse("organization")).status_code == 200
