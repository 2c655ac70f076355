"""Prediction batches: recorded from a pipeline (and their files verified), or
requested from one of our workers, which claims, completes or fails them."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from apps.ledger.types import Receipt
from apps.registry import events, selectors
from apps.registry.extension_points import prediction_batch_completed
from apps.registry.model_formats import format_mismatch
from apps.registry.models import Artifact, Deployment, ModelVersion, PredictionBatch
from apps.registry.rows_files import RowsFileError, rows_file_rewrite
from apps.registry.services._common import require_sha256
from apps.registry.tabular import TabularError, batch_rows_root
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal


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
    rows_artifact: Artifact | None = None,
) -> tuple[PredictionBatch, Receipt]:
    """Puts a batch scored elsewhere on the record, with the caller's digests. With
    ``rows_artifact`` (the rows' leaves, as our workers write them) its rows have
    receipts: online decisions sealed into a batch come this way."""
    for value, field in (
        (input_sha256, "input_sha256"),
        (output_sha256, "output_sha256"),
        (rows_root, "rows_root"),
    ):
        require_sha256(value, field)
    if window_start and window_end and window_start > window_end:
        raise InvalidInput(
            "window_start is after window_end.", fields={"window_end": ["Before window_start."]}
        )
    served = _served_during(
        deployment=deployment, window_end=window_end, model_version=model_version
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
            rows_artifact=rows_artifact,
        )
        receipt = _recorded_batch_entry(actor=actor, batch=batch)
        # The entry whose rows_root the batch's row receipts prove.
        batch.ledger_seq = receipt.seq
        batch.save(update_fields=["ledger_seq"])
    return batch, receipt


def _served_during(
    *, deployment: Deployment, window_end: datetime | None, model_version: ModelVersion | None
) -> ModelVersion:
    """The model version the deployment served at the end of the window (now, for a
    batch without one), which must be the one the caller names, if it names one."""
    served = selectors.served_at(deployment=deployment, at=window_end or timezone.now())
    if served is None:
        raise RuleViolation(f"Deployment {deployment.pk} served no model version at that time.")
    if model_version is not None and model_version.pk != served.pk:
        raise RuleViolation(
            f"Deployment {deployment.pk} served model version {served.pk} at that time, "
            f"not {model_version.pk}."
        )
    return served


def _batch_result_data(batch: PredictionBatch) -> dict[str, Any]:
    """What a batch's entry says of its files and rows, whoever ran it."""
    return {
        "input_sha256": batch.input_sha256,
        "output_sha256": batch.output_sha256,
        "rows": batch.row_count,
        "rows_root": batch.rows_root,
    }


def _recorded_batch_entry(*, actor: Principal, batch: PredictionBatch) -> Receipt:
    return record_event(
        actor=actor,
        event=events.PREDICTION_BATCH_RECORDED,
        id=batch.pk,
        data={
            **_batch_result_data(batch),
            "model_version": record_ref("model_version", batch.model_version),
            "model_sha256": batch.model_version.artifact_sha256,
            "window": [
                batch.window_start.isoformat() if batch.window_start else None,
                batch.window_end.isoformat() if batch.window_end else None,
            ],
            "ran_on": batch.ran_on,
            "parent": record_ref("deployment", batch.deployment),
        },
    )


def prediction_batch_verify_files(
    *, actor: Principal, batch: PredictionBatch, input_artifact: Artifact, output_artifact: Artifact
) -> tuple[PredictionBatch, Receipt]:
    """Checks uploaded input and output files against the digests, row count and rows
    root the pipeline declared, and records that they match. The batch's rows file is
    built from them on the way, so its row receipts are served as for our workers'."""
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
    with tempfile.TemporaryDirectory() as workdir:
        rows_path = os.path.join(workdir, "rows.parquet")
        with input_artifact.file.open("rb") as inputs, output_artifact.file.open("rb") as outputs:
            try:
                root, rows = batch_rows_root(
                    input_stream=inputs, output_stream=outputs, rows_path=rows_path
                )
            except TabularError as exc:
                raise InvalidInput(
                    f"Cannot read the batch files: {exc}.", fields={"input": [str(exc)]}
                ) from None
        _check_rows(batch=batch, rows=rows, root=root, what="The files")
        return _files_verified_record(
            actor=actor,
            batch=batch,
            files=(input_artifact, output_artifact),
            rows_path=rows_path,
            root=root,
        )


def _files_verified_record(
    *,
    actor: Principal,
    batch: PredictionBatch,
    files: tuple[Artifact, Artifact],
    rows_path: str,
    root: str,
) -> tuple[PredictionBatch, Receipt]:
    """Keeps the checked input, output and rows files with the batch, with their entry."""
    input_artifact, output_artifact = files
    with transaction.atomic():
        batch = PredictionBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.files_verified_at is not None:
            raise RuleViolation(f"The files of prediction batch {batch.pk} were verified already.")
        rows_artifact = batch.rows_artifact or _rows_artifact_store(
            actor=actor, batch=batch, path=rows_path
        )
        batch.input_artifact, batch.output_artifact = input_artifact, output_artifact
        batch.rows_artifact = rows_artifact
        batch.files_verified_at = timezone.now()
        batch.save(
            update_fields=[
                "input_artifact",
                "output_artifact",
                "rows_artifact",
                "files_verified_at",
            ]
        )
        receipt = record_event(
            actor=actor,
            event=events.PREDICTION_BATCH_FILES_VERIFIED,
            id=batch.pk,
            data={
                "input_sha256": input_artifact.sha256,
                "output_sha256": output_artifact.sha256,
                "rows_root": root,
                "rows_sha256": rows_artifact.sha256,
            },
        )
        prediction_batch_completed(batch_id=batch.pk)
    return batch, receipt


def prediction_batch_rows_attach(
    *, actor: Principal, batch: PredictionBatch, rows_file: Artifact
) -> tuple[PredictionBatch, Receipt]:
    """Takes the rows file a pipeline uploaded for a batch it recorded (every row's
    leaf, ledger format §7: Parquet with a ``leaf`` column or JSON Lines) and, when its
    leaves are canonical, in row order and yield the recorded rows and rows root, keeps
    it as the batch's rows file: its row receipts are then served. Otherwise refused
    with the reason, nothing written."""
    if batch.status != PredictionBatch.Status.RECORDED:
        raise RuleViolation(
            f"Prediction batch {batch.pk} is {batch.status}; our workers keep the rows file "
            "of the batches they run, so only a recorded batch takes one."
        )
    if batch.rows_artifact_id is not None:
        raise RuleViolation(f"Prediction batch {batch.pk} has its rows file already.")
    with tempfile.TemporaryDirectory() as workdir:
        rows_path = os.path.join(workdir, "rows.parquet")
        with rows_file.file.open("rb") as stream:
            try:
                root, rows = rows_file_rewrite(stream=stream, path=rows_path)
            except RowsFileError as exc:
                raise InvalidInput(
                    f"The rows file is not the leaves of this batch: {exc}.",
                    fields={"rows_sha256": [str(exc)]},
                ) from None
        _check_rows(batch=batch, rows=rows, root=root, what="The rows file")
        with transaction.atomic():
            batch = PredictionBatch.objects.select_for_update().get(pk=batch.pk)
            if batch.rows_artifact_id is not None:
                raise RuleViolation(f"Prediction batch {batch.pk} has its rows file already.")
            batch.rows_artifact = _rows_artifact_store(actor=actor, batch=batch, path=rows_path)
            batch.save(update_fields=["rows_artifact"])
            receipt = record_event(
                actor=actor,
                event=events.PREDICTION_BATCH_ROWS_VERIFIED,
                id=batch.pk,
                data={
                    "uploaded_sha256": rows_file.sha256,
                    "rows_sha256": batch.rows_artifact.sha256,
                    "rows": rows,
                    "rows_root": root,
                },
            )
    return batch, receipt


def _check_rows(*, batch: PredictionBatch, rows: int, root: str, what: str) -> None:
    if rows != batch.row_count or root != batch.rows_root:
        raise RuleViolation(
            f"{what} hold {rows} rows with rows_root {root}; the batch recorded "
            f"{batch.row_count} rows with rows_root {batch.rows_root}."
        )


def _rows_artifact_store(*, actor: Principal, batch: PredictionBatch, path: str) -> Artifact:
    """Stores a rows file written under ``path`` as an artifact of the organization."""
    from apps.registry.artifacts import artifact_store

    with open(path, "rb") as handle:
        uploaded = UploadedFile(
            file=handle,
            name=f"batch-{batch.pk}-rows.parquet",
            content_type="application/vnd.apache.parquet",
            size=os.path.getsize(path),
        )
        artifact, _ = artifact_store(
            organization=batch.deployment.system.organization,
            uploaded=uploaded,
            declared_sha256=None,
            actor=actor,
        )
    return artifact


# --- Batches run by our workers ----------------------------------------------------------


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
        receipt = _completed_batch_entry(actor=actor, batch=batch)
        batch.ledger_seq = receipt.seq
        batch.save()
        if batch.task_id:
            task_record_finish(
                task_id=batch.task_id,
                message="completed",
                result_links={"prediction_batch": f"/api/v1/prediction-batches/{batch.pk}"},
            )
        prediction_batch_completed(batch_id=batch.pk)
    return receipt


def _completed_batch_entry(*, actor: Principal, batch: PredictionBatch) -> Receipt:
    return record_event(
        actor=actor,
        event=events.PREDICTION_BATCH_COMPLETED,
        id=batch.pk,
        data={
            **_batch_result_data(batch),
            "ran_on": batch.ran_on,
            "telemetry": batch.telemetry,
            **_batch_refs(batch),
        },
    )


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
