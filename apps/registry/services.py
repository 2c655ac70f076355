"""Writes to the registry. Each service changes its rows and appends the matching
ledger entry in one transaction; both commit or neither does. Event types and
their payloads are documented in docs/events.md."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.ledger.digests import json_sha256, text_sha256
from apps.ledger.events import EventType
from apps.ledger.types import Receipt
from apps.registry import events, selectors
from apps.registry.extension_points import deployment_change_check
from apps.registry.model_formats import format_mismatch
from apps.registry.models import (
    AISystem,
    Artifact,
    Dataset,
    DatasetVersion,
    Deployment,
    DeploymentEvent,
    Model,
    ModelVersion,
    PredictionBatch,
    TrainingRun,
)
from apps.registry.tabular import TYPES, TabularError, batch_rows_root, read_schema, schema_mismatch
from apps.tenancy.models import Membership
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
DATASHEET_FIELDS = (
    "design_choices",
    "collection_process",
    "data_origin",
    "original_purpose",
    "preparation_steps",
    "assumptions",
    "suitability",
    "bias_examination",
    "bias_mitigation",
    "data_gaps",
)
PREPARATION_STEPS = ("annotation", "labelling", "cleaning", "enrichment", "aggregation")


def _require_sha256(value: str, field: str) -> str:
    if not isinstance(value, str) or not SHA256_HEX.match(value):
        raise InvalidInput(
            f"{field} must be 64 lowercase hexadecimal characters (a SHA-256).",
            fields={field: ["Not a lowercase hex SHA-256."]},
        )
    return value


def _same_system(items: Sequence[Any], system: AISystem, field: str, describe: str) -> None:
    for item in items:
        if selectors.system_of(item).pk != system.pk:
            raise RuleViolation(
                f"{describe} {item.pk} belongs to another AI system than this one ({field})."
            )


def _artifact(*, organization: Any, sha256: str, field: str) -> Artifact:
    artifact = Artifact.objects.filter(organization=organization, sha256=sha256).first()
    if artifact is None:
        raise InvalidInput(
            f"No uploaded artifact has SHA-256 {sha256}; upload it to /api/v1/artifacts/ first.",
            fields={field: ["No such uploaded artifact."]},
        )
    return artifact


# --- AI systems ----------------------------------------------------------------------


def ai_system_register(
    *, actor: Principal, name: str, intended_purpose: str, role: str, owner_email: str | None = None
) -> tuple[AISystem, Receipt]:
    owner = None
    if owner_email:
        membership = (
            Membership.objects.select_related("user")
            .filter(organization=actor.organization, user__email__iexact=owner_email)
            .first()
        )
        if membership is None:
            raise InvalidInput(
                f"{owner_email} is not a member of this organization.",
                fields={"owner_email": ["Not a member."]},
            )
        owner = membership.user
    try:
        with transaction.atomic():
            system = AISystem.objects.create(
                organization=actor.organization,
                name=name,
                intended_purpose=intended_purpose,
                role=role,
                owner=owner,
            )
            receipt = record_event(
                actor=actor,
                event=events.AI_SYSTEM_REGISTERED,
                id=system.pk,
                data={
                    "name": name,
                    "role": role,
                    "status": system.status,
                    "intended_purpose_sha256": text_sha256(intended_purpose),
                    "owner_user_id": str(owner.pk) if owner else None,
                },
            )
    except IntegrityError:
        raise RuleViolation(
            f"An AI system named {name!r} already exists in this organization."
        ) from None
    return system, receipt


# --- Datasets ------------------------------------------------------------------------


NamedUnderSystem = TypeVar("NamedUnderSystem", Dataset, Model)


def _named_under_system_create(
    *,
    model_class: type[NamedUnderSystem],
    event: EventType,
    actor: Principal,
    system: AISystem,
    name: str,
    description: str,
) -> tuple[NamedUnderSystem, Receipt]:
    """A dataset or a model: a name unique within its system, recorded as created."""
    try:
        with transaction.atomic():
            created = model_class.objects.create(system=system, name=name, description=description)
            receipt = record_event(
                actor=actor,
                event=event,
                id=created.pk,
                data={"name": name, "parent": record_ref("ai_system", system)},
            )
    except IntegrityError:
        raise RuleViolation(
            f"System {system.pk} already has a {event.subject} named {name!r}."
        ) from None
    return created, receipt


def dataset_create(
    *, actor: Principal, system: AISystem, name: str, description: str = ""
) -> tuple[Dataset, Receipt]:
    return _named_under_system_create(
        model_class=Dataset,
        event=events.DATASET_CREATED,
        actor=actor,
        system=system,
        name=name,
        description=description,
    )


def _validate_schema(schema: Any) -> list[dict[str, str]]:
    if not isinstance(schema, list) or not schema:
        raise InvalidInput(
            "schema must be a non-empty list of columns.", fields={"schema": ["Required."]}
        )
    names: set[str] = set()
    for position, column in enumerate(schema):
        if (
            not isinstance(column, dict)
            or set(column) != {"name", "type"}
            or not isinstance(column["name"], str)
            or not column["name"]
            or column["type"] not in TYPES
        ):
            raise InvalidInput(
                f'schema[{position}] must be {{"name": text, "type": one of {", ".join(TYPES)}}}.',
                fields={"schema": [f"Column {position} is malformed."]},
            )
        if column["name"] in names:
            raise InvalidInput(
                f"schema names column {column['name']!r} twice.",
                fields={"schema": ["Duplicate column."]},
            )
        names.add(column["name"])
    return schema


def _validate_datasheet(datasheet: Any) -> dict[str, Any]:
    if not isinstance(datasheet, dict):
        raise InvalidInput("datasheet must be an object.", fields={"datasheet": ["Required."]})
    unknown = sorted(set(datasheet) - set(DATASHEET_FIELDS))
    missing = [f for f in DATASHEET_FIELDS if f not in datasheet and f != "original_purpose"]
    if unknown or missing:
        problems = {f"datasheet.{f}": ["Unknown field."] for f in unknown}
        problems.update({f"datasheet.{f}": ["Required (Art. 10(2))."] for f in missing})
        raise InvalidInput(
            "The datasheet must answer Art. 10(2): " + ", ".join(sorted(problems)) + ".",
            fields=problems,
        )
    steps = datasheet["preparation_steps"]
    if not isinstance(steps, dict) or set(steps) - set(PREPARATION_STEPS):
        raise InvalidInput(
            "datasheet.preparation_steps must be an object with keys among "
            f"{', '.join(PREPARATION_STEPS)}.",
            fields={"datasheet.preparation_steps": ["Malformed."]},
        )
    return datasheet


def dataset_version_register(
    *,
    actor: Principal,
    dataset: Dataset,
    version: str,
    sha256: str,
    size_bytes: int,
    row_count: int,
    schema: list[dict[str, str]],
    split: str,
    datasheet: dict[str, Any],
    contains_personal_data: bool,
    contains_special_category_data: bool,
    uri: str = "",
    artifact_sha256: str | None = None,
) -> tuple[DatasetVersion, Receipt]:
    _require_sha256(sha256, "sha256")
    schema = _validate_schema(schema)
    datasheet = _validate_datasheet(datasheet)
    if contains_personal_data and not datasheet.get("original_purpose"):
        raise InvalidInput(
            "Data with personal data must state the original purpose of its collection "
            "(Art. 10(2)(b)).",
            fields={
                "datasheet.original_purpose": ["Required when contains_personal_data is true."]
            },
        )
    artifact = None
    if artifact_sha256 is not None:
        artifact = _artifact(
            organization=actor.organization, sha256=artifact_sha256, field="artifact_sha256"
        )
        if artifact.sha256 != sha256 or artifact.size_bytes != size_bytes:
            raise InvalidInput(
                f"The uploaded file has SHA-256 {artifact.sha256} and {artifact.size_bytes} bytes; "
                "the registration declares other values.",
                fields={"sha256": ["Does not match the uploaded file."]},
            )
        with artifact.file.open("rb") as stream:
            try:
                mismatch = schema_mismatch(declared=schema, found=read_schema(stream))
            except TabularError as exc:
                raise InvalidInput(
                    f"The uploaded file is {exc}.", fields={"artifact_sha256": [str(exc)]}
                ) from None
        if mismatch:
            raise InvalidInput(f"Schema mismatch: {mismatch}.", fields={"schema": [mismatch]})
    elif not uri:
        raise InvalidInput(
            "Give either artifact_sha256 (an uploaded file) or uri (where the data lives).",
            fields={"uri": ["Required without artifact_sha256."]},
        )
    try:
        with transaction.atomic():
            dataset_version = DatasetVersion.objects.create(
                dataset=dataset,
                version=version,
                sha256=sha256,
                size_bytes=size_bytes,
                row_count=row_count,
                schema=schema,
                uri=uri,
                artifact=artifact,
                split=split,
                datasheet=datasheet,
                contains_personal_data=contains_personal_data,
                contains_special_category_data=contains_special_category_data,
                statistics_state=(
                    DatasetVersion.StatisticsState.PENDING
                    if artifact
                    else DatasetVersion.StatisticsState.NOT_AVAILABLE
                ),
            )
            receipt = record_event(
                actor=actor,
                event=events.DATASET_VERSION_REGISTERED,
                id=dataset_version.pk,
                data={
                    "version": version,
                    "sha256": sha256,
                    "size_bytes": size_bytes,
                    "rows": row_count,
                    "split": split,
                    "uri": uri or None,
                    "schema_sha256": json_sha256(schema),
                    "datasheet_sha256": json_sha256(datasheet),
                    "personal_data": contains_personal_data,
                    "special_category_data": contains_special_category_data,
                    "parent": record_ref("dataset", dataset),
                },
            )
            if artifact is not None:
                from apps.registry.tasks import dataset_version_statistics_task

                pk = dataset_version.pk
                transaction.on_commit(lambda: dataset_version_statistics_task.delay(pk))
    except IntegrityError:
        raise RuleViolation(
            f"Dataset {dataset.pk} already has a version labelled {version!r}."
        ) from None
    return dataset_version, receipt


def dataset_version_statistics_record(
    *, dataset_version_id: int, statistics: dict[str, Any] | None, failure: str | None
) -> Receipt | None:
    """Stores the statistics a worker computed (or why it could not). Does nothing if
    they were recorded already, so a redelivered task is harmless."""
    with transaction.atomic():
        version = (
            DatasetVersion.objects.select_for_update(of=("self",))
            .select_related("dataset__system__organization")
            .get(pk=dataset_version_id)
        )
        if version.statistics_state != DatasetVersion.StatisticsState.PENDING:
            return None
        if statistics is not None and statistics["rows"] != version.row_count:
            failure = (
                f"the file has {statistics['rows']} rows; "
                f"the registration declares {version.row_count}"
            )
        organization = version.dataset.system.organization
        actor = Principal.system(organization=organization, name="dataset_statistics")
        if failure:
            version.statistics_state = DatasetVersion.StatisticsState.FAILED
            version.statistics_message = failure
            version.save(update_fields=["statistics_state", "statistics_message"])
            return record_event(
                actor=actor,
                event=events.DATASET_VERSION_STATISTICS_FAILED,
                id=version.pk,
                data={"reason": failure},
            )
        version.statistics = statistics
        version.statistics_state = DatasetVersion.StatisticsState.COMPUTED
        version.save(update_fields=["statistics", "statistics_state"])
        return record_event(
            actor=actor,
            event=events.DATASET_VERSION_STATISTICS_COMPUTED,
            id=version.pk,
            data={"rows": statistics["rows"], "statistics_sha256": json_sha256(statistics)},
        )


# --- Training runs -----------------------------------------------------------------------


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
) -> tuple[TrainingRun, Receipt]:
    if model is not None and model.system_id != system.pk:
        raise RuleViolation(f"Model {model.pk} belongs to another AI system.")
    _same_system(dataset_versions, system, "dataset_version_ids", "Dataset version")
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


# --- Models ----------------------------------------------------------------------------


def model_create(
    *, actor: Principal, system: AISystem, name: str, description: str = ""
) -> tuple[Model, Receipt]:
    return _named_under_system_create(
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
    _require_sha256(artifact_sha256, "artifact_sha256")
    if training_run is not None:
        if training_run.system_id != model.system_id:
            raise RuleViolation(f"Training run {training_run.pk} belongs to another AI system.")
        if training_run.status != TrainingRun.Status.COMPLETED:
            raise RuleViolation(
                f"Training run {training_run.pk} is {training_run.status}; "
                "only a completed run can produce a model version."
            )
    _same_system(dataset_versions, model.system, "dataset_version_ids", "Dataset version")
    artifact = None
    if uploaded:
        artifact = _artifact(
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


# --- Deployments -----------------------------------------------------------------------


def deployment_create(
    *, actor: Principal, system: AISystem, environment: str, resources: dict[str, Any] | None = None
) -> tuple[Deployment, Receipt]:
    try:
        with transaction.atomic():
            deployment = Deployment.objects.create(
                system=system, environment=environment, resources=resources or {}
            )
            receipt = record_event(
                actor=actor,
                event=events.DEPLOYMENT_CREATED,
                id=deployment.pk,
                data={
                    "environment": environment,
                    "resources": deployment.resources,
                    "parent": record_ref("ai_system", system),
                },
            )
    except IntegrityError:
        raise RuleViolation(
            f"System {system.pk} already has a deployment in {environment!r}."
        ) from None
    return deployment, receipt


_SWITCH_EVENTS = {
    DeploymentEvent.Kind.ACTIVATED: events.DEPLOYMENT_ACTIVATED,
    DeploymentEvent.Kind.ROLLED_BACK: events.DEPLOYMENT_ROLLED_BACK,
}


def _switch(
    *,
    actor: Principal,
    deployment: Deployment,
    to: ModelVersion,
    previous: ModelVersion | None,
    kind: str,
    reason: str,
) -> tuple[Deployment, DeploymentEvent, Receipt]:
    served = deployment.model_version
    deployment.model_version = to
    deployment.status = Deployment.Status.ACTIVE
    deployment.save(update_fields=["model_version", "status"])
    receipt = record_event(
        actor=actor,
        event=_SWITCH_EVENTS[kind],
        id=deployment.pk,
        data={
            "model_version": record_ref("model_version", to),
            "sha256": to.artifact_sha256,
            "replaces": record_ref("model_version", served),
            "reason": reason or None,
        },
    )
    # The event takes effect at the time the ledger sequenced it, so "which version
    # served at T" and the ledger agree to the microsecond.
    event = DeploymentEvent.objects.create(
        deployment=deployment,
        kind=kind,
        model_version=to,
        previous_model_version=previous,
        reason=reason,
        at=selectors.entry_time(organization=actor.organization, seq=receipt.seq),
        ledger_seq=receipt.seq,
    )
    return deployment, event, receipt


def deployment_activate(
    *, actor: Principal, deployment: Deployment, model_version: ModelVersion, reason: str = ""
) -> tuple[Deployment, DeploymentEvent, Receipt]:
    with transaction.atomic():
        deployment = (
            Deployment.objects.select_for_update(of=("self",))
            .select_related("model_version")
            .get(pk=deployment.pk)
        )
        if model_version.model.system_id != deployment.system_id:
            raise RuleViolation(
                f"Model version {model_version.pk} belongs to another AI system; "
                "a deployment serves only model versions of its own system."
            )
        deployment_change_check(
            deployment=deployment, model_version=model_version, action="activation"
        )
        if deployment.model_version_id == model_version.pk:
            raise RuleViolation(
                f"Deployment {deployment.pk} already serves model version {model_version.pk}."
            )
        return _switch(
            actor=actor,
            deployment=deployment,
            to=model_version,
            previous=deployment.model_version,
            kind=DeploymentEvent.Kind.ACTIVATED,
            reason=reason,
        )


def deployment_rollback(
    *, actor: Principal, deployment: Deployment, reason: str
) -> tuple[Deployment, DeploymentEvent, Receipt]:
    """Returns the deployment to the version that served before the current one."""
    if not reason.strip():
        raise InvalidInput("A rollback needs a reason.", fields={"reason": ["Required."]})
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
        current = (
            DeploymentEvent.objects.filter(deployment=deployment).order_by("-ledger_seq").first()
        )
        if current is None or current.previous_model_version is None:
            raise RuleViolation(
                f"Deployment {deployment.pk} has no previous model version to roll back to."
            )
        target = current.previous_model_version
        deployment_change_check(deployment=deployment, model_version=target, action="rollback")
        # After returning to the target, a further rollback goes to what preceded it.
        before_target = (
            DeploymentEvent.objects.filter(deployment=deployment, model_version=target)
            .order_by("-ledger_seq")
            .first()
        )
        return _switch(
            actor=actor,
            deployment=deployment,
            to=target,
            previous=before_target.previous_model_version if before_target else None,
            kind=DeploymentEvent.Kind.ROLLED_BACK,
            reason=reason,
        )


def deployment_stop(
    *, actor: Principal, deployment: Deployment, reason: str
) -> tuple[Deployment, DeploymentEvent, Receipt]:
    """The stop button (Art. 14(4)(e)): the deployment stops serving. A rollback
    afterwards returns to the version served before the stopped one; an activation
    starts a new version (both pass the compliance gate)."""
    if not reason.strip():
        raise InvalidInput("Stopping needs a reason.", fields={"reason": ["Required."]})
    with transaction.atomic():
        deployment = (
            Deployment.objects.select_for_update(of=("self",))
            .select_related("model_version")
            .get(pk=deployment.pk)
        )
        if deployment.status != Deployment.Status.ACTIVE or deployment.model_version is None:
            raise RuleViolation(
                f"Deployment {deployment.pk} is {deployment.status}: nothing to stop."
            )
        stopped = deployment.model_version
        current = (
            DeploymentEvent.objects.filter(deployment=deployment).order_by("-ledger_seq").first()
        )
        deployment.model_version = None
        deployment.status = Deployment.Status.STOPPED
        deployment.save(update_fields=["model_version", "status"])
        receipt = record_event(
            actor=actor,
            event=events.DEPLOYMENT_STOPPED,
            id=deployment.pk,
            data={
                "model_version": record_ref("model_version", stopped),
                "sha256": stopped.artifact_sha256,
                "reason_sha256": text_sha256(reason),
            },
        )
        event = DeploymentEvent.objects.create(
            deployment=deployment,
            kind=DeploymentEvent.Kind.STOPPED,
            model_version=stopped,
            previous_model_version=current.previous_model_version if current else None,
            reason=reason,
            at=selectors.entry_time(organization=actor.organization, seq=receipt.seq),
            ledger_seq=receipt.seq,
        )
    return deployment, event, receipt


# --- Prediction batches ------------------------------------------------------------------


def prediction_batch_record(
    *,
    actor: Principal,
    deployment: Deployment,
    input_sha256: str,
    output_sha256: str,
    row_count: int,
    rows_root: str,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    model_version: ModelVersion | None = None,
    ran_on: dict[str, Any] | None = None,
) -> tuple[PredictionBatch, Receipt]:
    """Puts a batch scored elsewhere on the record, with the caller's digests."""
    for value, field in (
        (input_sha256, "input_sha256"),
        (output_sha256, "output_sha256"),
        (rows_root, "rows_root"),
    ):
        _require_sha256(value, field)
    if window_start and window_end and window_start > window_end:
        raise InvalidInput(
            "window_start is after window_end.", fields={"window_end": ["Before window_start."]}
        )
    served = selectors.served_at(deployment=deployment, at=window_end or timezone.now())
    if served is None:
        raise RuleViolation(f"Deployment {deployment.pk} served no model version at that time.")
    if model_version is not None and model_version.pk != served.pk:
        raise RuleViolation(
            f"Deployment {deployment.pk} served model version {served.pk} at that time, "
            f"not {model_version.pk}."
        )
    with transaction.atomic():
        batch = PredictionBatch.objects.create(
            deployment=deployment,
            model_version=served,
            status=PredictionBatch.Status.RECORDED,
            input_sha256=input_sha256,
            output_sha256=output_sha256,
            row_count=row_count,
            rows_root=rows_root,
            window_start=window_start,
            window_end=window_end,
            ran_on=ran_on or {},
        )
        receipt = record_event(
            actor=actor,
            event=events.PREDICTION_BATCH_RECORDED,
            id=batch.pk,
            data={
                "input_sha256": input_sha256,
                "output_sha256": output_sha256,
                "rows": row_count,
                "rows_root": rows_root,
                "model_version": record_ref("model_version", served),
                "model_sha256": served.artifact_sha256,
                "window": [
                    window_start.isoformat() if window_start else None,
                    window_end.isoformat() if window_end else None,
                ],
                "ran_on": batch.ran_on,
                "parent": record_ref("deployment", deployment),
            },
        )
    return batch, receipt


