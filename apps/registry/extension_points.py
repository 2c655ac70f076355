"""Extension points of the registry: checks that apps above it register at start-up.

The registry sits below compliance, so it cannot import compliance to ask whether a
deployment may change; compliance registers its gate here from its ``AppConfig.ready``
(docs/extension-points.md). Every gate runs inside the registry's transaction, so no
path around it exists.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.core import checks


class DeploymentChangeGate(Protocol):
    def __call__(self, *, deployment: Any, model_version: Any, action: str) -> None:
        """Raises ``RuleViolation`` with the reason when the change is refused."""


_deployment_change_gates: list[DeploymentChangeGate] = []


def deployment_change_gate_register(gate: DeploymentChangeGate) -> None:
    """Adds ``gate``; registering the same gate twice keeps one."""
    if gate not in _deployment_change_gates:
        _deployment_change_gates.append(gate)


def deployment_change_gates() -> tuple[DeploymentChangeGate, ...]:
    return tuple(_deployment_change_gates)


def deployment_change_check(*, deployment: Any, model_version: Any, action: str) -> None:
    """Asks every registered gate whether ``deployment`` may start serving
    ``model_version`` (``action``: "activation" or "rollback")."""
    for gate in _deployment_change_gates:
        gate(deployment=deployment, model_version=model_version, action=action)


def deployment_gate_check(**kwargs: Any) -> list[checks.CheckMessage]:
    """Django system check: the service must not run with no deployment gate."""
    if _deployment_change_gates:
        return []
    return [
        checks.Error(
            "No deployment change gate is registered: deployments would change without "
            "the compliance checks (approvals, open serious incidents).",
            hint="Keep apps.compliance in INSTALLED_APPS; it registers the gate at start-up.",
            id="registry.E001",
        )
    ]
