"""A deployment's history keeps the version each change replaced (a rollback too), and
an AI system moves through its lifecycle only along the declared transitions, each
move with a reason on the ledger."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.registry.lifecycle import STATUS_TRANSITIONS
from apps.registry.models import AISystem
from tests.support import assert_nothing_written, entry_data, last_entry


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


def test_history_shows_the_version_each_change_replaced_rollbacks_included(
    post, versions, system, pipeline, org
):
    v1, v2, v3 = versions
    deployment = post("deployment-list", {"system_id": system["id"], "environment": "prod"})["id"]
    post("deployment-activate", {"model_version_id": v1}, status=200, pk=deployment)
    post("deployment-activate", {"model_version_id": v2}, status=200, pk=deployment)
    post("deployment-activate", {"model_version_id": v3}, status=200, pk=deployment)
    back = post("deployment-rollback", {"reason": "latency"}, status=200, pk=deployment)
    post("deployment-rollback", {"reason": "still bad"}, status=200, pk=deployment)
    post("deployment-stop", {"reason": "complaints"}, status=200, pk=deployment)
    history = pipeline.get(reverse("deployment-history", kwargs={"pk": deployment})).json()
    assert [(e["kind"], e["model_version"], e["previous_model_version"]) for e in history] == [
        ("activated", v1, None),
        ("activated", v2, v1),
        ("activated", v3, v2),
        ("rolled_back", v2, v3),
        ("rolled_back", v1, v2),
        ("stopped", v1, v1),
    ]
    # The history and the ledger say the same about what the rollback replaced.
    assert entry_data(org, back["ledger"]["seq"])["replaces"]["id"] == str(v3)


def test_status_moves_along_the_lifecycle_with_its_reason_on_the_ledger(
    post, system, pipeline, org
):
    assert system["status"] == "development"
    moved = post(
        "system-status",
        {"status": "validation", "reason": "Test set evaluation starts"},
        status=200,
        pk=system["id"],
    )
    assert moved["status"] == "validation" and moved["status_label"] == "in validation"
    post(
        "system-status", {"status": "in_service", "reason": "Released"}, status=200, pk=system["id"]
    )
    entry = last_entry(org, "ai_system.status_changed")
    assert entry["data"] == {"from": "validation", "to": "in_service", "reason": "Released"}
    shown = pipeline.get(reverse("system-detail", kwargs={"pk": system["id"]})).json()
    assert shown["status"] == "in_service"
    assert shown["status_allowed"] == sorted(STATUS_TRANSITIONS["in_service"])


def test_a_move_the_lifecycle_does_not_allow_is_409_and_writes_nothing(post, system):
    error = post(
        "system-status", {"status": "in_service", "reason": "skip"}, status=409, pk=system["id"]
    )["error"]
    assert "in development" in error["message"] and "validation" in error["message"]
    post("system-status", {"status": "retired", "reason": "Cancelled"}, status=200, pk=system["id"])
    error = post(
        "system-status", {"status": "development", "reason": "x"}, status=409, pk=system["id"]
    )["error"]
    assert "final" in error["message"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "validation"}, "reason"),
        ({"status": "validation", "reason": "  "}, "reason"),
        ({"status": "on_holiday", "reason": "x"}, "status"),
    ],
)
def test_a_status_change_without_reason_or_with_unknown_status_is_400(post, system, payload, field):
    error = post("system-status", payload, status=400, pk=system["id"])["error"]
    assert field in error["fields"]


def test_every_status_has_its_transitions_declared():
    assert set(STATUS_TRANSITIONS) == set(AISystem.Status.values)
    for targets in STATUS_TRANSITIONS.values():
        assert targets <= set(AISystem.Status.values)


def test_provider_name_and_address_are_recorded_by_compliance_only(post, system, client_for, org):
    payload = {
        "provider_name": "Acme Lending GmbH",
        "provider_address": "Hauptstrasse 1, 10115 Berlin, Germany",
        "data_protection_statement": "Complies with Regulation (EU) 2016/679.",
    }
    pipeline_client = client_for(org, "pipeline")
    with assert_nothing_written():
        refused = pipeline_client.post(
            reverse("system-provider", kwargs={"pk": system["id"]}), payload, format="json"
        )
    assert refused.status_code == 403
    done = post(
        "system-provider",
        payload,
        status=200,
        pk=system["id"],
        client=client_for(org, "compliance_officer"),
    )
    assert done["provider_address"] == payload["provider_address"]
    entry = last_entry(org, "ai_system.provider_recorded")
    assert entry["data"]["provider_name"] == "Acme Lending GmbH"
    post(
        "system-provider",
        {"provider_name": "Acme", "provider_address": ""},
        status=400,
        pk=system["id"],
        client=client_for(org, "compliance_officer"),
    )
