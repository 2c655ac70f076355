"""The deployment gate reaches the registry through its extension point: compliance
registers it at start-up, every registered gate is asked, and the service refuses to
start without one."""

from __future__ import annotations

import pytest

from apps.compliance.selectors import deployment_change_refusal
from apps.registry import extension_points
from apps.registry import services as registry
from apps.registry.models import Deployment, DeploymentEvent, ModelVersion
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
    assert asked == [(deployment, v1, "activation")]
    assert Deployment.objects.get(pk=deployment).model_version is None
    assert not DeploymentEvent.objects.filter(deployment_id=deployment).exists()
    assert entry_types(org) == before
