"""Separation of duties that cannot be walked around (issue #19): every API key is
answerable to a person, and approvals compare people, not credentials; approvals count
only on their own open request; an unclassified system serves nothing unless the
organization says so. Each bypass is tried as a user would, through the API with real
keys and sessions on the database, and refused with the rule named."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from apps.registry.models import Deployment
from tests.factories import MembershipFactory
from tests.support import assert_nothing_written, last_entry, sign_in_with_second_factor

HIGH_RISK = {"annex_iii_area": "essential_services", "profiling": True}


def _signed_in(org, role: str, email: str):
    """A member of ``org`` signed in (a browser session), and their user."""
    membership = MembershipFactory(organization=org, email=email, role=role)
    client = APIClient()
    sign_in_with_second_factor(client, membership.user)
    return client, membership.user


def _key_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _new_key(client: APIClient, role: str, **extra) -> str:
    response = client.post(reverse("api-key-list"), {"role": role, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["key"]


def _decide(client, request_id: int, decision: str = "approve"):
    return client.post(
        reverse("approval-decide", kwargs={"pk": request_id}), {"decision": decision}, format="json"
    )


def _request(client, deployment: int, version: int):
    response = client.post(
        reverse("approval-list"),
        {"deployment_id": deployment, "model_version_id": version},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def _activate(client, deployment: int, version: int):
    return client.post(
        reverse("deployment-activate", kwargs={"pk": deployment}),
        {"model_version_id": version},
        format="json",
    )


# --- Self-approval through a key ----------------------------------------------------------


def test_nobody_approves_a_request_made_through_a_key_they_created(org, deployed):
    _, deployment, (v1, _) = deployed(**HIGH_RISK)
    alice, alice_user = _signed_in(org, "owner", "alice@acme.example")
    key = _key_client(_new_key(alice, "ml_engineer", name="alice's script"))
    request = _request(key, deployment, v1)
    assert request["requested_by_user"] == str(alice_user.pk)

    with assert_nothing_written():
        refused = _decide(alice, request["id"])
    assert refused.status_code == 403
    message = refused.json()["error"]["message"]
    assert "Separation of duties" in message and "answerable" in message
    assert _activate(key, deployment, v1).status_code == 409
    assert Deployment.objects.get(pk=deployment).model_version is None

    bob, bob_user = _signed_in(org, "compliance_officer", "bob@acme.example")
    decided = _decide(bob, request["id"])
    assert decided.status_code == 200, decided.content
    body = decided.json()
    # The answer and the ledger name the person on each side.
    assert body["requested_by_user"] == str(alice_user.pk)
    assert [d["decided_by"] for d in body["decisions"]] == [str(bob_user.pk)]
    entry = last_entry(org, "approval.decided")["data"]
    assert entry["requested_by_user_id"] == str(alice_user.pk)
    assert entry["decided_by_user_id"] == str(bob_user.pk)
    assert last_entry(org, "approval.requested")["data"]["requested_by_user_id"] == str(
        alice_user.pk
    )
    assert _activate(key, deployment, v1).status_code == 200


def test_a_key_made_by_a_key_answers_to_the_same_person(org, deployed):
    _, deployment, (v1, _) = deployed(**HIGH_RISK)
    alice, alice_user = _signed_in(org, "owner", "alice@acme.example")
    owner_key = _key_client(_new_key(alice, "owner"))
    pipeline_key = _key_client(_new_key(owner_key, "pipeline"))
    request = _request(pipeline_key, deployment, v1)
    assert request["requested_by_user"] == str(alice_user.pk)
    with assert_nothing_written():
        refused = _decide(alice, request["id"])
    assert refused.status_code == 403
    assert "Separation of duties" in refused.json()["error"]["message"]


def test_a_shared_pipeline_key_names_the_person_answerable_for_it(org, deployed):
    _, deployment, (v1, _) = deployed(**HIGH_RISK)
    carol, carol_user = _signed_in(org, "compliance_officer", "carol@acme.example")
    out = StringIO()
    call_command(
        "create_api_key",
        "--org",
        org.slug,
        "--role",
        "pipeline",
        "--name",
        "shared nightly",
        "--answerable-email",
        "carol@acme.example",
        stdout=out,
    )
    shared = _key_client(out.getvalue().strip())
    request = _request(shared, deployment, v1)
    assert request["requested_by_user"] == str(carol_user.pk)
    with assert_nothing_written():
        refused = _decide(carol, request["id"])
    assert refused.status_code == 403
    assert "Separation of duties" in refused.json()["error"]["message"]
    # Keys list the person answerable for them.
    owner, _ = _signed_in(org, "owner", "olga@acme.example")
    listed = owner.get(reverse("api-key-list")).json()["results"]
    assert {k["name"]: k["answerable_user_id"] for k in listed}["shared nightly"] == str(
        carol_user.pk
    )


def test_the_attribution_stays_when_the_person_leaves(org, deployed):
    _, deployment, (v1, _) = deployed(**HIGH_RISK)
    alice, alice_user = _signed_in(org, "owner", "alice@acme.example")
    key = _key_client(_new_key(alice, "pipeline"))
    owner, _ = _signed_in(org, "owner", "olga@acme.example")
    membership = alice_user.memberships.get(organization=org)
    gone = owner.delete(reverse("membership-detail", kwargs={"pk": membership.pk}))
    assert gone.status_code == 200, gone.content
    assert _request(key, deployment, v1)["requested_by_user"] == str(alice_user.pk)


# --- Approvals that outlive their request ---------------------------------------------------


def test_an_approval_on_a_rejected_request_never_counts_toward_a_new_one(
    org, deployed, settings, client_for
):
    settings.COMPLIANCE_REQUIRED_APPROVALS = 2
    _, deployment, (v1, _) = deployed(**HIGH_RISK)
    engineer = client_for(org, "ml_engineer")
    bob, _ = _signed_in(org, "compliance_officer", "bob@acme.example")
    carol, _ = _signed_in(org, "compliance_officer", "carol@acme.example")
    dave, _ = _signed_in(org, "owner", "dave@acme.example")

    first = _request(engineer, deployment, v1)
    assert _decide(bob, first["id"]).json()["status"] == "pending"
    assert _decide(carol, first["id"], "reject").json()["status"] == "rejected"
    # Nothing more is decided on a rejected request.
    with assert_nothing_written():
        late = _decide(dave, first["id"])
    assert late.status_code == 409
    assert "rejected already" in late.json()["error"]["message"]

    second = _request(engineer, deployment, v1)
    assert _decide(dave, second["id"]).json()["status"] == "pending"
    with assert_nothing_written():
        refused = _activate(engineer, deployment, v1)
    assert refused.status_code == 409
    message = refused.json()["error"]["message"]
    assert "1 of the 2 approval(s)" in message
    assert "only on the open request" in message
    assert _decide(bob, second["id"]).json()["status"] == "approved"
    assert _activate(engineer, deployment, v1).status_code == 200


def test_a_request_for_a_new_version_ends_the_pending_one(org, deployed, settings, client_for):
    settings.COMPLIANCE_REQUIRED_APPROVALS = 2
    _, deployment, (v1, v2) = deployed(**HIGH_RISK)
    engineer = client_for(org, "ml_engineer")
    bob, _ = _signed_in(org, "compliance_officer", "bob@acme.example")
    carol, _ = _signed_in(org, "owner", "carol@acme.example")

    old = _request(engineer, deployment, v1)
    _decide(bob, old["id"])
    new = _request(engineer, deployment, v2)
    assert last_entry(org, "approval.requested")["data"]["supersedes"] == [str(old["id"])]
    detail = engineer.get(reverse("approval-detail", kwargs={"pk": old["id"]})).json()
    assert detail["status"] == "superseded"
    with assert_nothing_written():
        late = _decide(carol, old["id"])
    assert late.status_code == 409
    assert "superseded already" in late.json()["error"]["message"]
    assert _activate(engineer, deployment, v1).status_code == 409
    assert _decide(bob, new["id"]).json()["status"] == "pending"
    assert _decide(carol, new["id"]).json()["status"] == "approved"
    assert _activate(engineer, deployment, v2).status_code == 200


# --- Unclassified systems ----------------------------------------------------------------


def test_an_unclassified_system_serves_nothing_unless_the_policy_says_so(
    org, call, deployed, make_system
):
    system = make_system(name="Unclassified", classify=False)
    model = call("post", "model-list", {"system_id": system["id"], "name": "m"})
    version = call(
        "post",
        "model-version-list",
        {
            "version": "1",
            "artifact_sha256": "ab" * 32,
            "artifact_format": "onnx",
            "framework": "onnx",
            "framework_version": "1",
            "uri": "s3://m/1.onnx",
        },
        model_pk=model["id"],
    )["id"]
    deployment = call(
        "post", "deployment-list", {"system_id": system["id"], "environment": "production"}
    )["id"]
    error = call(
        "post", "deployment-activate", {"model_version_id": version}, status=409, pk=deployment
    )["error"]
    assert "no classification" in error["message"]
    assert "allow_unclassified_activation" in error["message"]

    # A key cannot change the policy, not even an owner's.
    alice, _ = _signed_in(org, "owner", "alice@acme.example")
    key = _key_client(_new_key(alice, "owner"))
    with assert_nothing_written():
        refused = key.patch(
            reverse("organization"), {"allow_unclassified_activation": True}, format="json"
        )
    assert refused.status_code == 403
    assert "in person" in refused.json()["error"]["message"]

    changed = alice.patch(
        reverse("organization"), {"allow_unclassified_activation": True}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["allow_unclassified_activation"] is True
    assert last_entry(org, "organization.policy_changed")["data"]["changed"] == [
        "allow_unclassified_activation"
    ]
    call("post", "deployment-activate", {"model_version_id": version}, status=200, pk=deployment)


@pytest.mark.parametrize("value", [{"unapproved_on_high_risk": "ignore"}, {}])
def test_a_bad_policy_change_is_refused_and_writes_nothing(org, value):
    alice, _ = _signed_in(org, "owner", "alice@acme.example")
    with assert_nothing_written():
        response = alice.patch(reverse("organization"), value, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"]


def test_the_policy_names_the_assessments_a_version_must_pass(org):
    alice, _ = _signed_in(org, "owner", "alice@acme.example")
    changed = alice.patch(
        reverse("organization"),
        {"required_assessments": ["performance", "fairness"]},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["required_assessments"] == ["performance", "fairness"]
    data = last_entry(org, "organization.policy_changed")["data"]
    assert (data["changed"], data["required_assessments"]) == (
        ["required_assessments"],
        ["performance", "fairness"],
    )
    for bad in (["accuracy"], ["fairness", "fairness"]):
        with assert_nothing_written():
            refused = alice.patch(
                reverse("organization"), {"required_assessments": bad}, format="json"
            )
        assert refused.status_code == 400
        assert "required_assessments" in refused.json()["error"]["fields"]
