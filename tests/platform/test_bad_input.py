"""Input no layer below can hold is refused with a 400 in the one error shape, on every
route, and nothing is written.

Write routes and list filters are read from the URL configuration, so a new route is
covered as soon as it exists; the ids in its path come from the route's isolation
case (tests/<app>/isolation_cases.py), made in the caller's own organization so that
the request reaches the body.
"""

from __future__ import annotations

import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import IntegerField, UUIDField
from django.test import override_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from audit_platform.parsers import StrictJSONParser
from audit_platform.views import RecordListView, filter_field
from tests.api_routes import all_cases, isolation_modules
from tests.support import assert_nothing_written

WRITE_METHODS = ("post", "put", "patch", "delete")
UNKNOWN_IDS = {"pk": "019ad3c2-0000-7000-8000-000000000000"}

# Each body is the JSON text as sent; the bad part sits inside an otherwise plain body.
BAD_BODIES = {
    "NUL in a string": '{"name": "a\\u0000b", "reason": "a\\u0000b"}',
    "NUL in a key": '{"a\\u0000b": 1}',
    "lone surrogate": '{"name": "\\ud800", "reason": "x\\udfff"}',
    "lone surrogate in a key": '{"\\ud83d": 1}',
    "2**63": '{"row_count": 9223372036854775808}',
    "-2**63 - 1": '{"row_count": -9223372036854775809}',
    "2**64": '{"params": {"n": 18446744073709551616}}',
    "2**53": '{"metrics": {"n": 9007199254740992}}',
    "1e400": '{"metrics": {"auc": 1e400}}',
    "-1e400": '{"energy_joules": -1e400}',
    "NaN": '{"metrics": {"auc": NaN}}',
    "Infinity": '{"metrics": {"auc": Infinity}}',
    "nested 10,000 deep (arrays)": '{"params": ' + "[" * 10_000 + "]" * 10_000 + "}",
    "nested 10,000 deep (objects)": '{"a": ' * 10_000 + "1" + "}" * 10_000,
    "nested 100 deep": '{"params": ' + "[" * 100 + "]" * 100 + "}",
    "the same key twice": '{"reason": "a", "reason": "b"}',
    "not UTF-8": b'{"reason": "\xff\xfe"}',
}


