"""Models and their versions (artifact digest and format, framework, lineage)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction

from apps.ledger.types import Receipt
from apps.registry import events
from apps.registry.model_formats import format_mismatch
from apps.registry.models import AISystem, DatasetVersion, Model, ModelVersion, TrainingRun
from apps.registry.services._common import (
    named_under_system_create,
    require_sha256,
    same_system,
    uploaded_artifact,
)
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal


def model_create(
    *, actor: Principal, system: AISystem, name: str, description: str = ""
) -> tuple[Model, Receipt]:
    return named_under_system_create(
        model_class=Model,
        event=events.MODEL_CREATED,
        actor=actor,
        system=system,
        name=name,
        description=description,
    )


def model_version_register(
    *,
    actor: Principal,
    model: Model,
    version: str,
    artifact_sha256: str,
    artifact_format: str,
    framework: str,
    framework_version: str,
    training_run: TrainingRun | None = None,
    metrics: dict[str, Any] | None = None,
    dataset_versions: Sequence[DatasetVersion] = (),
    uri: str = "",
    uploaded: bool = False,
) -> tuple[ModelVersion, Receipt]:
    require_sha256(artifact_sha256, "artifact_sha256")
    if training_run is not None:
        if training_run.system_id != model.system_id:
            raise RuleViolation(f"Training run {training_run.pk} belongs to another AI system.")
        if training_run.status != TrainingRun.Status.COMPLETED:
            raise RuleViolation(
                f"Training run {training_run.pk} is {training_run.status}; "
                "only a completed run can produce a model version."
            )
    same_system(dataset_versions, model.system, "dataset_version_ids", "Dataset version")
    artifact = None
    if uploaded:
        artifact = uploaded_artifact(
            organization=actor.organization, sha256=artifact_sha256, field="artifact_sha256"
        )
        with artifact.file.open("rb") as stream:
            problem = format_mismatch(declared=artifact_format, head=stream.read(64))
        if problem:
            raise InvalidInput(
                f"Artifact refused: {problem}.", fields={"artifact_format": [problem]}
            )
    elif not uri:
        raise InvalidInput(
            "Give uri, or upload the artifact and set uploaded=true.",
            fields={"uri": ["Required unless the artifact is uploaded."]},
        )
    try:
        with transaction.atomic():
            model_version = ModelVersion.objects.create(
                model=model,
                version=version,
                artifact_sha256=artifact_sha256,
                artifact_format=artifact_format,
                artifact=artifact,
                uri=uri,
                framework=framework,
                framework_version=framework_version,
                training_run=training_run,
                metrics=metrics or {},
            )
            model_version.dataset_versions.set(dataset_versions)
            receipt = record_event(
                actor=actor,
                event=events.MODEL_VERSION_REGISTERED,
                id=model_version.pk,
                data={
                    "version": version,
                    "sha256": artifact_sha256,
                    "format": artifact_format,
                    "framework": framework,
                    "framework_version": framework_version,
                    "uri": uri or None,
                    "metrics": model_version.metrics,
                    "training_run": record_ref("training_run", training_run),
                    "dataset_versions": [str(v.pk) for v in dataset_versions],
                    "parent": record_ref("model", model),
                },
            )
    except IntegrityError:
        raise RuleViolation(
            f"Model {model.pk} already has a version labelled {version!r}."
        ) from None
    return model_version, receipt