def prediction_batch_verify_files(
    *, actor: Principal, batch: PredictionBatch, input_artifact: Artifact, output_artifact: Artifact
) -> tuple[PredictionBatch, Receipt]:
    """Checks uploaded input and output files against the digests, row count and rows
    root the pipeline declared, and records that they match."""
    if batch.status != PredictionBatch.Status.RECORDED:
        raise RuleViolation(
            f"Prediction batch {batch.pk} is {batch.status}; only recorded batches take files."
        )
    if batch.files_verified_at is not None:
        raise RuleViolation(f"The files of prediction batch {batch.pk} were verified already.")
    problems = {}
    if input_artifact.sha256 != batch.input_sha256:
        problems["input"] = [
            f"SHA-256 {input_artifact.sha256} differs from the recorded {batch.input_sha256}."
        ]
    if output_artifact.sha256 != batch.output_sha256:
        problems["output"] = [
            f"SHA-256 {output_artifact.sha256} differs from the recorded {batch.output_sha256}."
        ]
    if problems:
        raise InvalidInput("The uploaded files are not the ones recorded.", fields=problems)
    with input_artifact.file.open("rb") as inputs, output_artifact.file.open("rb") as outputs:
        try:
            root, rows = batch_rows_root(input_stream=inputs, output_stream=outputs)
        except TabularError as exc:
            raise InvalidInput(
                f"Cannot read the batch files: {exc}.", fields={"input": [str(exc)]}
            ) from None
    if rows != batch.row_count or root != batch.rows_root:
        raise RuleViolation(
            f"The files hold {rows} rows with rows_root {root}; the batch recorded "
            f"{batch.row_count} rows with rows_root {batch.rows_root}."
        )
    with transaction.atomic():
        batch = PredictionBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.files_verified_at is not None:
            raise RuleViolation(f"The files of prediction batch {batch.pk} were verified already.")
        batch.input_artifact, batch.output_artifact = input_artifact, output_artifact
        batch.files_verified_at = timezone.now()
        batch.save(update_fields=["input_artifact", "output_artifact", "files_verified_at"])
        receipt = record_event(
            actor=actor,
            event=events.PREDICTION_BATCH_FILES_VERIFIED,
            id=batch.pk,
            data={
                "input_sha256": input_artifact.sha256,
                "output_sha256": output_artifact.sha256,
                "rows_root": root,
            },
        )
    return batch, receipt


