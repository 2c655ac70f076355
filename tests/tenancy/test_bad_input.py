"""Bad requests get a 400 that names the field, and write nothing."""

from __future__ import annotations

from django.test import override_settings
from django.urls import reverse

from apps.ledger.models import Entry
from apps.tenancy.models import ApiKey


def _nothing_written(before: tuple[int, int]) -> bool:
    return (ApiKey.objects.count(), Entry.objects.count()) == before


def _counts() -> tuple[int, int]:
    return ApiKey.objects.count(), Entry.objects.count()


def test_unknown_field_is_named(owner):
    before = _counts()
    response = owner.post(
        reverse("api-key-list"), {"role": "pipeline", "colour": "red"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {"colour": ["Unknown field."]}
    assert _nothing_written(before)


def test_wrong_type_is_named(owner):
    before = _counts()
    response = owner.post(reverse("api-key-list"), {"role": ["owner"]}, format="json")
    assert response.status_code == 400
    assert "role" in response.json()["error"]["fields"]
    assert _nothing_written(before)


def test_malformed_json_gets_400(owner):
    before = _counts()
    response = owner.post(
        reverse("api-key-list"), data='{"role": "pipeline"', content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "malformed_body"
    assert "JSON parse error" in error["message"]
    assert _nothing_written(before)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2048)
def test_oversize_body_gets_400_naming_the_limit(owner):
    before = _counts()
    payload = '{"role": "pipeline", "name": "' + "x" * 4096 + '"}'
    response = owner.post(reverse("api-key-list"), data=payload, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "body_too_large"
    assert "2048" in error["message"]
    assert _nothing_written(before)


def test_json_that_is_not_an_object_gets_400(owner):
    response = owner.post(reverse("api-key-list"), data="[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["error"]["fields"]


def test_errors_carry_the_request_id(owner):
    response = owner.post(
        reverse("api-key-list"), {"role": "nope"}, format="json", HTTP_X_REQUEST_ID="req-42"
    )
    assert response["X-Request-ID"] == "req-42"
    assert response.json()["error"]["request_id"] == "req-42"
