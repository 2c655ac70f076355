"""People join an organization only by accepting an owner's invitation (issue #19):
a one-time link by e-mail, accepted with a new password or by the signed-in account of
that address. The owner's answer is the same whether an account of the address exists
or not, so membership is no oracle for the installation's accounts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.tenancy.models import Invitation, Membership
from tests.factories import MembershipFactory
from tests.support import assert_nothing_written, last_entry

PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def invite(owner, django_capture_on_commit_callbacks, mailoutbox):
    """``invite(email, role)``: the owner's POST; returns (response, token from the mail)."""

    def run(email: str, role: str = "auditor"):
        sent = len(mailoutbox)
        with django_capture_on_commit_callbacks(execute=True):
            response = owner.post(
                reverse("invitation-list"), {"email": email, "role": role}, format="json"
            )
        token = None
        if response.status_code == 201:
            assert len(mailoutbox) == sent + 1
            message = mailoutbox[-1]
            assert message.to == [email]
            token = re.search(r"\?token=(\S+)", message.body).group(1)
        return response, token

    return run


def _accept(client: APIClient, token: str, password: str | None = None):
    body = {"token": token} if password is None else {"token": token, "password": password}
    return client.post(reverse("invitation-accept"), body, format="json")


def _shape(value):
    """The structure of an answer: keys and value types, not the values."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return type(value).__name__


def test_a_new_person_accepts_with_a_password_and_joins(org, invite):
    client = APIClient()
    response, token = invite("new.person@acme.example", "compliance_officer")
    assert response.status_code == 201, response.content
    assert response.json()["accepted_at"] is None
    assert not Membership.objects.filter(user__email="new.person@acme.example").exists()
    assert "new.person" not in str(last_entry(org, "invitation.created"))

    accepted = _accept(client, token, PASSWORD)
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["organization"] == org.slug
    membership = Membership.objects.get(organization=org, user__email="new.person@acme.example")
    assert membership.role == "compliance_officer"
    assert membership.user.check_password(PASSWORD)
    entry = last_entry(org, "invitation.accepted")["data"]
    assert entry["user_id"] == str(membership.user.pk)
    # The link works once.
    with assert_nothing_written():
        again = _accept(APIClient(), token, PASSWORD)
    assert again.status_code == 400
    assert "unknown, used, revoked or expired" in again.json()["error"]["message"]


def test_the_answer_is_the_same_whether_the_account_exists_or_not(other_org, invite):
    # Someone of another organization has an account; the owner guesses its address in
    # another spelling.
    MembershipFactory(organization=other_org, email="known.person@elsewhere.example")
    existing, _ = invite("KNOWN.Person@elsewhere.example")
    unknown, _ = invite("nobody.at.all@elsewhere.example")

    assert existing.status_code == unknown.status_code == 201
    assert _shape(existing.json()) == _shape(unknown.json())
    assert existing.json()["email"] == "KNOWN.Person@elsewhere.example"
    assert b"known.person@elsewhere.example" not in existing.content
    assert existing.json()["accepted_at"] is None
    assert {k: existing[k] for k in ("Content-Type",)} == {k: unknown[k] for k in ("Content-Type",)}


def test_an_existing_account_signs_in_and_accepts(org, other_org, invite):
    user = MembershipFactory(organization=other_org, email="known@elsewhere.example").user
    user.set_password(PASSWORD)
    user.save()
    _, token = invite("Known@Elsewhere.example", "ml_engineer")

    with assert_nothing_written():
        anonymous = _accept(APIClient(), token, "another password 123")
    assert anonymous.status_code == 403
    assert "sign in" in anonymous.json()["error"]["message"]

    stranger = MembershipFactory(organization=other_org, email="stranger@elsewhere.example")
    as_stranger = APIClient()
    as_stranger.force_login(stranger.user)
    with assert_nothing_written():
        wrong = _accept(as_stranger, token)
    assert wrong.status_code == 403
    assert "another account" in wrong.json()["error"]["message"]

    signed_in = APIClient()
    signed_in.force_login(user)
    accepted = _accept(signed_in, token)
    assert accepted.status_code == 201, accepted.content
    assert Membership.objects.get(organization=org, user=user).role == "ml_engineer"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # nobody replaced the account's password


def test_a_weak_password_is_refused_and_nothing_written(invite):
    client = APIClient()
    _, token = invite("weak@acme.example")
    with assert_nothing_written():
        response = _accept(client, token, "123")
    assert response.status_code == 400
    assert "password" in response.json()["error"]["fields"]
    assert not get_user_model().objects.filter(email="weak@acme.example").exists()


def test_an_expired_or_revoked_invitation_cannot_be_accepted(owner, invite, monkeypatch):
    client = APIClient()
    response, token = invite("late@acme.example")
    _, revoked_token = invite("revoked@acme.example")
    revoked_id = Invitation.objects.get(email="revoked@acme.example").pk
    revoke = owner.post(reverse("invitation-revoke", kwargs={"pk": revoked_id}))
    assert revoke.status_code == 200, revoke.content
    with assert_nothing_written():
        assert _accept(client, revoked_token, PASSWORD).status_code == 400

    later = Invitation.objects.get(pk=response.json()["id"]).expires_at + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    with assert_nothing_written():
        expired = _accept(client, token, PASSWORD)
    assert expired.status_code == 400
    assert "expired" in expired.json()["error"]["message"]


def test_a_member_is_not_invited_twice(org, invite):
    MembershipFactory(organization=org, email="member@acme.example")
    with assert_nothing_written():
        response, _ = invite("Member@acme.example")
    assert response.status_code == 409
    first, _ = invite("twice@acme.example")
    assert first.status_code == 201
    with assert_nothing_written():
        again, _ = invite("twice@acme.example")
    assert again.status_code == 409
    assert "open already" in again.json()["error"]["message"]
