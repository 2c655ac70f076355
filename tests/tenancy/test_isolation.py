"""A key of one organization never reaches another organization's objects, and a
request without a key gets 401, on every route of the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.tasks.services import task_record_create
from apps.tenancy.models import ApiKey, Membership
from apps.tenancy.principal import Principal
from apps.tenancy.services import membership_add
from tests.api_routes import api_v1_route_names


@pytest.fixture
def victim(org, api_key_for):
    """Organization A with one object of every kind a route can address."""
    api_key_for(org, "pipeline", name="victim-pipeline")
    membership, _ = membership_add(
        organization=org,
        email="officer@a.example",
        role="compliance_officer",
        actor=Principal.system(organization=org, name="tests"),
    )
    task = task_record_create(organization=org, kind="ledger.verify")
    return {
        "api_key": ApiKey.objects.filter(organization=org).first(),
        "membership": membership,
        "task": task,
        **registry_objects(org),
    }


def registry_objects(org) -> dict:
    """One record of every registry kind, made through the services."""
    from apps.registry import services as registry

    actor = Principal.system(organization=org, name="tests")
    system, _ = registry.ai_system_register(
        actor=actor, name="Victim system", intended_purpose="p", role="provider"
    )
    dataset, _ = registry.dataset_create(actor=actor, system=system, name="victim-data")
    dataset_version, _ = registry.dataset_version_register(
        actor=actor,
        dataset=dataset,
        version="1",
        sha256="aa" * 32,
        size_bytes=1,
        row_count=1,
        schema=[{"name": "x", "type": "number"}],
        split="train",
        datasheet={f: "x" for f in registry.DATASHEET_FIELDS} | {"preparation_steps": {}},
        contains_personal_data=False,
        contains_special_category_data=False,
        uri="s3://victim",
    )
    run, _ = registry.training_run_start(actor=actor, system=system)
    model, _ = registry.model_create(actor=actor, system=system, name="victim-model")
    model_version, _ = registry.model_version_register(
        actor=actor,
        model=model,
        version="1",
        artifact_sha256="bb" * 32,
        artifact_format="onnx",
        framework="onnx",
        framework_version="1",
        uri="s3://victim-model",
    )
    deployment, _ = registry.deployment_create(actor=actor, system=system, environment="prod")
    registry.deployment_activate(actor=actor, deployment=deployment, model_version=model_version)
    batch, _ = registry.prediction_batch_record(
        actor=actor,
        deployment=deployment,
        input_sha256="cc" * 32,
        output_sha256="dd" * 32,
        row_count=1,
        rows_root="ee" * 32,
    )
    return {
        "system": system,
        "dataset": dataset,
        "dataset_version": dataset_version,
        "run": run,
        "model": model,
        "model_version": model_version,
        "deployment": deployment,
        "batch": batch,
    }


# route name -> (method, path kwargs from the victim's objects, status for a key of
# another organization). Collection routes answer for the caller's own organization;
# the test then checks that none of the victim's objects appear.
DETAIL = 404
ROUTES = {
    "organization": ("get", lambda v: {}, 200),
    "api-key-list": ("get", lambda v: {}, 200),
    "api-key-revoke": ("post", lambda v: {"pk": v["api_key"].pk}, DETAIL),
    "membership-list": ("get", lambda v: {}, 200),
    "membership-detail": ("get", lambda v: {"pk": v["membership"].pk}, DETAIL),
    "task-detail": ("get", lambda v: {"pk": v["task"].pk}, DETAIL),
    "ledger-checkpoint": ("get", lambda v: {}, 200),
    "ledger-checkpoint-at": ("get", lambda v: {"size": 3}, DETAIL),
    "ledger-keys": ("get", lambda v: {}, 200),
    "ledger-entries": ("get", lambda v: {}, 200),
    "ledger-entry-proof": ("get", lambda v: {"seq": 2}, DETAIL),
    "ledger-inclusion-proof": ("get", lambda v: {}, 200),
    "ledger-consistency-proof": ("get", lambda v: {}, 200),
    "ledger-export": ("get", lambda v: {}, 200),
    "ledger-verify": ("post", lambda v: {}, 202),
    "artifact-list": ("get", lambda v: {}, 200),
    "system-list": ("get", lambda v: {}, 200),
    "system-detail": ("get", lambda v: {"pk": v["system"].pk}, DETAIL),
    "dataset-list": ("get", lambda v: {}, 200),
    "dataset-detail": ("get", lambda v: {"pk": v["dataset"].pk}, DETAIL),
    "dataset-version-list": ("get", lambda v: {"dataset_pk": v["dataset"].pk}, DETAIL),
    "dataset-version-detail": (
        "get",
        lambda v: {"dataset_pk": v["dataset"].pk, "pk": v["dataset_version"].pk},
        DETAIL,
    ),
    "model-list": ("get", lambda v: {}, 200),
    "model-detail": ("get", lambda v: {"pk": v["model"].pk}, DETAIL),
    "model-version-list": ("post", lambda v: {"model_pk": v["model"].pk}, DETAIL),
    "model-version-detail": (
        "get",
        lambda v: {"model_pk": v["model"].pk, "pk": v["model_version"].pk},
        DETAIL,
    ),
    "training-run-list": ("get", lambda v: {}, 200),
    "training-run-detail": ("get", lambda v: {"pk": v["run"].pk}, DETAIL),
    "training-run-complete": ("post", lambda v: {"pk": v["run"].pk}, DETAIL),
    "training-run-fail": ("post", lambda v: {"pk": v["run"].pk}, DETAIL),
    "training-run-abandon": ("post", lambda v: {"pk": v["run"].pk}, DETAIL),
    "deployment-list": ("get", lambda v: {}, 200),
    "deployment-detail": ("get", lambda v: {"pk": v["deployment"].pk}, DETAIL),
    "deployment-activate": ("post", lambda v: {"pk": v["deployment"].pk}, DETAIL),
    "deployment-rollback": ("post", lambda v: {"pk": v["deployment"].pk}, DETAIL),
    "deployment-history": ("get", lambda v: {"pk": v["deployment"].pk}, DETAIL),
    "deployment-served-at": ("get", lambda v: {"pk": v["deployment"].pk}, DETAIL),
    "prediction-batch-list": ("get", lambda v: {}, 200),
    "prediction-batch-detail": ("get", lambda v: {"pk": v["batch"].pk}, DETAIL),
    "prediction-batch-files": ("post", lambda v: {"pk": v["batch"].pk}, DETAIL),
}
QUERY = {
    "ledger-inclusion-proof": {"index": 0, "size": 1},
    "ledger-consistency-proof": {"old": 1, "new": 1},
    "deployment-served-at": {"at": "2030-01-01T00:00:00Z"},
}
# Bodies that would be valid for the victim, so that only the organization differs.
BODY = {
    "model-version-list": {
        "version": "x",
        "artifact_sha256": "ab" * 32,
        "artifact_format": "onnx",
        "framework": "onnx",
        "framework_version": "1",
        "uri": "s3://x",
    },
    "training-run-complete": {"metrics": {}},
    "training-run-fail": {"reason": "x"},
    "training-run-abandon": {"reason": "x"},
    "deployment-rollback": {"reason": "x"},
    "prediction-batch-files": {"input_sha256": "cc" * 32, "output_sha256": "dd" * 32},
}


def test_every_api_route_is_covered_here():
    assert api_v1_route_names() == set(ROUTES), "add new routes to ROUTES"


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_key_of_another_organization_sees_nothing_of_it(name, victim, org, other_org, client_for):
    method, kwargs, expected = ROUTES[name]
    client = client_for(other_org, "owner")
    url = reverse(name, kwargs=kwargs(victim))
    if method == "get":
        response = client.get(url, QUERY.get(name, {}))
    else:
        response = getattr(client, method)(url, BODY.get(name, {}), format="json")
    assert response.status_code == expected, response.content[:300]
    body = response.content.decode("utf-8", "replace")
    # Nothing that identifies organization A leaks into B's answer.
    assert org.ledger_log.origin not in body
    assert victim["api_key"].prefix not in body
    assert "officer@a.example" not in body
    assert "Victim system" not in body and "victim-model" not in body


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_request_without_key_gets_401(name, victim, client):
    method, kwargs, _ = ROUTES[name]
    response = getattr(client, method)(reverse(name, kwargs=kwargs(victim)), QUERY.get(name, {}))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_revoking_another_organizations_key_leaves_it_active(victim, other_org, client_for):
    client = client_for(other_org, "owner")
    client.post(reverse("api-key-revoke", kwargs={"pk": victim["api_key"].pk}))
    victim["api_key"].refresh_from_db()
    assert victim["api_key"].revoked_at is None


def test_membership_of_another_organization_cannot_be_deleted(victim, other_org, client_for):
    client = client_for(other_org, "owner")
    response = client.delete(reverse("membership-detail", kwargs={"pk": victim["membership"].pk}))
    assert response.status_code == 404
    assert Membership.objects.filter(pk=victim["membership"].pk).exists()
