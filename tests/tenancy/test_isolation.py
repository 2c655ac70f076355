"""A key of one organization never reaches another organization's objects, and a
request without a key gets 401, on every route of the API. The routes and their
cases come from each app's tests/<app>/isolation_cases.py."""

from __future__ import annotations

import contextlib

import pytest
from django.urls import reverse

from apps.tenancy.models import ApiKey, Membership
from tests.api_routes import all_cases, api_v1_route_names, isolation_modules
from tests.support import assert_nothing_written

CASES = all_cases()


@pytest.fixture
def victim(org):
    """Organization A with one record of every kind a route can address."""
    objects: dict = {}
    for module in isolation_modules():
        objects.update(module.victim(org))
    return objects


@pytest.fixture
def victim_secrets(victim):
    return [text for module in isolation_modules() for text in module.secrets(victim)]


def _call(client, name: str, victim: dict):
    case = CASES[name]
    url = reverse(name, kwargs=case.kwargs(victim))
    if case.method == "get":
        return client.get(url, case.query)
    return getattr(client, case.method)(url, case.body, format="json")


def test_every_api_route_is_covered_here():
    assert api_v1_route_names() == set(CASES), (
        "declare new routes in tests/<app>/isolation_cases.py"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_key_of_another_organization_sees_nothing_of_it(
    name, victim, victim_secrets, other_org, client_for
):
    client = client_for(other_org, "owner")
    refused = CASES[name].status >= 400
    with assert_nothing_written() if refused else contextlib.nullcontext():
        response = _call(client, name, victim)
    assert response.status_code == CASES[name].status, response.content[:300]
    body = response.content.decode("utf-8", "replace") if not response.streaming else ""
    for secret in victim_secrets:
        assert secret not in body


# Routes anyone may call: accepting an invitation is proven by the token of its link
# (tests/tenancy/test_invitations.py), not by a key or a member's session; an MLflow
# webhook by its HMAC signature (tests/integrations/test_mlflow.py); our OpenLineage
# facet schemas are public documents, as a facet's _schemaURL must be.
PUBLIC = {"invitation-accept", "mlflow-webhook", "openlineage-facet-schema"}


@pytest.mark.parametrize("name", sorted(set(CASES) - PUBLIC))
def test_request_without_key_gets_401(name, victim, client):
    with assert_nothing_written():
        response = _call(client, name, victim)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_revoking_another_organizations_key_leaves_it_active(victim, other_org, client_for):
    client = client_for(other_org, "owner")
    with assert_nothing_written():
        client.post(reverse("api-key-revoke", kwargs={"pk": victim["api_key"].pk}))
    assert ApiKey.objects.get(pk=victim["api_key"].pk).revoked_at is None


def test_membership_of_another_organization_cannot_be_deleted(victim, other_org, client_for):
    client = client_for(other_org, "owner")
    url = reverse("membership-detail", kwargs={"pk": victim["membership"].pk})
    with assert_nothing_written():
        response = client.delete(url)
    assert response.status_code == 404
    assert Membership.objects.filter(pk=victim["membership"].pk).exists()
