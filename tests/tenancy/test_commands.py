from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from apps.ledger.models import Entry
from apps.tenancy.models import ApiKey, Membership, Organization
from tests.support import assert_nothing_written


@pytest.mark.embedded
def test_create_org_creates_tenant_ledger_and_owner(db):
    out = StringIO()
    call_command(
        "create_org",
        "acme-bank",
        "--name",
        "ACME Bank",
        "--owner-email",
        "cto@acme.example",
        stdout=out,
    )
    organization = Organization.objects.get(slug="acme-bank")
    assert "localhost/acme-bank" in out.getvalue()
    assert Membership.objects.get(organization=organization).role == "owner"
    types = list(
        Entry.objects.filter(log__organization=organization).values_list("type", flat=True)
    )
    assert types == ["organization.created", "membership.created"]
    # The ledger holds no personal data: the e-mail is not in any entry.
    assert not any(
        b"cto@acme.example" in bytes(b) for b in Entry.objects.values_list("body", flat=True)
    )


def test_create_org_refuses_duplicate_and_bad_slugs(db):
    call_command("create_org", "acme", "--name", "ACME")
    with assert_nothing_written(), pytest.raises(CommandError, match="already exists"):
        call_command("create_org", "acme", "--name", "ACME again")
    with assert_nothing_written(), pytest.raises(CommandError, match="Invalid slug"):
        call_command("create_org", "Not A Slug", "--name", "x")
    assert Organization.objects.count() == 1


def test_create_api_key_prints_only_a_working_key(db):
    call_command("create_org", "acme", "--name", "ACME", "--owner-email", "cto@acme.example")
    out = StringIO()
    call_command(
        "create_api_key",
        "--org",
        "acme",
        "--role",
        "pipeline",
        "--name",
        "ci",
        "--answerable-email",
        "CTO@acme.example",
        stdout=out,
    )
    key = out.getvalue().strip()
    assert "\n" not in key and key.startswith("ak_")
    api_key = ApiKey.objects.get()
    assert api_key.role == "pipeline"
    assert api_key.created_by.email == "cto@acme.example"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get(reverse("organization")).json()["slug"] == "acme"


def test_create_api_key_for_unknown_org_fails(db):
    with (
        assert_nothing_written(),
        pytest.raises(CommandError, match="No organization with slug 'nope'"),
    ):
        call_command(
            "create_api_key", "--org", "nope", "--role", "pipeline", "--answerable-email", "a@b.c"
        )


def test_create_api_key_names_a_member_answerable_for_it(db):
    call_command("create_org", "acme", "--name", "ACME", "--owner-email", "cto@acme.example")
    with assert_nothing_written(), pytest.raises(CommandError, match="not a member"):
        call_command(
            "create_api_key",
            "--org",
            "acme",
            "--role",
            "pipeline",
            "--answerable-email",
            "stranger@elsewhere.example",
        )
