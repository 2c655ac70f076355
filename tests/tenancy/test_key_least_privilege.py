"""Least privilege for API keys (issue #19): the new secret is never cached, pipelines
do not read members' e-mail addresses, keys expire, keys limited to some AI systems
touch nothing else, and rotation gives a new secret while the old one keeps working
for a grace period, then stops."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.tenancy.models import ApiKey
from tests.factories import MembershipFactory
from tests.support import assert_nothing_written, last_entry


def _bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _create_key(client, status: int = 201, **payload):
    response = client.post(reverse("api-key-list"), payload, format="json")
    assert response.status_code == status, response.content
    return response


def test_the_new_key_answer_is_never_cached(owner):
    response = _create_key(owner, role="pipeline")
    assert response["Cache-Control"] == "no-store"
    rotated = owner.post(reverse("api-key-rotate", kwargs={"pk": response.json()["id"]}))
    assert rotated.status_code == 201, rotated.content
    assert rotated["Cache-Control"] == "no-store"


def test_a_pipeline_key_cannot_list_members_email_addresses(org, pipeline, client_for):
    membership = MembershipFactory(organization=org, email="someone@acme.example")
    for url in (
        reverse("membership-list"),
        reverse("membership-detail", kwargs={"pk": membership.pk}),
    ):
        response = pipeline.get(url)
        assert response.status_code == 403
        assert b"someone@acme.example" not in response.content
        assert "see_members" in response.json()["error"]["message"]
    # People's roles may see who their colleagues are.
    listed = client_for(org, "auditor").get(reverse("membership-list")).json()["results"]
    assert "someone@acme.example" in [m["email"] for m in listed]


def test_a_key_stops_working_when_it_expires(org, owner, monkeypatch):
    expires = timezone.now() + timedelta(hours=1)
    body = _create_key(owner, role="pipeline", expires_at=expires.isoformat()).json()
    assert body["expires_at"] is not None
    key = _bearer(body["key"])
    assert key.get(reverse("organization")).status_code == 200
    later = expires + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    refused = key.get(reverse("organization"))
    assert refused.status_code == 401
    assert "expired" in refused.json()["error"]["message"]


def test_a_key_cannot_be_made_already_expired(owner):
    with assert_nothing_written():
        response = _create_key(
            owner,
            status=400,
            role="pipeline",
            expires_at=(timezone.now() - timedelta(minutes=1)).isoformat(),
        )
    assert "in the past" in response.json()["error"]["message"]


# --- Keys limited to some AI systems ------------------------------------------------------


@pytest.fixture
def two_systems(post):
    def register(name: str) -> int:
        return post(
            "system-list", {"name": name, "intended_purpose": "Scoring", "role": "provider"}
        )["id"]

    return register("Mine"), register("Theirs")


def test_a_scoped_key_reads_and_writes_only_its_systems(owner, two_systems):
    mine, theirs = two_systems
    body = _create_key(owner, role="pipeline", system_ids=[mine]).json()
    assert body["system_ids"] == [mine]
    key = _bearer(body["key"])

    listed = key.get(reverse("system-list")).json()["results"]
    assert [s["id"] for s in listed] == [mine]
    assert key.get(reverse("system-detail", kwargs={"pk": theirs})).status_code == 404
    assert key.get(reverse("system-detail", kwargs={"pk": mine})).status_code == 200

    with assert_nothing_written():
        refused = key.post(
            reverse("model-list"), {"system_id": theirs, "name": "sneaky"}, format="json"
        )
    assert refused.status_code == 403
    assert "limited to AI systems" in refused.json()["error"]["message"]
    with assert_nothing_written():
        refused = key.post(
            reverse("system-list"),
            {"name": "New", "intended_purpose": "x", "role": "provider"},
            format="json",
        )
    assert refused.status_code == 403
    assert "cannot register new ones" in refused.json()["error"]["message"]

    created = key.post(reverse("model-list"), {"system_id": mine, "name": "ok"}, format="json")
    assert created.status_code == 201, created.content
    models = key.get(reverse("model-list")).json()["results"]
    assert {m["system"] for m in models} == {mine}


def test_a_scoped_key_cannot_make_a_key_for_other_systems(org, owner, two_systems):
    mine, theirs = two_systems
    scoped_owner = _bearer(_create_key(owner, role="owner", system_ids=[mine]).json()["key"])
    with assert_nothing_written():
        refused = _create_key(scoped_owner, status=403, role="pipeline")
    assert "limited to some AI systems" in refused.json()["error"]["message"]
    with assert_nothing_written():
        _create_key(scoped_owner, status=403, role="pipeline", system_ids=[theirs])
    _create_key(scoped_owner, role="pipeline", system_ids=[mine])


@pytest.mark.parametrize("system_ids", [[], [999_999]])
def test_a_scope_of_unknown_systems_is_refused(owner, system_ids):
    with assert_nothing_written():
        response = _create_key(owner, status=400, role="pipeline", system_ids=system_ids)
    assert "system_ids" in response.json()["error"]["fields"]


def test_a_scope_cannot_name_another_organizations_system(owner, other_org, client_for):
    theirs = client_for(other_org, "owner").post(
        reverse("system-list"),
        {"name": "Other", "intended_purpose": "x", "role": "provider"},
        format="json",
    )
    assert theirs.status_code == 201
    with assert_nothing_written():
        response = _create_key(owner, status=400, role="pipeline", system_ids=[theirs.json()["id"]])
    assert "No AI system" in response.json()["error"]["message"]


# --- Rotation ----------------------------------------------------------------------------


def test_rotation_keeps_the_old_secret_working_for_the_grace_period_then_stops(
    org, owner, monkeypatch
):
    old_body = _create_key(owner, role="pipeline", name="nightly").json()
    old = _bearer(old_body["key"])
    rotated = owner.post(reverse("api-key-rotate", kwargs={"pk": old_body["id"]}))
    assert rotated.status_code == 201, rotated.content
    new_body = rotated.json()
    assert new_body["key"] != old_body["key"]
    assert (new_body["name"], new_body["role"]) == ("nightly", "pipeline")
    new = _bearer(new_body["key"])

    # Both work during the grace period (24 hours by default).
    assert old.get(reverse("organization")).status_code == 200
    assert new.get(reverse("organization")).status_code == 200
    old_key = ApiKey.objects.get(pk=old_body["id"])
    assert str(old_key.replaced_by_id) == new_body["id"]
    grace_end = old_key.expires_at
    assert timedelta(hours=23) < grace_end - timezone.now() <= timedelta(hours=24)
    entry = last_entry(org, "api_key.rotated")
    assert entry["subject"]["id"] == old_body["prefix"]
    assert entry["data"]["replaced_by"] == new_body["prefix"]

    # After it, only the new one.
    later = grace_end + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    refused = old.get(reverse("organization"))
    assert refused.status_code == 401
    assert "grace period ended" in refused.json()["error"]["message"]
    assert new.get(reverse("organization")).status_code == 200


def test_a_key_is_rotated_once(owner):
    body = _create_key(owner, role="pipeline").json()
    url = reverse("api-key-rotate", kwargs={"pk": body["id"]})
    assert owner.post(url).status_code == 201
    with assert_nothing_written():
        again = owner.post(url)
    assert again.status_code == 409
    assert "rotated already" in again.json()["error"]["message"]
