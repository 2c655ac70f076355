"""Activation, rollback, and "which version served at T" at every boundary."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from apps.ledger.models import Entry
from apps.registry import selectors
from apps.registry.models import Deployment, DeploymentEvent, ModelVersion


@pytest.fixture
def versions(post, system):
    model = post("model-list", {"system_id": system["id"], "name": "scorer"})
    return [
        post(
            "model-version-list",
            {
                "version": f"v{n}",
                "artifact_sha256": f"{n:064x}",
                "artifact_format": "onnx",
                "framework": "onnx",
                "framework_version": "1.16",
                "uri": f"s3://m/v{n}.onnx",
            },
            model_pk=model["id"],
        )["id"]
        for n in range(1, 4)
    ]


@pytest.fixture
def deployment(post, system):
    return post("deployment-list", {"system_id": system["id"], "environment": "production"})["id"]


def test_served_at_is_right_just_before_and_after_every_change(
    post, versions, deployment, pipeline
):
    v1, v2, v3 = versions
    post("deployment-activate", {"model_version_id": v1}, status=200, pk=deployment)
    post("deployment-activate", {"model_version_id": v2}, status=200, pk=deployment)
    post("deployment-activate", {"model_version_id": v3}, status=200, pk=deployment)
    post("deployment-rollback", {"reason": "latency"}, status=200, pk=deployment)
    post("deployment-rollback", {"reason": "still bad"}, status=200, pk=deployment)
    events = list(DeploymentEvent.objects.filter(deployment_id=deployment).order_by("ledger_seq"))
    assert [(e.kind, str(e.model_version_id)) for e in events] == [
        ("activated", v1),
        ("activated", v2),
        ("activated", v3),
        ("rolled_back", v2),
        ("rolled_back", v1),
    ]
    tick = timedelta(microseconds=1)
    dep = Deployment.objects.get(pk=deployment)
    assert selectors.served_at(deployment=dep, at=events[0].at - tick) is None
    expected_before = [None, v1, v2, v3, v2]
    for event, before in zip(events, expected_before, strict=True):
        # Each change takes effect exactly at the time the ledger sequenced it.
        entry = Entry.objects.get(log__organization=dep.system.organization, seq=event.ledger_seq)
        assert event.at == entry.time
        at_before = selectors.served_at(deployment=dep, at=event.at - tick)
        assert (str(at_before.pk) if at_before else None) == before
        assert selectors.served_at(deployment=dep, at=event.at).pk == event.model_version_id
        assert selectors.served_at(deployment=dep, at=event.at + tick).pk == event.model_version_id
    # The same through the API.
    response = pipeline.get(
        reverse("deployment-served-at", kwargs={"pk": deployment}),
        {"at": (events[2].at - tick).isoformat()},
    )
    assert response.json()["model_version"]["id"] == v2


def test_rollback_without_a_previous_version_is_409_and_writes_nothing(
    post, versions, deployment, org
):
    post("deployment-activate", {"model_version_id": versions[0]}, status=200, pk=deployment)
    before = Entry.objects.filter(log__organization=org).count()
    error = post("deployment-rollback", {"reason": "why not"}, status=409, pk=deployment)["error"]
    assert "no previous model version" in error["message"]
    assert Entry.objects.filter(log__organization=org).count() == before
    assert DeploymentEvent.objects.filter(deployment_id=deployment).count() == 1


def test_rollback_of_a_never_activated_deployment_is_409(post, deployment):
    error = post("deployment-rollback", {"reason": "x"}, status=409, pk=deployment)["error"]
    assert "no previous model version" in error["message"]


def test_deploying_a_model_version_of_another_system_is_409(post, deployment, org):
    other = post(
        "system-list", {"name": "Chatbot", "intended_purpose": "Support", "role": "deployer"}
    )
    model = post("model-list", {"system_id": other["id"], "name": "llm"})
    foreign = post(
        "model-version-list",
        {
            "version": "1",
            "artifact_sha256": "cd" * 32,
            "artifact_format": "onnx",
            "framework": "onnx",
            "framework_version": "1",
            "uri": "s3://x",
        },
        model_pk=model["id"],
    )
    before = Entry.objects.filter(log__organization=org).count()
    error = post(
        "deployment-activate", {"model_version_id": foreign["id"]}, status=409, pk=deployment
    )["error"]
    assert "belongs to another AI system" in error["message"]
    assert Entry.objects.filter(log__organization=org).count() == before
    assert Deployment.objects.get(pk=deployment).model_version is None


def test_model_version_of_another_organization_does_not_exist(
    post, deployment, make_org, client_for
):
    other_org = make_org("globex")
    other = client_for(other_org, "pipeline")
    system = post(
        "system-list", {"name": "S", "intended_purpose": "p", "role": "provider"}, client=other
    )
    model = post("model-list", {"system_id": system["id"], "name": "m"}, client=other)
    foreign = post(
        "model-version-list",
        {
            "version": "1",
            "artifact_sha256": "ef" * 32,
            "artifact_format": "onnx",
            "framework": "onnx",
            "framework_version": "1",
            "uri": "s3://x",
        },
        model_pk=model["id"],
        client=other,
    )
    error = post(
        "deployment-activate", {"model_version_id": foreign["id"]}, status=400, pk=deployment
    )["error"]
    assert "model_version_id" in error["fields"]
    assert ModelVersion.objects.count() == 1
