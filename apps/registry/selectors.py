"""Reads of the registry, including "which model version served at time T"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
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
from apps.tenancy import selectors as tenancy_selectors


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


def system_ids_of_organization(*, organization: Any, system_ids: Any) -> set[str]:
    """The ids (as text) among ``system_ids`` that are AI systems of ``organization``
    (tenancy asks this through its extension point when a key is limited to some
    systems)."""
    found = AISystem.objects.filter(organization=organization, pk__in=list(system_ids))
    return {str(pk) for pk in found.values_list("pk", flat=True)}


# --- Reads for pages (apps/web): one organization's records, rows for tables -------------


def _by_pk(records: QuerySet[Any], pk: Any) -> Any | None:
    """The record with primary key ``pk`` (as a page's URL gives it), or None, also for
    text that could never be one (an id from a mistyped link)."""
    try:
        return records.filter(pk=pk).first()
    except (ValueError, ValidationError):
        return None


def systems_of_organization(*, organization: Any) -> QuerySet[AISystem]:
    """The organization's AI systems by name, with their owner."""
    return (
        AISystem.objects.filter(organization=organization)
        .select_related("owner")
        .order_by("name", "pk")
    )


def system_of_organization(*, organization: Any, pk: Any) -> AISystem | None:
    """System ``pk`` if it is the organization's; None otherwise (another's reads as
    missing, never as forbidden)."""
    return _by_pk(systems_of_organization(organization=organization), pk)


def model_versions_of_system(*, system: AISystem) -> QuerySet[ModelVersion]:
    """The system's model versions, newest first, with what they were trained in."""
    return (
        ModelVersion.objects.filter(model__system=system)
        .select_related("model", "training_run")
        .prefetch_related("dataset_versions__dataset")
        .order_by("-created_at", "-pk")
    )


def deployments_of_system(*, system: AISystem) -> QuerySet[Deployment]:
    return (
        Deployment.objects.filter(system=system)
        .select_related("model_version__model")
        .order_by("environment", "pk")
    )


def deployment_timeline(*, system: AISystem) -> QuerySet[DeploymentEvent]:
    """Every activation, rollback and stop on the system's deployments, newest first."""
    return (
        DeploymentEvent.objects.filter(deployment__system=system)
        .select_related(
            "deployment",
            "model_version__model",
            "previous_model_version__model",
        )
        .order_by("-ledger_seq")
    )


def dataset_versions_of_system(*, system: AISystem) -> QuerySet[DatasetVersion]:
    return (
        DatasetVersion.objects.filter(dataset__system=system)
        .select_related("dataset")
        .order_by("-created_at", "-pk")
    )


def training_runs_of_system(*, system: AISystem) -> QuerySet[TrainingRun]:
    return (
        TrainingRun.objects.filter(system=system)
        .select_related("model")
        .order_by("-started_at", "-pk")
    )


def prediction_batches_of_system(*, system: AISystem) -> QuerySet[PredictionBatch]:
    return (
        PredictionBatch.objects.filter(deployment__system=system)
        .select_related("deployment", "model_version__model")
        .order_by("-created_at", "-pk")
    )


# Each kind of record a page shows, with the relations the page reads.
_RECORDS = {
    "dataset_version": (
        DatasetVersion,
        "dataset__system__organization",
        ("dataset__system", "artifact"),
    ),
    "model_version": (
        ModelVersion,
        "model__system__organization",
        ("model__system", "training_run", "artifact"),
    ),
    "training_run": (TrainingRun, "system__organization", ("system", "model")),
    "deployment": (
        Deployment,
        "system__organization",
        ("system", "model_version__model"),
    ),
    "prediction_batch": (
        PredictionBatch,
        "deployment__system__organization",
        ("deployment__system", "model_version__model"),
    ),
}
RECORD_KINDS = tuple(_RECORDS)


def record_of_organization(*, organization: Any, kind: str, pk: Any) -> Any | None:
    """The ``kind`` record ``pk`` if it is the organization's, else None."""
    model, path, related = _RECORDS[kind]
    return (
        model.objects.filter(**{path: organization}).select_related(*related).filter(pk=pk).first()
    )


def model_versions_of_organization(*, organization: Any) -> QuerySet[ModelVersion]:
    """Every model version of the organization's systems, by system and model."""
    return (
        ModelVersion.objects.filter(model__system__organization=organization)
        .select_related("model__system")
        .order_by("model__system__name", "model__name", "-created_at")
    )


def model_version_signature_unmet(*, model_version: ModelVersion) -> str | None:
    """Why the organization's policy (``require_model_signature``) does not let this
    model version serve, or None: the condition the deployment gate enforces and that
    a CI gate reports. Unsigned, or signed but not verified, both fail it."""
    organization = model_version.model.system.organization
    if not tenancy_selectors.organization_policy(organization=organization)[
        "require_model_signature"
    ]:
        return None
    state = model_version.signature_state
    signer = model_version.signed_by
    if state == ModelVersion.SignatureState.VERIFIED and signer and signer.revoked_at:
        return (
            f"model version {model_version.pk} was signed by {signer.name!r}, whose trust was "
            f"revoked on {signer.revoked_at:%Y-%m-%d} ({signer.revocation_reason}); the "
            "organization's policy requires a verified OpenSSF Model Signing signature by a "
            "trusted signer (require_model_signature)."
        )
    if state == ModelVersion.SignatureState.VERIFIED:
        return None
    if state == ModelVersion.SignatureState.FAILED:
        return (
            f"model version {model_version.pk}'s signature did not verify "
            f"({model_version.signature_reason}); the organization's policy requires a "
            "verified OpenSSF Model Signing signature (require_model_signature)."
        )
    return (
        f"model version {model_version.pk} is unsigned; the organization's policy "
        "requires a verified OpenSSF Model Signing signature by a trusted signer "
        "(require_model_signature). Register a version with its signature."
    )


# How each kind of registry record reads in words: (its records of an organization, its
# name). Ledger entries name their subject by kind and id; pages show these words instead.
_NAMED: dict[str, tuple[Any, Any]] = {
    "ai_system": (
        lambda org: AISystem.objects.filter(organization=org),
        lambda r: r.name,
    ),
    "dataset": (
        lambda org: Dataset.objects.filter(system__organization=org),
        lambda r: r.name,
    ),
    "dataset_version": (
        lambda org: DatasetVersion.objects.filter(dataset__system__organization=org).select_related(
            "dataset"
        ),
        lambda r: f"{r.dataset.name} {r.version}",
    ),
    "model": (
        lambda org: Model.objects.filter(system__organization=org),
        lambda r: r.name,
    ),
    "model_version": (
        lambda org: ModelVersion.objects.filter(model__system__organization=org).select_related(
            "model"
        ),
        lambda r: f"{r.model.name} {r.version}",
    ),
    "training_run": (
        lambda org: TrainingRun.objects.filter(system__organization=org).select_related("system"),
        lambda r: f"training run of {r.system.name}",
    ),
    "deployment": (
        lambda org: Deployment.objects.filter(system__organization=org).select_related("system"),
        lambda r: f"{r.system.name} in {r.environment}",
    ),
    "prediction_batch": (
        lambda org: PredictionBatch.objects.filter(
            deployment__system__organization=org
        ).select_related("deployment__system"),
        lambda r: f"prediction batch of {r.deployment.system.name}",
    ),
}


def _valid_keys(model: Any, ids: set[str]) -> list[Any]:
    """The ids that could be primary keys of ``model`` (an old entry may name a record
    by an id of another type than today's keys); the rest are left out."""
    keys = []
    for pk in ids:
        try:
            keys.append(model._meta.pk.to_python(pk))
        except ValidationError:
            continue
    return keys


def record_names(*, organization: Any, subjects: Any) -> dict[tuple[str, str], str]:
    """The names of the registry records among ``subjects`` ((kind, id) pairs, as ledger
    entries give them) that are the organization's: one query per kind present. Kinds
    the registry does not keep, and ids it does not know, are left out."""
    wanted: dict[str, set[str]] = {}
    for kind, pk in subjects:
        if kind in _NAMED:
            wanted.setdefault(kind, set()).add(str(pk))
    names: dict[tuple[str, str], str] = {}
    for kind, ids in wanted.items():
        records, name = _NAMED[kind]
        queryset = records(organization)
        found = list(queryset.filter(pk__in=_valid_keys(queryset.model, ids)))
        names.update({(kind, str(r.pk)): name(r) for r in found})
    return names
