"""Writes sent with an ``Idempotency-Key``: a retry gets the first answer and writes
nothing; the same key for another request gets 422; keys belong to one organization;
a failed attempt leaves nothing behind; concurrent retries write exactly once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test.client import encode_multipart
from django.urls import include, path, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.test import APIClient

from apps.ledger.models import Entry
from apps.tenancy import idempotency, invitations, services
from apps.tenancy.models import ApiKey, IdempotencyRecord, Invitation, Membership
from audit_platform.principal import Principal
from tests.factories import MembershipFactory
from tests.support import assert_nothing_written

KEY = "nightly-2024-06-01-step-3"
API_KEYS = reverse("api-key-list")
INVITATIONS = reverse("invitation-list")


def _post(client: APIClient, url: str, body: dict, key: str = KEY):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _entries(org, type: str) -> int:
    return Entry.objects.filter(log__organization=org, type=type).count()


def _add_member(org, email: str) -> Membership:
    return MembershipFactory(organization=org, email=email, role="ml_engineer")


@pytest.mark.embedded
def test_retried_key_creation_returns_the_same_key_and_writes_once(org, owner):
    created_before = _entries(org, "api_key.created")

    first = _post(owner, API_KEYS, {"role": "pipeline", "name": "nightly"})
    retry = _post(owner, API_KEYS, {"role": "pipeline", "name": "nightly"})

    assert first.status_code == retry.status_code == 201
    assert "Idempotent-Replayed" not in first
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["prefix"] == first.json()["prefix"]
    assert retry.json()["ledger"] == first.json()["ledger"]
    assert ApiKey.objects.filter(organization=org, name="nightly").count() == 1
    assert _entries(org, "api_key.created") == created_before + 1


def test_the_new_keys_secret_is_neither_stored_nor_replayed(org, owner):
    first = _post(owner, API_KEYS, {"role": "pipeline", "name": "nightly"})
    retry = _post(owner, API_KEYS, {"role": "pipeline", "name": "nightly"})

    secret = first.json()["key"]
    assert "key" not in retry.json()
    assert retry.json() == {k: v for k, v in first.json().items() if k != "key"}
    assert secret not in IdempotencyRecord.objects.get(organization=org, key=KEY).response_body


@pytest.mark.embedded
def test_retried_invitation_replays_the_exact_answer_and_sends_one_mail(
    org, owner, mailoutbox, django_capture_on_commit_callbacks
):
    body = {"email": "officer@acme.example", "role": "compliance_officer"}

    with django_capture_on_commit_callbacks(execute=True):
        first = _post(owner, INVITATIONS, body)
        retry = _post(owner, INVITATIONS, body)

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry["Content-Type"] == first["Content-Type"]
    assert Invitation.objects.filter(organization=org, email=body["email"]).count() == 1
    assert _entries(org, "invitation.created") == 1
    assert len(mailoutbox) == 1


def test_retried_membership_delete_removes_once_and_replays_its_answer(org, owner):
    membership = _add_member(org, "leaver@acme.example")
    url = reverse("membership-detail", kwargs={"pk": membership.pk})

    first = owner.delete(url, HTTP_IDEMPOTENCY_KEY=KEY)
    retry = owner.delete(url, HTTP_IDEMPOTENCY_KEY=KEY)

    assert first.status_code == retry.status_code == 200
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert _entries(org, "membership.removed") == 1
    # Without the key the same request is a new one, and the membership is gone.
    with assert_nothing_written():
        assert owner.delete(url).status_code == 404


def test_same_key_with_another_body_gets_422_and_writes_nothing(org, owner):
    _post(owner, API_KEYS, {"role": "pipeline", "name": "nightly"})
    keys_before, entries_before = ApiKey.objects.count(), Entry.objects.count()

    with assert_nothing_written():
        response = _post(owner, API_KEYS, {"role": "pipeline", "name": "weekly"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in error["fields"]
    assert error["request_id"] == response["X-Request-ID"]
    assert (ApiKey.objects.count(), Entry.objects.count()) == (keys_before, entries_before)


def test_a_body_that_differs_only_in_spacing_is_another_body(owner):
    url = API_KEYS
    _post(owner, url, {"role": "pipeline"})

    with assert_nothing_written():
        response = owner.post(
            url, '{ "role": "pipeline" }', content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY
        )

    assert response.status_code == 422


def test_an_upload_sent_again_with_a_new_boundary_is_the_same_body(rf):
    def fingerprint(boundary: str, content: bytes) -> str:
        body = encode_multipart(
            boundary, {"note": "v2", "file": SimpleUploadedFile("model.onnx", content)}
        )
        request = Request(
            rf.post(
                "/api/v1/artifacts/",
                body,
                content_type=f"multipart/form-data; boundary={boundary}",
                HTTP_IDEMPOTENCY_KEY=KEY,
            ),
            parsers=[MultiPartParser()],
        )
        return idempotency.KeyedWrite.from_request(request).fingerprint(request)

    assert fingerprint("first-try", b"weights") == fingerprint("second-try", b"weights")
    assert fingerprint("first-try", b"weights") != fingerprint("first-try", b"weightz")


def test_same_key_on_another_route_gets_422(org, owner):
    _post(owner, API_KEYS, {"role": "pipeline"})

    with assert_nothing_written():
        response = _post(owner, INVITATIONS, {"email": "new@acme.example", "role": "auditor"})

    assert response.status_code == 422
    assert not Invitation.objects.filter(email="new@acme.example").exists()


def test_organizations_use_the_same_key_independently(org, other_org, client_for):
    body = {"role": "pipeline", "name": "nightly"}

    in_acme = _post(client_for(org, "owner"), API_KEYS, body)
    in_globex = _post(client_for(other_org, "owner"), API_KEYS, body)

    assert in_acme.status_code == in_globex.status_code == 201
    assert "Idempotent-Replayed" not in in_globex
    assert in_acme.json()["id"] != in_globex.json()["id"]
    assert ApiKey.objects.filter(organization=org, name="nightly").count() == 1
    assert ApiKey.objects.filter(organization=other_org, name="nightly").count() == 1


def test_retry_after_a_refused_attempt_runs_again(org, owner):
    member = _add_member(org, "back@acme.example")
    body = {"email": "back@acme.example", "role": "auditor"}

    with assert_nothing_written():
        refused = _post(owner, INVITATIONS, body)
    assert refused.status_code == 409
    assert not IdempotencyRecord.objects.filter(organization=org).exists()

    services.membership_remove(
        membership=member, actor=Principal.system(organization=org, name="tests")
    )
    retry = _post(owner, INVITATIONS, body)

    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Invitation.objects.get(organization=org, email=body["email"]).role == "auditor"


def test_retry_after_invalid_input_may_send_the_corrected_body(org, owner):
    with assert_nothing_written():
        assert _post(owner, API_KEYS, {"role": "nope"}).status_code == 400

    retry = _post(owner, API_KEYS, {"role": "pipeline", "name": "fixed"})

    assert retry.status_code == 201
    assert ApiKey.objects.filter(organization=org, name="fixed").count() == 1


@pytest.mark.parametrize("bad_key", ["", "x" * 256, "tab\there", "schlüssel"])
def test_bad_key_gets_400_naming_the_header(org, owner, bad_key):
    keys_before = ApiKey.objects.count()

    with assert_nothing_written():
        response = _post(owner, API_KEYS, {"role": "pipeline"}, key=bad_key)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "Idempotency-Key" in error["fields"]
    assert ApiKey.objects.count() == keys_before


def test_longest_key_is_accepted(owner):
    assert _post(owner, API_KEYS, {"role": "pipeline"}, key="k" * 255).status_code == 201


def test_replay_needs_the_right_to_make_the_request(org, owner, client_for):
    _post(owner, API_KEYS, {"role": "pipeline"})

    response = _post(client_for(org, "auditor"), API_KEYS, {"role": "pipeline"})

    assert response.status_code == 403


def test_request_without_credentials_gets_401_before_the_key_is_judged(client, db):
    response = client.post(API_KEYS, {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="")
    assert response.status_code == 401


def test_reads_ignore_the_header(org, owner):
    response = owner.get(API_KEYS, HTTP_IDEMPOTENCY_KEY="\x01 not a key")

    assert response.status_code == 200
    assert not IdempotencyRecord.objects.exists()


def test_writes_without_a_key_are_not_remembered(org, owner):
    _ = owner.post(API_KEYS, {"role": "pipeline", "name": "twice"}, format="json")
    _ = owner.post(API_KEYS, {"role": "pipeline", "name": "twice"}, format="json")

    assert ApiKey.objects.filter(organization=org, name="twice").count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_openapi_schema_offers_the_header_on_writes_only():
    tenancy = [path("api/v1/", include("apps.tenancy.urls"))]
    schema = SchemaGenerator(patterns=tenancy).get_schema(request=None, public=True)

    def headers(method: str) -> set[str]:
        operation = schema["paths"]["/api/v1/api-keys/"][method]
        return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}

    assert "Idempotency-Key" in headers("post")
    assert "Idempotency-Key" not in headers("get")


CONCURRENT = {
    "api-keys": (API_KEYS, {"role": "pipeline", "name": "racer"}, "api_key_create"),
    "invitations": (
        INVITATIONS,
        {"email": "racer@acme.example", "role": "auditor"},
        "invitation_create",
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", sorted(CONCURRENT))
def test_concurrent_retries_write_once_and_all_get_the_same_answer(
    route, postgres, org, api_key_for, monkeypatch
):
    url, body, service_name = CONCURRENT[route]
    module = services if route == "api-keys" else invitations
    service = getattr(module, service_name)

    def slow_service(**kwargs):
        # The one request that gets to run holds its transaction open a while, so the
        # others reach the insert of the same key and wait on the unique index.
        time.sleep(0.3)
        return service(**kwargs)

    monkeypatch.setattr(module, service_name, slow_service)
    secret = api_key_for(org, "owner")
    keys_before, entries_before = ApiKey.objects.count(), Entry.objects.count()
    invitations_before = Invitation.objects.count()
    attempts = 8
    start = threading.Barrier(attempts)

    def attempt(_: int):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        try:
            start.wait()
            return _post(client, url, body)
        finally:
            connections.close_all()  # this thread's own connection

    with ThreadPoolExecutor(attempts) as pool:
        responses = list(pool.map(attempt, range(attempts)))

    assert [r.status_code for r in responses] == [201] * attempts
    firsts = [r for r in responses if "Idempotent-Replayed" not in r]
    assert len(firsts) == 1
    first = firsts[0].json()
    first.pop("key", None)  # a new key's secret is shown once, never replayed
    assert all(r.json() == first for r in responses if r is not firsts[0])
    assert Entry.objects.count() == entries_before + 1
    if route == "api-keys":
        assert ApiKey.objects.count() == keys_before + 1
    else:
        assert Invitation.objects.count() == invitations_before + 1
    assert IdempotencyRecord.objects.filter(organization=org, key=KEY).count() == 1
