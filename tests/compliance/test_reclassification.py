"""The approval gate cannot be switched off by re-classification (issue #19): lowering
a system's risk class is a decision of a second person, never of a key alone; making
a system high-risk while an unapproved version serves raises an alert and, by the
organization's policy, stops that deployment, on the ledger."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.registry.models import Deployment
from tests.factories import MembershipFactory
from tests.support import (
    answers,
    assert_nothing_written,
    entry_types,
    last_entry,
    sign_in_with_second_factor,
)

HIGH_RISK = {"annex_iii_area": "essential_services", "profiling": True}


def _signed_in(org, role: str, email: str):
    membership = MembershipFactory(organization=org, email=email, role=role)
    client = APIClient()
    sign_in_with_second_factor(client, membership.user)
    return client, membership.user


def _bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _classify(client, system_id: int, **overrides):
    return client.post(
        reverse("classification-list"),
        {"system_id": system_id, "answers": answers(**overrides)},
        format="json",
    )


def _decide(client, classification_id: int, decision: str):
    return client.post(
        reverse("classification-decide", kwargs={"pk": classification_id}),
        {"decision": decision},
        format="json",
    )


def _activate(client, deployment: int, version: int):
    return client.post(
        reverse("deployment-activate", kwargs={"pk": deployment}),
        {"model_version_id": version},
        format="json",
    )


@pytest.fixture
def officer_key_of_alice(org):
    """A compliance-officer key that Alice (an owner) created in her session."""
    alice, alice_user = _signed_in(org, "owner", "alice@acme.example")
    response = alice.post(
        reverse("api-key-list"), {"role": "compliance_officer", "name": "ci"}, format="json"
    )
    assert response.status_code == 201
    return _bearer(response.json()["key"]), alice, alice_user


def test_a_key_cannot_lower_a_risk_class_alone(org, deployed, officer_key_of_alice):
    system, deployment, (v1, _) = deployed(**HIGH_RISK)
    key, alice, alice_user = officer_key_of_alice

    lowered = _classify(key, system["id"])
    assert lowered.status_code == 201, lowered.content
    pending = lowered.json()
    assert pending["category"] == "minimal_risk"
    assert pending["status"] == "pending"
    assert pending["requested_by_user"] == str(alice_user.pk)
    assert "classification.proposed" in entry_types(org)
    # Not in effect: the unapproved version is still refused.
    with assert_nothing_written():
        refused = _activate(key, deployment, v1)
    assert refused.status_code == 409
    assert "high-risk" in refused.json()["error"]["message"]
    obligations = key.get(reverse("system-obligations", kwargs={"pk": system["id"]})).json()
    assert obligations["classification"]["category"] == "high_risk"

    # Neither a key nor the person behind the lowering confirms it.
    with assert_nothing_written():
        by_key = _decide(key, pending["id"], "confirm")
    assert by_key.status_code == 403
    assert "API key cannot confirm" in by_key.json()["error"]["message"]
    with assert_nothing_written():
        by_alice = _decide(alice, pending["id"], "confirm")
    assert by_alice.status_code == 403
    assert "Separation of duties" in by_alice.json()["error"]["message"]
    # Nor is a further classification recorded while it waits.
    with assert_nothing_written():
        meanwhile = _classify(key, system["id"], **HIGH_RISK)
    assert meanwhile.status_code == 409
    assert "awaits confirmation by a second person" in meanwhile.json()["error"]["message"]

    bob, bob_user = _signed_in(org, "compliance_officer", "bob@acme.example")
    confirmed = _decide(bob, pending["id"], "confirm")
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "effective"
    assert confirmed.json()["decided_by"] == str(bob_user.pk)
    entry = last_entry(org, "classification.confirmed")["data"]
    assert entry["requested_by_user_id"] == str(alice_user.pk)
    assert entry["decided_by_user_id"] == str(bob_user.pk)
    # Two people decided it: now minimal-risk, the version may serve.
    assert _activate(key, deployment, v1).status_code == 200


def test_a_declined_lowering_never_takes_effect(org, deployed, officer_key_of_alice):
    system, deployment, (v1, _) = deployed(**HIGH_RISK)
    key, _, _ = officer_key_of_alice
    pending = _classify(key, system["id"]).json()
    bob, _ = _signed_in(org, "owner", "bob@acme.example")
    declined = _decide(bob, pending["id"], "decline")
    assert declined.status_code == 200
    assert declined.json()["status"] == "declined"
    with assert_nothing_written():
        again = _decide(bob, pending["id"], "confirm")
    assert again.status_code == 409
    assert _activate(key, deployment, v1).status_code == 409


def test_raising_to_high_risk_stops_an_unapproved_version_and_raises_an_alert(org, call, deployed):
    system, deployment, (v1, _) = deployed()  # minimal risk: serves without approval
    call("post", "deployment-activate", {"model_version_id": v1}, status=200, pk=deployment)

    raised = call(
        "post", "classification-list", {"system_id": system["id"], "answers": answers(**HIGH_RISK)}
    )
    assert raised["status"] == "effective"
    stopped = Deployment.objects.get(pk=deployment)
    assert stopped.status == "stopped" and stopped.model_version is None
    types = entry_types(org)
    assert types[-3:] == ["classification.recorded", "deployment.stopped", "gate.alert_raised"]
    alerts = call("get", "gate-alert-list", status=200)["results"]
    assert [(a["deployment"], a["model_version"], a["action"]) for a in alerts] == [
        (deployment, v1, "stopped")
    ]
    assert "no approval (Art. 14)" in alerts[0]["message"]
    # It cannot simply be switched back on.
    call("post", "deployment-activate", {"model_version_id": v1}, status=409, pk=deployment)


def test_by_policy_the_alert_is_raised_and_the_version_keeps_serving(org, call, deployed):
    owner, _ = _signed_in(org, "owner", "olga@acme.example")
    changed = owner.patch(
        reverse("organization"), {"unapproved_on_high_risk": "alert"}, format="json"
    )
    assert changed.status_code == 200, changed.content
    system, deployment, (v1, _) = deployed()
    call("post", "deployment-activate", {"model_version_id": v1}, status=200, pk=deployment)

    call(
        "post", "classification-list", {"system_id": system["id"], "answers": answers(**HIGH_RISK)}
    )
    serving = Deployment.objects.get(pk=deployment)
    assert serving.status == "active" and str(serving.model_version_id) == v1
    alert = call("get", "gate-alert-list", status=200)["results"][0]
    assert alert["action"] == "alert_only"
    assert last_entry(org, "gate.alert_raised")["data"]["action"] == "alert_only"


def test_an_approved_version_keeps_serving_when_its_system_becomes_high_risk(
    org, call, deployed, client_for
):
    system, deployment, (v1, _) = deployed()
    engineer = client_for(org, "ml_engineer")
    request = call(
        "post",
        "approval-list",
        {"deployment_id": deployment, "model_version_id": v1},
        client=engineer,
    )
    bob, _ = _signed_in(org, "compliance_officer", "bob@acme.example")
    call(
        "post", "approval-decide", {"decision": "approve"}, status=200, client=bob, pk=request["id"]
    )
    call("post", "deployment-activate", {"model_version_id": v1}, status=200, pk=deployment)
    call(
        "post", "classification-list", {"system_id": system["id"], "answers": answers(**HIGH_RISK)}
    )
    assert Deployment.objects.get(pk=deployment).status == "active"
    assert call("get", "gate-alert-list", status=200)["results"] == []
