"""Datasets, their versions (digest, schema, the Art. 10(2) datasheet) and the
statistics a worker computes from an uploaded dataset file."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from apps.ledger.digests import json_sha256
from apps.ledger.types import Receipt
from apps.registry import events
from apps.registry.models import AISystem, Artifact, Dataset, DatasetVersion
from apps.registry.services._common import (
    named_under_system_create,
    require_sha256,
    uploaded_artifact,
)
from apps.registry.tabular import TYPES, TabularError, read_schema, schema_mismatch
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal

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


def dataset_create(
    *, actor: Principal, system: AISystem, name: str, description: str = ""
) -> tuple[Dataset, Receipt]:
    return named_under_system_create(
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
    """Registers a version of a dataset: its digest, schema and Art. 10(2) datasheet,
    and where the data is (an uploaded file, checked against what is declared, or a
    uri). An uploaded file gets its statistics computed once the registration commits."""
    _dataset_version_validate(
        sha256=sha256,
        schema=schema,
        datasheet=datasheet,
        contains_personal_data=contains_personal_data,
    )
    artifact = _dataset_file(
        actor=actor,
        artifact_sha256=artifact_sha256,
        sha256=sha256,
        size_bytes=size_bytes,
        schema=schema,
        uri=uri,
    )
    dataset_version = DatasetVersion(
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
    return _dataset_version_write(actor=actor, dataset_version=dataset_version)


def _dataset_version_validate(
    *, sha256: str, schema: Any, datasheet: Any, contains_personal_data: bool
) -> None:
    require_sha256(sha256, "sha256")
    _validate_schema(schema)
    _validate_datasheet(datasheet)
    if contains_personal_data and not datasheet.get("original_purpose"):
        raise InvalidInput(
            "Data with personal data must state the original purpose of its collection "
            "(Art. 10(2)(b)).",
            fields={
                "datasheet.original_purpose": ["Required when contains_personal_data is true."]
            },
        )


def _dataset_file(
    *,
    actor: Principal,
    artifact_sha256: str | None,
    sha256: str,
    size_bytes: int,
    schema: list[dict[str, str]],
    uri: str,
) -> Artifact | None:
    """The uploaded file of a dataset version, once it is found to have the declared
    digest, size and schema; None for data that lives at ``uri``."""
    if artifact_sha256 is None:
        if not uri:
            raise InvalidInput(
                "Give either artifact_sha256 (an uploaded file) or uri (where the data lives).",
                fields={"uri": ["Required without artifact_sha256."]},
            )
        return None
    artifact = uploaded_artifact(
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
    return artifact


def _dataset_version_write(
    *, actor: Principal, dataset_version: DatasetVersion
) -> tuple[DatasetVersion, Receipt]:
    """Inserts the version and appends its ledger entry in one transaction; queues the
    statistics of an uploaded file once both commit."""
    try:
        with transaction.atomic():
            dataset_version.save(force_insert=True)
            receipt = _dataset_version_entry(actor=actor, dataset_version=dataset_version)
            if dataset_version.artifact is not None:
                from apps.registry.tasks import dataset_version_statistics_task

                pk = dataset_version.pk
                transaction.on_commit(lambda: dataset_version_statistics_task.delay(pk))
    except IntegrityError:
        raise RuleViolation(
            f"Dataset {dataset_version.dataset.pk} already has a version labelled "
            f"{dataset_version.version!r}."
        ) from None
    return dataset_version, receipt


def _dataset_version_entry(*, actor: Principal, dataset_version: DatasetVersion) -> Receipt:
    return record_event(
        actor=actor,
        event=events.DATASET_VERSION_REGISTERED,
        id=dataset_version.pk,
        data={
            "version": dataset_version.version,
            "sha256": dataset_version.sha256,
            "size_bytes": dataset_version.size_bytes,
            "rows": dataset_version.row_count,
            "split": dataset_version.split,
            "uri": dataset_version.uri or None,
            "schema_sha256": json_sha256(dataset_version.schema),
            "datasheet_sha256": json_sha256(dataset_version.datasheet),
            "personal_data": dataset_version.contains_personal_data,
            "special_category_data": dataset_version.contains_special_category_data,
            "parent": record_ref("dataset", dataset_version.dataset),
        },
    )


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


def dataset_version_observe(
    *,
    actor: Principal,
    system: AISystem,
    dataset_name: str,
    version: str,
    uri: str,
    sha256: str | None = None,
    size_bytes: int | None = None,
    row_count: int | None = None,
    schema: list[dict[str, str]] | None = None,
) -> tuple[DatasetVersion, list[Receipt]]:
    """A dataset version seen in lineage (an OpenLineage event names it as a run's
    input or output), recorded as reported: the dataset is created under ``system`` the
    first time its name is seen, and the version the first time its label is. A version
    seen again is returned as it stands, with no entry, unless the digest now reported
    contradicts the one recorded."""
    if sha256 is not None:
        require_sha256(sha256, "sha256")
    receipts: list[Receipt] = []
    with transaction.atomic():
        dataset = Dataset.objects.filter(system=system, name=dataset_name).first()
        if dataset is None:
            dataset, receipt = dataset_create(
                actor=actor, system=system, name=dataset_name, description=uri
            )
            receipts.append(receipt)
        existing = DatasetVersion.objects.filter(dataset=dataset, version=version).first()
        if existing is not None:
            if sha256 is not None and existing.sha256 and existing.sha256 != sha256:
                raise RuleViolation(
                    f"Dataset {dataset_name!r} version {version!r} was recorded with SHA-256 "
                    f"{existing.sha256}; this event reports {sha256}. A changed content needs "
                    "another version label."
                )
            return existing, receipts
        dataset_version, receipt = _observed_version_create(
            actor=actor,
            dataset=dataset,
            version=version,
            uri=uri,
            sha256=sha256,
            size_bytes=size_bytes,
            row_count=row_count,
            schema=schema,
        )
        receipts.append(receipt)
    return dataset_version, receipts


def _observed_version_create(
    *,
    actor: Principal,
    dataset: Dataset,
    version: str,
    uri: str,
    sha256: str | None,
    size_bytes: int | None,
    row_count: int | None,
    schema: list[dict[str, str]] | None,
) -> tuple[DatasetVersion, Receipt]:
    dataset_version = DatasetVersion.objects.create(
        dataset=dataset,
        version=version,
        source=DatasetVersion.Source.OPENLINEAGE,
        sha256=sha256 or "",
        size_bytes=size_bytes,
        row_count=row_count,
        schema=schema or [],
        uri=uri,
        split=DatasetVersion.Split.UNSPECIFIED,
        datasheet={},
        contains_personal_data=None,
        contains_special_category_data=None,
    )
    receipt = record_event(
        actor=actor,
        event=events.DATASET_VERSION_OBSERVED,
        id=dataset_version.pk,
        data={
            "version": version,
            **({"sha256": sha256} if sha256 else {}),
            "size_bytes": size_bytes,
            "rows": row_count,
            "uri": uri,
            **({"schema_sha256": json_sha256(schema)} if schema else {}),
            "source": DatasetVersion.Source.OPENLINEAGE,
            "parent": record_ref("dataset", dataset),
        },
    )
    return dataset_version, receipt