# --- Prediction batches run by our workers ------------------------------------------------


def _batch_refs(batch: PredictionBatch) -> dict[str, Any]:
    return {
        "model_version": record_ref("model_version", batch.model_version),
        "model_sha256": batch.model_version.artifact_sha256,
        "parent": record_ref("deployment", batch.deployment),
    }


def prediction_batch_request(
    *,
    actor: Principal,
    deployment: Deployment,
    input_artifact: Artifact,
    model_version: ModelVersion | None = None,
    task: Any = None,
) -> tuple[PredictionBatch, Receipt]:
    """Queues a batch for one of our workers: the deployment's current model version
    scores the uploaded input file. The caller enqueues the work on commit."""
    served = selectors.served_at(deployment=deployment, at=timezone.now())
    if served is None:
        raise RuleViolation(f"Deployment {deployment.pk} serves no model version yet.")
    if model_version is not None and model_version.pk != served.pk:
        raise RuleViolation(
            f"Deployment {deployment.pk} serves model version {served.pk}, not {model_version.pk}."
        )
    if served.artifact is None:
        raise RuleViolation(
            f"Model version {served.pk} was registered by uri only; upload its artifact "
            "and register a version with uploaded=true to run it here."
        )
    with served.artifact.file.open("rb") as stream:
        problem = format_mismatch(declared=served.artifact_format, head=stream.read(64))
    if problem:
        raise InvalidInput(
            f"Model artifact refused: {problem}.", fields={"model_version": [problem]}
        )
    with transaction.atomic():
        batch = PredictionBatch.objects.create(
            deployment=deployment,
            model_version=served,
            status=PredictionBatch.Status.QUEUED,
            input_sha256=input_artifact.sha256,
            input_artifact=input_artifact,
            task=task,
        )
        receipt = record_event(
            actor=actor,
            event=events.PREDICTION_BATCH_REQUESTED,
            id=batch.pk,
            data={
                "input_sha256": input_artifact.sha256,
                "task": str(task.pk) if task is not None else None,
                **_batch_refs(batch),
            },
        )
    return batch, receipt


