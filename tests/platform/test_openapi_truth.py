"""The published OpenAPI schema says what the API does: every operation described for
its users, every error status in the one error shape, every list filter, unpaginated
arrays as arrays, null where null comes, and request bodies without blank schemas.
(That answers match the schema is Schemathesis's part: test_schemathesis.py.)"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from audit_platform.views import RecordListView

ERROR_REF = "#/components/schemas/Error"
SHAPED = ("type", "$ref", "allOf", "oneOf", "anyOf", "enum")


@pytest.fixture
def schema(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, operation


def blank_schemas(node, where: str, components: dict, seen: set) -> list[str]:
    """Places under ``node`` whose schema says nothing about the value's shape."""
    if not isinstance(node, dict):
        return []
    ref = node.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return blank_schemas(components[name], name, components, seen)
    found = [] if any(key in node for key in SHAPED) else [where]
    for key, child in node.get("properties", {}).items():
        found += blank_schemas(child, f"{where}.{key}", components, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            found += blank_schemas(node[key], f"{where}[{key}]", components, seen)
    for key in ("allOf", "oneOf", "anyOf"):
        for i, child in enumerate(node.get(key, [])):
            found += blank_schemas(child, f"{where}.{key}[{i}]", components, seen)
    return found


def test_request_bodies_describe_every_field(schema):
    components = schema["components"]["schemas"]
    blank = []
    for method, path, operation in operations(schema):
        for media, body in operation.get("requestBody", {}).get("content", {}).items():
            where = f"{method.upper()} {path} ({media})"
            blank += blank_schemas(body["schema"], where, components, set())
    assert not blank, blank
    datasheet = components["DatasetVersionIn"]["properties"]["datasheet"]
    assert "bias_examination" in datasheet["properties"]
    assert datasheet["additionalProperties"] is False
    columns = components["DatasetVersionIn"]["properties"]["schema"]
    assert columns["items"]["properties"]["type"]["enum"]


def test_every_operation_is_described_for_its_users(schema):
    poor = [
        f"{method.upper()} {path}: {operation.get('description', '')[:80]!r}"
        for method, path, operation in operations(schema)
        if len(operation.get("description", "")) < 30
        or any(word in operation["description"] for word in ("``", "queryset", " view "))
    ]
    assert not poor, poor


def test_every_error_status_is_documented_in_the_one_error_shape(schema):
    missing = []
    for method, path, operation in operations(schema):
        expected = {"400", "401", "403", "404", "429"}
        if method != "get":
            expected |= {"409", "422"}
        for status in sorted(expected):
            response = operation["responses"].get(status)
            body = (response or {}).get("content", {}).get("application/json", {})
            if body.get("schema", {}).get("$ref") != ERROR_REF:
                missing.append(f"{method.upper()} {path} {status}")
    assert not missing, missing
    error = schema["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"code", "message", "request_id"}


def _list_views(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _list_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            view = pattern.callback.view_class
            if issubclass(view, RecordListView):
                yield view


def test_every_list_filter_is_a_documented_parameter(schema):
    documented = {}
    for method, _, operation in operations(schema):
        if method == "get":
            names = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
            documented[operation["operationId"]] = names
    all_parameters = [names for names in documented.values()]
    missing = [
        f"{view.__name__}?{param}"
        for view in _list_views(get_resolver().url_patterns)
        for param in view.filters
        if not any(param in names for names in all_parameters)
    ]
    assert not missing, missing
    models = schema["paths"]["/api/v1/models/"]["get"]["parameters"]
    system = next(p for p in models if p["name"] == "system")
    assert system["schema"] == {"type": "string", "format": "uuid"}
    systems = schema["paths"]["/api/v1/systems/"]["get"]["parameters"]
    status = next(p for p in systems if p["name"] == "status")
    assert "in_service" in status["schema"]["enum"]


def test_unpaginated_arrays_are_documented_as_arrays(schema):
    for path in ("/api/v1/deployments/{id}/history", "/api/v1/compliance/questionnaire"):
        operation = schema["paths"][path]["get"]
        assert operation["responses"]["200"]["content"]["application/json"]["schema"]["type"] == (
            "array"
        )
        assert "page" not in {p["name"] for p in operation.get("parameters", [])}


def test_null_is_documented_where_it_comes(schema):
    components = schema["components"]["schemas"]
    assert components["AISystemOut"]["properties"]["owner_email"]["nullable"] is True
    assert components["RiskOut"]["properties"]["owner_email"]["nullable"] is True
    assert components["TrainingRunOut"]["properties"]["duration_seconds"]["nullable"] is True
    assert components["PredictionBatchOut"]["properties"]["output_artifact_sha256"]["nullable"]


def test_writes_document_their_ledger_receipt(schema):
    created = schema["paths"]["/api/v1/systems/"]["post"]["responses"]["201"]
    parts = created["content"]["application/json"]["schema"]["allOf"]
    receipt = parts[1]["properties"]["ledger"]
    assert receipt["$ref"] == "#/components/schemas/LedgerReceipt"
