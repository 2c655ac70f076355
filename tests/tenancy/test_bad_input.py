"""Bad requests get a 400 that names the field, and write nothing."""

from __future__ import annotations

from django.test import override_settings
from django.urls import reverse

from tests.support import assert_nothing_written


def test_unknown_field_is_named(owner):
    with assert_nothing_written():
        response = owner.post(
            reverse("api-key-list"), {"role": "pipeline", "colour": "red"}, format="json"
        )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {"colour": ["Unknown field."]}


def test_wrong_type_is_named(owner):
    with assert_nothing_written():
        response = owner.post(reverse("api-key-list"), {"role": ["owner"]}, format="json")
    assert response.status_code == 400
    assert "role" in response.json()["error"]["fields"]


def test_malformed_json_gets_400(owner):
    with assert_nothing_written():
        response = owner.post(
            reverse("api-key-list"), data='{"role": "pipeline"', content_type="application/json"
        )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "malformed_body"
    assert "JSON parse error" in error["message"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2048)
def test_oversize_body_gets_400_naming_the_limit(owner):
    payload = '{"role": "pipeline", "name": "' + "x" * 4096 + '"}'
    with assert_nothing_written():
        response = owner.post(
            reverse("api-key-list"), data=payload, content_type="application/json"
        )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "body_too_large"
    assert "2048" in error["message"]


def test_json_that_is_not_an_object_gets_400(owner):
    with assert_nothing_written():
        response = owner.post(
            reverse("api-key-list"), data="[1, 2]", content_type="application/json"
        )
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["error"]["fields"]


def test_errors_carry_the_request_id(owner):
    with assert_nothing_written():
        response = owner.post(
            reverse("api-key-list"), {"role": "nope"}, format="json", HTTP_X_REQUEST_ID="req-42"
        )
    assert response["X-Request-ID"] == "req-42"
    assert response.json()["error"]["request_id"] == "req-42"
