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


# --- Prediction batch completed --------------------------------------------------------


class BatchCompletedHook(Protocol):
    def __call__(self, *, batch_id: int) -> None:
        """Told, after the commit, that a batch has its input and output on the record."""


_batch_completed_hooks: list[BatchCompletedHook] = []


def prediction_batch_completed_hook_register(hook: BatchCompletedHook) -> None:
    """Adds ``hook``, called once the transaction that completed a batch (our worker
    scored it) or verified its files (a pipeline recorded it) commits; registering the
    same hook twice keeps one."""
    if hook not in _batch_completed_hooks:
        _batch_completed_hooks.append(hook)


def prediction_batch_completed(*, batch_id: int) -> None:
    """Calls every hook after the current transaction commits (at once outside one)."""
    from django.db import transaction

    for hook in tuple(_batch_completed_hooks):
        transaction.on_commit(lambda hook=hook: hook(batch_id=batch_id))


# --- Training run references ------------------------------------------------------------


class TrainingRunReference(Protocol):
    def __call__(self, *, actor: Any, run: Any, reference: int) -> None:
        """Links ``run`` to the record ``reference`` names, inside the registry's
        transaction; raises ``InvalidInput``/``RuleViolation`` (rolling the run back)
        when the reference is not one the caller may use."""


_training_run_references: dict[str, TrainingRunReference] = {}


def training_run_reference_register(name: str, link: TrainingRunReference) -> None:
    """Lets ``training_run_start`` accept ``<name>=<id>`` (e.g. ``trigger``: the
    retraining trigger a run answers), linked by ``link``."""
    _training_run_references[name] = link


def training_run_reference_link(*, name: str, actor: Any, run: Any, reference: int) -> None:
    from audit_platform.errors import InvalidInput

    link = _training_run_references.get(name)
    if link is None:
        raise InvalidInput(
            f"{name} cannot be given here: no installed app takes it.",
            fields={name: ["Not supported by this installation."]},
        )
    link(actor=actor, run=run, reference=reference)
