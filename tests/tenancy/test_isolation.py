"""A key of one organization never reaches another organization's objects, and a
request without a key gets 401, on every route of the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.tasks.services import task_record_create
from apps.tenancy.models import ApiKey, Membership
from apps.tenancy.principal import Principal
from apps.tenancy.services import membership_add
from tests.api_routes import api_v1_route_names


@pytest.fixture
def victim(org, api_key_for):
    """Organization A with one object of every kind a route can address."""
    api_key_for(org, "pipeline", name="victim-pipeline")
    membership, _ = membership_add(
        organization=org,
        email="officer@a.example",
        role="compliance_officer",
        actor=Principal.system(organization=org, name="tests"),
    )
    task = task_record_create(organization=org, kind="ledger.verify")
    return {
        "api_key": ApiKey.objects.filter(organization=org).first(),
        "membership": membership,
        "task": task,
    }


# route name -> (method, path kwargs from the victim's objects, status for a key of
# another organization). Collection routes answer for the caller's own organization;
# the test then checks that none of the victim's objects appear.
DETAIL = 404
ROUTES = {
    "organization": ("get", lambda v: {}, 200),
    "api-key-list": ("get", lambda v: {}, 200),
    "api-key-revoke": ("post", lambda v: {"pk": v["api_key"].pk}, DETAIL),
    "membership-list": ("get", lambda v: {}, 200),
    "membership-detail": ("get", lambda v: {"pk": v["membership"].pk}, DETAIL),
    "task-detail": ("get", lambda v: {"pk": v["task"].pk}, DETAIL),
    "ledger-checkpoint": ("get", lambda v: {}, 200),
    "ledger-checkpoint-at": ("get", lambda v: {"size": 3}, DETAIL),
    "ledger-keys": ("get", lambda v: {}, 200),
    "ledger-entries": ("get", lambda v: {}, 200),
    "ledger-entry-proof": ("get", lambda v: {"seq": 2}, DETAIL),
    "ledger-inclusion-proof": ("get", lambda v: {}, 200),
    "ledger-consistency-proof": ("get", lambda v: {}, 200),
    "ledger-export": ("get", lambda v: {}, 200),
    "ledger-verify": ("post", lambda v: {}, 202),
}
QUERY = {
    "ledger-inclusion-proof": {"index": 0, "size": 1},
    "ledger-consistency-proof": {"old": 1, "new": 1},
}


def test_every_api_route_is_covered_here():
    assert api_v1_route_names() == set(ROUTES), "add new routes to ROUTES"


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_key_of_another_organization_sees_nothing_of_it(name, victim, org, other_org, client_for):
    method, kwargs, expected = ROUTES[name]
    client = client_for(other_org, "owner")
    url = reverse(name, kwargs=kwargs(victim))
    response = getattr(client, method)(url, QUERY.get(name, {}))
    assert response.status_code == expected, response.content[:300]
    body = response.content.decode("utf-8", "replace")
    # Nothing that identifies organization A leaks into B's answer.
    assert org.ledger_log.origin not in body
    assert victim["api_key"].prefix not in body
    assert "officer@a.example" not in body


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_request_without_key_gets_401(name, victim, client):
    method, kwargs, _ = ROUTES[name]
    response = getattr(client, method)(reverse(name, kwargs=kwargs(victim)), QUERY.get(name, {}))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_revoking_another_organizations_key_leaves_it_active(victim, other_org, client_for):
    client = client_for(other_org, "owner")
    client.post(reverse("api-key-revoke", kwargs={"pk": victim["api_key"].pk}))
    victim["api_key"].refresh_from_db()
    assert victim["api_key"].revoked_at is None


def test_membership_of_another_organization_cannot_be_deleted(victim, other_org, client_for):
    client = client_for(other_org, "owner")
    response = client.delete(reverse("membership-detail", kwargs={"pk": victim["membership"].pk}))
    assert response.status_code == 404
    assert Membership.objects.filter(pk=victim["membership"].pk).exists()
