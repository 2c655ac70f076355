"""The deployment gate reaches the registry through its extension point: compliance
registers it at start-up, every registered gate is asked, and the service refuses to
start without one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.compliance.models import Assessment
from apps.compliance.selectors import deployment_change_refusal
from apps.registry import extension_points
from apps.registry import services as registry
from apps.registry.models import Deployment, DeploymentEvent, ModelVersion
from apps.tenancy.models import ASSESSMENT_KINDS, Organization
from audit_platform.errors import RuleViolation
from audit_platform.principal import Principal
from tests.support import entry_types


def test_compliance_registers_its_gate_at_start_up():
    assert deployment_change_refusal in extension_points.deployment_change_gates()
    assert extension_points.deployment_gate_check() == []


def test_without_a_gate_the_system_check_fails(monkeypatch):
    monkeypatch.setattr(extension_points, "_deployment_change_gates", [])
    (error,) = extension_points.deployment_gate_check()
    assert error.id == "registry.E001"
    assert "No deployment change gate" in error.msg


def test_every_registered_gate_is_asked_and_its_refusal_writes_nothing(deployed, org, monkeypatch):
    _, deployment, (v1, _) = deployed()  # not high-risk: compliance lets it through
    asked = []

    def change_freeze(*, deployment, model_version, action):
        asked.append((deployment.pk, model_version.pk, action))
        raise RuleViolation(f"The {action} is refused: change freeze.")

    gates = [*extension_points.deployment_change_gates(), change_freeze]
    monkeypatch.setattr(extension_points, "_deployment_change_gates", gates)
    before = entry_types(org)
    with pytest.raises(RuleViolation, match="change freeze"):
        registry.deployment_activate(
            actor=Principal.system(organization=org, name="tests"),
            deployment=Deployment.objects.get(pk=deployment),
            model_version=ModelVersion.objects.get(pk=v1),
        )
    assert [(str(d), str(v), act) for d, v, act in asked] == [(deployment, v1, "activation")]
    assert Deployment.objects.get(pk=deployment).model_version is None
    assert not DeploymentEvent.objects.filter(deployment_id=deployment).exists()
    assert entry_types(org) == before


# --- The gate's conditions, as the API shows them -----------------------------------------

HIGH_RISK = {"annex_iii_area": "essential_services", "profiling": True}


def _gate(client, deployment, version, status=200):
    response = client.get(
        reverse("deployment-gate", kwargs={"pk": deployment}), {"model_version": version}
    )
    assert response.status_code == status, response.content
    return response.json()


def test_the_gate_api_shows_every_condition_and_records_nothing(deployed, pipeline, org):
    _, deployment, (v1, _) = deployed(**HIGH_RISK)
    before = entry_types(org)
    verdict = _gate(pipeline, deployment, v1)
    assert verdict["allowed"] is False
    assert {c["code"]: c["met"] for c in verdict["conditions"]} == {
        "signature": True,
        "incident_freeze": True,
        "classification": True,
        "assessments": True,
        "approvals": False,
    }
    unmet = next(c for c in verdict["conditions"] if not c["met"])
    # The activation refuses with the same words: one place decides.
    with pytest.raises(RuleViolation) as refused:
        registry.deployment_activate(
            actor=Principal.system(organization=org, name="tests"),
            deployment=Deployment.objects.get(pk=deployment),
            model_version=ModelVersion.objects.get(pk=v1),
        )
    assert refused.value.message == unmet["message"]
    assert entry_types(org) == before


def test_a_required_assessment_the_version_lacks_is_a_condition(deployed, pipeline, org):
    _, deployment, (v1, _) = deployed()  # minimal-risk: no approval needed
    assert _gate(pipeline, deployment, v1)["allowed"] is True
    Organization.objects.filter(pk=org.pk).update(required_assessments=["fairness"])
    verdict = _gate(pipeline, deployment, v1)
    (unmet,) = [c for c in verdict["conditions"] if not c["met"]]
    assert unmet["code"] == "assessments"
    assert "no fairness assessment of it has run" in unmet["message"]


def test_the_gate_api_refuses_a_version_of_another_system(
    deployed, pipeline, other_org, client_for
):
    _, deployment, _ = deployed(name="A")
    _, _, (other_version, _) = deployed(name="B")
    error = _gate(pipeline, deployment, other_version, status=400)["error"]
    assert error["fields"] == {"model_version": ["Not a version of this deployment's system."]}
    error = _gate(pipeline, deployment, "", status=400)["error"]
    assert "model_version" in error["fields"]
    _gate(client_for(other_org, "owner"), deployment, other_version, status=404)


def test_tenancy_names_the_assessment_kinds_compliance_has():
    assert set(ASSESSMENT_KINDS) == set(Assessment.Kind.values)
