"""The deployment gate from a CI job: ``audit-client gate`` exits 1 naming each unmet
condition, then 0 once the organization's policy is met; the API and the activation
decide alike."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from apps.compliance import services as compliance
from apps.compliance.models import ApprovalRequest, Incident
from apps.registry.models import AISystem, Deployment, ModelVersion
from apps.tenancy import services as tenancy
from audit_client import Conflict, GateRefused
from tests.factories import AssessmentFactory, ClassificationFactory, IncidentFactory
from tests.support import answers

HIGH_RISK = {"annex_iii_area": "essential_services", "profiling": True}


@pytest.fixture
def candidate(api, system):
    """A model version of ``system`` and a deployment of it, through the client."""
    model = api.model_create(system_id=system["id"], name="scorer")
    version = api.model_version_register(
        model_id=model["id"],
        version="1.0.0",
        artifact_sha256="ab" * 32,
        artifact_format="onnx",
        framework="onnx",
        framework_version="1.16",
        uri="s3://models/scorer-1.0.0.onnx",
    )
    deployment = api.deployment_create(system_id=system["id"], environment="production")
    return str(version["id"]), str(deployment["id"])


def test_the_gate_names_each_unmet_condition_then_lets_the_version_ship(
    api, cli, system, candidate, org, person
):
    version_id, deployment_id = candidate
    _, owner = person("owner", "owner@acme.example")
    tenancy.organization_policy_update(
        organization=org, actor=owner, required_assessments=["performance"]
    )
    sys_row = AISystem.objects.get(pk=system["id"])
    incident = IncidentFactory(system=sys_row, reports=[("initial", "Scores drifted.")])

    code, out, err = cli("gate", "scorer:1.0.0", "--deployment", deployment_id)
    assert code == 1
    unmet = {line.split()[1].rstrip(":") for line in out.splitlines() if line.startswith("FAIL")}
    assert unmet == {"incident_freeze", "classification", "assessments", "approvals"}
    assert err.startswith("audit-client: the gate refuses") and err.count("\n") == 1
    code, out, _ = cli("--json", "gate", version_id, "--deployment", deployment_id)
    verdict = json.loads(out)
    assert code == 1 and verdict["allowed"] is False
    assert [c["code"] for c in verdict["conditions"] if not c["met"]] == [
        "incident_freeze",
        "classification",
        "assessments",
        "approvals",
    ]
    # The activation refuses for the same reason the gate gives first.
    with pytest.raises(Conflict, match="serious incident"):
        api.deployment_activate(deployment_id, model_version_id=version_id)

    compliance.incident_authority_informed(
        actor=owner,
        incident=Incident.objects.get(pk=incident.pk),
        informed_at=timezone.now(),
        member_state="DE",
        receiving_authority="BNetzA",
    )
    ClassificationFactory(system=sys_row, answers=answers(role="provider", **HIGH_RISK))
    version = ModelVersion.objects.get(pk=version_id)
    AssessmentFactory(system=sys_row, model_version=version, results={"accuracy": 0.9})
    code, out, _ = cli("gate", "scorer:1.0.0", "--deployment", deployment_id)
    assert code == 1
    assert [line.split()[1] for line in out.splitlines() if line.startswith("FAIL")] == [
        "approvals:"
    ]

    _, engineer = person("ml_engineer", "eng@acme.example")
    request, _ = compliance.approval_request_create(
        actor=engineer, deployment=Deployment.objects.get(pk=deployment_id), model_version=version
    )
    compliance.approval_decide(
        actor=owner, request=ApprovalRequest.objects.get(pk=request.pk), decision="approve"
    )
    code, out, err = cli("gate", "scorer:1.0.0", "--deployment", deployment_id)
    assert (code, err) == (0, "")
    assert not [line for line in out.splitlines() if line.startswith("FAIL")]
    assert api.gate_require(deployment_id=deployment_id, model_version_id=version_id)["allowed"]
    api.deployment_activate(deployment_id, model_version_id=version_id)
    assert api.deployment_get(deployment_id)["model_version"] == str(version.pk)


def test_a_failed_required_assessment_keeps_the_gate_shut(api, system, candidate, org, person):
    version_id, deployment_id = candidate
    _, owner = person("owner", "owner@acme.example")
    tenancy.organization_policy_update(
        organization=org, actor=owner, required_assessments=["performance"]
    )
    sys_row = AISystem.objects.get(pk=system["id"])
    ClassificationFactory(system=sys_row)
    AssessmentFactory(
        system=sys_row,
        model_version=ModelVersion.objects.get(pk=version_id),
        # Accuracy on the factory's test set is 0.75, whether a worker or the factory
        # completes it: short of the preset minimum.
        thresholds={"accuracy": {"min": 0.9}},
        results={"accuracy": 0.75},
        passed=False,
    )
    with pytest.raises(GateRefused) as caught:
        api.gate_require(deployment_id=deployment_id, model_version_id=version_id)
    (condition,) = caught.value.conditions
    assert condition["code"] == "assessments"
    assert "latest performance assessment" in condition["message"]
    assert "failed" in condition["message"]
