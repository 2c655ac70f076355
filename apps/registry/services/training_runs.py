"""Training runs: started, then completed, failed or abandoned."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.ledger.events import EventType
from apps.ledger.types import Receipt
from apps.registry import events
from apps.registry.extension_points import training_run_reference_link
from apps.registry.models import AISystem, DatasetVersion, Model, TrainingRun
from apps.registry.services._common import same_system
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import RuleViolation
from audit_platform.principal import Principal


def training_run_start(
    *,
    actor: Principal,
    system: AISystem,
    model: Model | None = None,
    params: dict[str, Any] | None = None,
    dataset_versions: Sequence[DatasetVersion] = (),
    code_revision: str = "",
    environment: dict[str, Any] | None = None,
    hardware: dict[str, Any] | None = None,
    trigger: int | None = None,
) -> tuple[TrainingRun, Receipt]:
    """Starts a run. ``trigger``: the retraining trigger (apps/monitoring) the run
    answers, linked through the registry's extension point in the same transaction."""
    if model is not None and model.system_id != system.pk:
        raise RuleViolation(f"Model {model.pk} belongs to another AI system.")
    same_system(dataset_versions, system, "dataset_version_ids", "Dataset version")
    with transaction.atomic():
        run = TrainingRun.objects.create(
            system=system,
            model=model,
            params=params or {},
            code_revision=code_revision,
            environment=environment or {},
            hardware=hardware or {},
            started_at=timezone.now(),
        )
        run.dataset_versions.set(dataset_versions)
        receipt = record_event(
            actor=actor,
            event=events.TRAINING_RUN_STARTED,
            id=run.pk,
            data={
                "parent": record_ref("ai_system", system),
                "model": record_ref("model", model),
                "params": run.params,
                "dataset_versions": [str(v.pk) for v in dataset_versions],
                "code_revision": code_revision,
                "environment": run.environment,
                "hardware": run.hardware,
            },
        )
        if trigger is not None:
            training_run_reference_link(name="trigger", actor=actor, run=run, reference=trigger)
    return run, receipt


def _finish_run(
    *,
    actor: Principal,
    run: TrainingRun,
    status: str,
    event: EventType,
    data: dict[str, Any],
    **fields: Any,
) -> tuple[TrainingRun, Receipt]:
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if run.status != TrainingRun.Status.RUNNING:
            raise RuleViolation(
                f"Training run {run.pk} is {run.status}; only a running run can be marked {status}."
            )
        run.status = status
        run.finished_at = timezone.now()
        for name, value in fields.items():
            setattr(run, name, value)
        run.save()
        receipt = record_event(
            actor=actor,
            event=event,
            id=run.pk,
            data={**data, "duration_seconds": run.duration_seconds},
        )
    return run, receipt


def training_run_complete(
    *,
    actor: Principal,
    run: TrainingRun,
    metrics: dict[str, Any],
    energy_joules: float | None = None,
    hardware: dict[str, Any] | None = None,
) -> tuple[TrainingRun, Receipt]:
    extra = {"hardware": hardware} if hardware else {}
    return _finish_run(
        actor=actor,
        run=run,
        status=TrainingRun.Status.COMPLETED,
        event=events.TRAINING_RUN_COMPLETED,
        data={"metrics": metrics, "energy_joules": energy_joules, **extra},
        metrics=metrics,
        energy_joules=energy_joules,
        **extra,
    )


def training_run_fail(
    *, actor: Principal, run: TrainingRun, reason: str
) -> tuple[TrainingRun, Receipt]:
    return _finish_run(
        actor=actor,
        run=run,
        status=TrainingRun.Status.FAILED,
        event=events.TRAINING_RUN_FAILED,
        data={"reason": reason},
        failure_reason=reason,
    )


def training_run_abandon(
    *, actor: Principal, run: TrainingRun, reason: str
) -> tuple[TrainingRun, Receipt]:
    """For a run that never reported back."""
    return _finish_run(
        actor=actor,
        run=run,
        status=TrainingRun.Status.ABANDONED,
        event=events.TRAINING_RUN_ABANDONED,
        data={"reason": reason},
        failure_reason=reason,
    )
