"""What each role may do through the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.ledger.models import Entry
from apps.tenancy.models import ApiKey, Membership
from tests.factories import MembershipFactory
from tests.support import assert_nothing_written


def test_pipeline_key_cannot_create_api_keys(org, client_for):
    client = client_for(org, "pipeline")
    keys_before = ApiKey.objects.count()
    response = client.post(reverse("api-key-list"), {"role": "owner"}, format="json")
    assert response.status_code == 403
    assert "pipeline" in response.json()["error"]["message"]
    assert ApiKey.objects.count() == keys_before


def test_pipeline_key_cannot_invite_members(org, client_for):
    client = client_for(org, "pipeline")
    response = client.post(
        reverse("invitation-list"), {"email": "x@example.com", "role": "owner"}, format="json"
    )
    assert response.status_code == 403
    assert not Membership.objects.exists()


def test_nobody_attaches_an_account_to_the_organization_directly(org, client_for):
    owner = client_for(org, "owner")
    with assert_nothing_written():
        response = owner.post(
            reverse("membership-list"), {"email": "x@example.com", "role": "owner"}, format="json"
        )
    assert response.status_code == 405


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("api-key-list", {"role": "pipeline"}),
        ("invitation-list", {"email": "x@example.com", "role": "auditor"}),
    ],
)
def test_auditor_key_cannot_write(org, client_for, name, payload):
    client = client_for(org, "auditor")
    entries_before = Entry.objects.count()
    response = client.post(reverse(name), payload, format="json")
    assert response.status_code == 403
    assert Entry.objects.count() == entries_before


def test_auditor_reads_entries_and_exports(org, client_for):
    client = client_for(org, "auditor")
    assert client.get(reverse("ledger-entries")).status_code == 200
    assert client.get(reverse("ledger-export")).status_code == 200
    assert client.get(reverse("membership-list")).status_code == 200


def test_owner_creates_a_key_shown_once_and_recorded(org, client_for):
    client = client_for(org, "owner")
    response = client.post(
        reverse("api-key-list"), {"role": "pipeline", "name": "ci"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    secret = body["key"]
    assert secret.startswith(body["prefix"] + "_")
    assert (
        body["ledger"]["seq"]
        == Entry.objects.get(type="api_key.created", subject_id=body["prefix"]).seq
    )
    # The secret itself is stored nowhere and never listed again.
    assert secret not in str(list(ApiKey.objects.values()))
    listing = client.get(reverse("api-key-list")).content.decode()
    assert secret not in listing and body["prefix"] in listing
    # And it works.
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(reverse("organization")).json()["slug"] == "acme"


def test_revoked_key_gets_401(org, client_for):
    owner = client_for(org, "owner")
    created = owner.post(reverse("api-key-list"), {"role": "pipeline"}, format="json").json()
    owner.post(reverse("api-key-revoke", kwargs={"pk": created["id"]}))
    pipeline = owner.__class__()
    pipeline.credentials(HTTP_AUTHORIZATION=f"Bearer {created['key']}")
    response = pipeline.get(reverse("organization"))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Unknown or revoked API key."


@pytest.mark.parametrize("header", ["Bearer ak_unknown_key", "Bearer nonsense", "Bearer "])
def test_unknown_key_gets_401(org, client, header):
    response = client.get(reverse("organization"), HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_last_owner_cannot_be_removed(org, client_for):
    membership = MembershipFactory(organization=org, email="boss@a.example", role="owner")
    client = client_for(org, "owner")
    with assert_nothing_written():
        response = client.delete(reverse("membership-detail", kwargs={"pk": membership.pk}))
    assert response.status_code == 409
    assert "last owner" in response.json()["error"]["message"]
    assert Membership.objects.filter(pk=membership.pk).exists()