def prediction_batch_claim(*, batch_id: int) -> bool:
    """Moves a queued batch (or one left running by a worker that died) to running
    with one conditional UPDATE. False when it is completed or failed already, so a
    redelivered task does nothing."""
    claimed = PredictionBatch.objects.filter(
        pk=batch_id,
        status__in=[PredictionBatch.Status.QUEUED, PredictionBatch.Status.RUNNING],
    ).update(status=PredictionBatch.Status.RUNNING, started_at=timezone.now())
    return claimed == 1


def prediction_batch_complete(
    *,
    batch_id: int,
    output_file: Any,
    rows_file: Any,
    output_sha256: str,
    rows: int,
    rows_root: str,
    ran_on: dict[str, Any],
    telemetry: dict[str, Any],
) -> Receipt | None:
    """Stores the outputs and completes the batch and its task record with one ledger
    entry, all in one transaction. Does nothing (returns None) when the batch was
    finished already."""
    from apps.registry.artifacts import artifact_store
    from apps.tasks.services import task_record_finish

    with transaction.atomic():
        batch = (
            PredictionBatch.objects.select_for_update(of=("self",))
            .select_related("deployment__system__organization", "model_version")
            .get(pk=batch_id)
        )
        if batch.status != PredictionBatch.Status.RUNNING:
            return None
        organization = batch.deployment.system.organization
        actor = Principal.system(organization=organization, name="inference_worker")
        output_artifact, _ = artifact_store(
            organization=organization,
            uploaded=output_file,
            declared_sha256=output_sha256,
            actor=actor,
        )
        rows_artifact, _ = artifact_store(
            organization=organization, uploaded=rows_file, declared_sha256=None, actor=actor
        )
        batch.status = PredictionBatch.Status.COMPLETED
        batch.output_artifact, batch.rows_artifact = output_artifact, rows_artifact
        batch.output_sha256, batch.row_count, batch.rows_root = output_sha256, rows, rows_root
        batch.ran_on, batch.telemetry = ran_on, telemetry
        batch.energy_joules = telemetry.get("energy_joules")
        batch.finished_at = timezone.now()
        receipt = record_event(
            actor=actor,
            event=events.PREDICTION_BATCH_COMPLETED,
            id=batch.pk,
            data={
                "input_sha256": batch.input_sha256,
                "output_sha256": output_sha256,
                "rows": rows,
                "rows_root": rows_root,
                "ran_on": ran_on,
                "telemetry": telemetry,
                **_batch_refs(batch),
            },
        )
        batch.ledger_seq = receipt.seq
        batch.save()
        if batch.task_id:
            task_record_finish(
                task_id=batch.task_id,
                message="completed",
                result_links={"prediction_batch": f"/api/v1/prediction-batches/{batch.pk}"},
            )
    return receipt