def _routes(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            yield pattern.name, pattern.callback.view_class


def write_routes() -> list[tuple[str, str, type]]:
    """(route name, method, view class) of every write under /api/v1/."""
    return [
        (name, method, view)
        for name, view in _routes(get_resolver().url_patterns)
        for method in WRITE_METHODS
        if hasattr(view, method) and method in view.http_method_names
    ]


def list_filters() -> list[tuple[str, str, bool]]:
    """(route name, parameter, whether the parameter is free text) of every filter."""
    return [
        (name, param, not (field.choices or isinstance(field, IntegerField | UUIDField)))
        for name, view in _routes(get_resolver().url_patterns)
        if issubclass(view, RecordListView)
        for param, lookup in view.filters.items()
        for field in [filter_field(view.model, lookup)]
    ]


def accepts_json(view: type) -> bool:
    return any(isinstance(parser, StrictJSONParser) for parser in view().get_parsers())


@pytest.fixture
def route_kwargs(org):
    """Route name -> path kwargs addressing real records of ``org``."""
    objects: dict = {}
    for module in isolation_modules():
        objects.update(module.victim(org))
    return {name: case.kwargs(objects) for name, case in all_cases().items()}


def url_for(name: str, route_kwargs: dict) -> str:
    """The route's URL with the ids of its isolation case; a route no case declares (the
    isolation test says so) gets ids that exist nowhere: bodies and filters are
    checked before any record is looked up."""
    if name in route_kwargs:
        return reverse(name, kwargs=route_kwargs[name])
    try:
        return reverse(name)
    except NoReverseMatch:
        return reverse(name, kwargs=UNKNOWN_IDS)


def assert_error_shape(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) <= {"code", "message", "fields", "request_id"}
    assert error["message"] and error["code"] and error["request_id"]
    return error


def test_every_write_route_is_covered():
    names = {name for name, _, _ in write_routes()}
    assert {"system-list", "approval-decide", "membership-detail", "artifact-list"} <= names
    assert len(names) >= 30


def test_bad_json_is_refused_on_every_write_route(owner, route_kwargs):
    failures = []
    for name, method, view in write_routes():
        if not accepts_json(view):
            continue
        url = url_for(name, route_kwargs)
        for label, body in BAD_BODIES.items():
            with assert_nothing_written():
                response = getattr(owner, method)(url, data=body, content_type="application/json")
            if response.status_code != 400:
                failures.append(f"{method.upper()} {url} with {label}: {response.status_code}")
                continue
            error = assert_error_shape(response)
            if error["code"] != "malformed_body" or "body" not in error["message"]:
                failures.append(f"{method.upper()} {url} with {label}: {error}")
    assert not failures, "\n".join(failures)


def test_the_message_says_what_to_fix(owner):
    url = reverse("system-list")
    cases = {
        "NUL in a string": ("$.", "NUL"),
        "lone surrogate": ("$.", "surrogate"),
        "2**63": ("body", "9007199254740991"),
        "1e400": ("body", "finite"),
        "nested 10,000 deep (arrays)": ("body", "64 levels"),
        "nested 100 deep": ("$.params", "64 levels"),
        "the same key twice": ("$.reason", "twice"),
    }
    for label, (where, hint) in cases.items():
        with assert_nothing_written():
            response = owner.post(url, data=BAD_BODIES[label], content_type="application/json")
        error = assert_error_shape(response)
        assert hint in error["message"], (label, error)
        assert any(field.startswith(where) for field in error["fields"]), (label, error)


def test_multipart_uploads_refuse_text_that_cannot_be_stored(owner):
    for value in ("a\x00b", "ab" * 40):
        with assert_nothing_written():
            response = owner.post(
                reverse("artifact-list"),
                {"file": SimpleUploadedFile("f.bin", b"data"), "sha256": value},
                format="multipart",
            )
        assert "sha256" in assert_error_shape(response)["fields"]


UNSTORABLE = ("a%00b", "%00")


def test_every_list_filter_refuses_a_value_it_cannot_hold(owner, route_kwargs):
    failures = []
    values = ["abc", "1.5", "-1", "99999999999999999999", *UNSTORABLE]
    for (name, param, free_text), value in itertools.product(list_filters(), values):
        url = url_for(name, route_kwargs)
        response = owner.get(url, QUERY_STRING=f"{param}={value}")
        refused = value in UNSTORABLE or not free_text
        if response.status_code != (400 if refused else 200):
            failures.append(f"{url}?{param}={value}: {response.status_code}")
        elif refused and param not in assert_error_shape(response)["fields"]:
            failures.append(f"{url}?{param}={value}: {response.json()}")
    assert not failures, "\n".join(failures)


def test_a_non_numeric_id_filter_names_the_parameter_and_the_fix(owner):
    error = assert_error_shape(owner.get(reverse("model-list"), {"system": "abc"}))
    assert error["fields"] == {"system": ["Use a record id (a UUID); got 'abc'."]}
    unknown = owner.get(reverse("model-list"), {"system": UNKNOWN_IDS["pk"]})
    assert unknown.status_code == 200 and unknown.json()["results"] == []
    error = assert_error_shape(owner.get(reverse("system-list"), {"status": "gone"}))
    assert "Use one of:" in error["fields"]["status"][0]


def test_ids_too_large_in_a_path_read_as_not_found(owner):
    for path in ("/api/v1/systems/99999999999999999999", "/api/v1/systems/9223372036854775808"):
        assert_error_shape(owner.get(path), status=404)


@pytest.fixture
def production_client(owner):
    client = APIClient(raise_request_exception=False)
    client.credentials(**owner._credentials)
    return client


@override_settings(DEBUG=False)
def test_no_html_error_page_on_any_api_path_in_production(production_client, monkeypatch):
    from apps.compliance import selectors

    assert_error_shape(production_client.get("/api/v1/no-such-thing"), status=404)
    assert_error_shape(production_client.get("/api/v1/systems/abc"), status=404)
    assert_error_shape(production_client.delete(reverse("system-list")), status=405)
    assert_error_shape(production_client.get("/api/v1/organization", HTTP_HOST="evil"), 400)

    def fail(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "gap_analysis", fail)
    response = production_client.get(reverse("compliance-gaps"))
    assert assert_error_shape(response, status=500)["code"] == "server_error"
    # Other paths keep Django's own pages.
    assert (
        not production_client.get("/no-such-page")
        .get("Content-Type", "")
        .startswith("application/json")
    )


def test_a_number_beyond_its_column_names_the_field(owner, route_kwargs):
    payload = {"deployment_id": route_kwargs["deployment-detail"]["pk"], "label_delay_hours": 2**40}
    with assert_nothing_written():
        response = owner.post(reverse("monitoring-policy-list"), payload, format="json")
    assert "label_delay_hours" in assert_error_shape(response)["fields"]


def test_a_value_the_database_refuses_is_a_400_and_writes_nothing(owner, monkeypatch):
    from django.db import DataError

    from apps.registry import services

    def refuse(**kwargs):
        raise DataError("integer out of range")

    monkeypatch.setattr(services, "ai_system_register", refuse)
    payload = {"name": "s", "intended_purpose": "p", "role": "provider"}
    with assert_nothing_written():
        response = owner.post(reverse("system-list"), payload, format="json")
    error = assert_error_shape(response)
    assert error["code"] == "out_of_range" and "integer out of range" in error["message"]
