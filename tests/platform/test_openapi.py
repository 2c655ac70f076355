from __future__ import annotations

from tests.api_routes import api_v1_route_names


def test_openapi_schema_lists_every_route(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert "/api/v1/ledger/proofs/inclusion" in paths
    assert "/api/v1/api-keys/" in paths
    assert len([p for p in paths if p.startswith("/api/v1/")]) == len(api_v1_route_names())


def test_interactive_docs_page_is_served(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