def prediction_batch_fail(*, batch_id: int, reason: str) -> Receipt | None:
    """Marks a queued or running batch failed, with the reason on the record. Does
    nothing when it already completed or failed."""
    with transaction.atomic():
        batch = (
            PredictionBatch.objects.select_for_update(of=("self",))
            .select_related("deployment__system__organization", "model_version")
            .get(pk=batch_id)
        )
        if batch.status not in (PredictionBatch.Status.QUEUED, PredictionBatch.Status.RUNNING):
            return None
        organization = batch.deployment.system.organization
        actor = Principal.system(organization=organization, name="inference_worker")
        batch.status = PredictionBatch.Status.FAILED
        batch.failure_reason = reason
        batch.finished_at = timezone.now()
        receipt = record_event(
            actor=actor,
            event=events.PREDICTION_BATCH_FAILED,
            id=batch.pk,
            data={"reason": reason, "input_sha256": batch.input_sha256, **_batch_refs(batch)},
        )
        batch.ledger_seq = receipt.seq
        batch.save(update_fields=["status", "failure_reason", "finished_at", "ledger_seq"])
    return receipt


def artifact_integrity_failed(
    *, artifact: Artifact, expected_sha256: str, found_sha256: str, used_by: dict[str, str]
) -> Receipt:
    """Records that a stored file no longer has the digest it was stored under (it
    was changed at rest), so the job that wanted it refused to load it."""
    actor = Principal.system(organization=artifact.organization, name="integrity_check")
    with transaction.atomic():
        return record_event(
            actor=actor,
            event=events.ARTIFACT_INTEGRITY_FAILED,
            id=artifact.sha256,
            data={
                "expected_sha256": expected_sha256,
                "found_sha256": found_sha256,
                "used_by": used_by,
            },
        )
