"""Reads of the registry, including "which model version served at time T"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from apps.ledger import selectors as ledger_selectors
from apps.registry.models import (
    AISystem,
    Dataset,
    DatasetVersion,
    Deployment,
    DeploymentEvent,
    Model,
    ModelVersion,
    PredictionBatch,
    TrainingRun,
)


def system_of(obj: Any) -> AISystem:
    """The AI system a registry record hangs off."""
    if isinstance(obj, AISystem):
        return obj
    if isinstance(obj, Dataset | Model | TrainingRun | Deployment):
        return obj.system
    if isinstance(obj, DatasetVersion):
        return obj.dataset.system
    if isinstance(obj, ModelVersion):
        return obj.model.system
    if isinstance(obj, PredictionBatch):
        return obj.deployment.system
    raise TypeError(f"{type(obj).__name__} does not hang off an AI system")


def entry_time(*, organization: Any, seq: int) -> datetime:
    log = ledger_selectors.log_for(organization=organization)
    return ledger_selectors.entry_at(log=log, seq=seq).time


def served_at(*, deployment: Deployment, at: datetime) -> ModelVersion | None:
    """The model version the deployment served at ``at`` (None before its first
    activation, and while stopped). A change takes effect at its ledger time: at that
    instant the new version serves."""
    event = (
        DeploymentEvent.objects.filter(deployment=deployment, at__lte=at)
        .select_related("model_version")
        .order_by("-at", "-ledger_seq")
        .first()
    )
    if event is None or event.kind == DeploymentEvent.Kind.STOPPED:
        return None
    return event.model_version


def deployment_history(*, deployment: Deployment) -> QuerySet[DeploymentEvent]:
    return (
        DeploymentEvent.objects.filter(deployment=deployment)
        .select_related("model_version", "previous_model_version", "rollback_target")
        .order_by("ledger_seq")
    )


def system_ids_of_organization(*, organization: Any, system_ids: Any) -> set[int]:
    """The ids among ``system_ids`` that are AI systems of ``organization`` (tenancy asks
    this through its extension point when a key is limited to some systems)."""
    return set(
        AISystem.objects.filter(organization=organization, pk__in=list(system_ids)).values_list(
            "pk", flat=True
        )
    )
