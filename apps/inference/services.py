"""Running prediction batches: request (web process) and execute (gpu worker).

The registry owns the batch and its ledger entries; these services check what can
be checked up front, queue the work, and, in the worker, load the model safely,
score the file and hand the results to the registry's completion service.
"""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from apps.inference import devices, loading, scoring
from apps.inference.errors import IntegrityFailure, JobRefused
from apps.inference.telemetry import Meter
from apps.ledger.digests import stream_sha256
from apps.ledger.types import Receipt
from apps.registry import selectors as registry_selectors
from apps.registry import services as registry
from apps.registry.models import Artifact, Deployment, ModelVersion, PredictionBatch
from apps.registry.tabular import TabularError, iter_batches
from apps.tasks.extension_points import job_route
from apps.tasks.models import TaskRecord
from apps.tasks.services import task_record_create, task_record_subject_set
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal

TASK_KIND = "inference.prediction_batch"
# The queue of the batch task (CELERY_TASK_ROUTES) where no router chooses another.
JOB_QUEUE = "gpu"
PARQUET = "application/vnd.apache.parquet"


def artifact_bytes(artifact: Artifact) -> bytes:
    with artifact.file.open("rb") as stream:
        return stream.read()


def artifact_digest(artifact: Artifact) -> str:
    with artifact.file.open("rb") as stream:
        return stream_sha256(stream)[0]


def _integrity_refused(artifact: Artifact, exc: IntegrityFailure, used_by: dict[str, str]) -> None:
    registry.artifact_integrity_failed(
        artifact=artifact, expected_sha256=exc.expected, found_sha256=exc.found, used_by=used_by
    )


def input_digest_check(*, artifact: Artifact, expected: str, used_by: dict[str, str]) -> None:
    """Refuses an input file whose bytes changed since the job was requested, and
    records ``artifact.integrity_failed`` for it."""
    found = artifact_digest(artifact)
    if found != expected:
        failure = IntegrityFailure(what="input file", expected=expected, found=found)
        _integrity_refused(artifact, failure, used_by)
        raise failure


def uploaded_file(path: str, *, name: str, content_type: str) -> UploadedFile:
    """A file a worker wrote, opened for the registry's artifact store; the caller
    closes it."""
    return UploadedFile(
        file=open(path, "rb"), name=name, content_type=content_type, size=os.path.getsize(path)
    )


def ran_on_facts(model: loading.LoadedModel) -> dict[str, Any]:
    """Where a job ran: host, process and the model's device, for the ledger."""
    return {"host": socket.gethostname(), "pid": os.getpid(), **model.ran_on()}


def model_for(
    *, model_version: ModelVersion, device: devices.Device, used_by: dict[str, str]
) -> loading.LoadedModel:
    """The model of a version, from this process's cache or loaded after its digest
    is checked; a changed file records ``artifact.integrity_failed`` and is refused."""
    if model_version.artifact is None:
        raise JobRefused(f"model version {model_version.pk} has no uploaded artifact")
    try:
        return loading.cache.get_or_load(
            digest=model_version.artifact_sha256,
            fmt=model_version.artifact_format,
            device=device,
            read=lambda: artifact_bytes(model_version.artifact),
        )
    except IntegrityFailure as exc:
        _integrity_refused(model_version.artifact, exc, used_by)
        raise


def check_input(*, model: loading.LoadedModel, artifact: Artifact) -> None:
    """Refuses, before anything is queued, input the model cannot score: an empty or
    unreadable file, or one without the model's feature columns as numbers."""
    if artifact.size_bytes == 0:
        raise JobRefused("the input file is empty (0 bytes)")
    with artifact.file.open("rb") as stream:
        try:
            first = next(iter_batches(stream), None)
        except TabularError as exc:
            raise JobRefused(f"the input file is {exc}") from None
    if first is None or first.num_rows == 0:
        raise JobRefused("the input file has no rows to score")
    scoring.feature_columns(first.schema, model)


def batch_run_request(
    *,
    actor: Principal,
    deployment: Deployment,
    input_artifact: Artifact,
    model_version: ModelVersion | None = None,
) -> tuple[PredictionBatch, Receipt, TaskRecord]:
    """Queues a batch after checking, on the CPU of this process, that the model loads
    safely and that the input has its feature columns; the fleet's router picks the
    queue whose workers fit the model version, or refuses the batch (docs/fleet.md)."""
    from django.utils import timezone

    served = registry_selectors.served_at(deployment=deployment, at=timezone.now())
    if served is not None and served.artifact is not None:
        used_by = {"kind": "model_version", "id": str(served.pk)}
        try:
            model = model_for(
                model_version=served, device=devices.cpu_device("request check"), used_by=used_by
            )
            check_input(model=model, artifact=input_artifact)
        except IntegrityFailure as exc:
            raise RuleViolation(f"Refused: {exc.reason}.") from None
        except JobRefused as exc:
            raise InvalidInput(f"Refused: {exc.reason}.", fields={"input": [exc.reason]}) from None
    route = job_route(
        organization=actor.organization,
        model_version=model_version or served,
        kind="prediction_batch",
        default_queue=JOB_QUEUE,
    )
    with transaction.atomic():
        task = task_record_create(organization=actor.organization, kind=TASK_KIND, route=route)
        batch, receipt = registry.prediction_batch_request(
            actor=actor,
            deployment=deployment,
            input_artifact=input_artifact,
            model_version=model_version,
            task=task,
        )
        task_record_subject_set(
            task=task, subject_kind="prediction_batch", subject_id=str(batch.pk)
        )
        from apps.inference.tasks import prediction_batch_run_task

        transaction.on_commit(
            lambda: prediction_batch_run_task.apply_async(args=[batch.pk], queue=route.queue)
        )
    return batch, receipt, task


# The key each framework's version is recorded under, and the module that says it.
FRAMEWORK_MODULES = {
    "xgboost": ("xgboost", "xgboost"),
    "lightgbm": ("lightgbm", "lightgbm"),
    "onnx": ("onnxruntime", "onnxruntime"),
    "sklearn": ("scikit-learn", "sklearn"),
}


def runtime_versions(model: loading.LoadedModel) -> dict[str, Any]:
    """Python's and the framework's versions, from the module itself: the same
    module ships as xgboost, xgboost-cpu, xgboost-cu12 or xgboost-cu13, and as
    onnxruntime or onnxruntime-gpu, so a look-up by distribution name fails.
    XGBoost's CUDA build (CUDA version) is recorded with it."""
    import importlib

    key, name = FRAMEWORK_MODULES[model.framework]
    module = importlib.import_module(name)
    out: dict[str, Any] = {
        "python": platform.python_version(),
        key: str(getattr(module, "__version__", "unknown")),
    }
    if key == "xgboost":
        with contextlib.suppress(Exception):
            info = module.build_info()
            cuda = info.get("CUDA_VERSION")
            out["xgboost_cuda_build"] = ".".join(map(str, cuda)) if info.get("USE_CUDA") else None
    return out


def batch_execute(
    *, batch_id: int, progress: Callable[[int, str], None] = lambda percent, message: None
) -> Receipt | None:
    """Scores a claimed batch and completes it. Raises JobRefused for inputs that
    cannot be scored (the caller records the failure)."""
    batch = PredictionBatch.objects.select_related(
        "model_version__artifact", "input_artifact", "deployment__system__organization"
    ).get(pk=batch_id)
    used_by = {"kind": "prediction_batch", "id": str(batch.pk)}
    if batch.input_artifact is None:
        raise JobRefused("the batch has no uploaded input file")
    input_digest_check(artifact=batch.input_artifact, expected=batch.input_sha256, used_by=used_by)
    model = model_for(
        model_version=batch.model_version, device=devices.select_device(), used_by=used_by
    )
    progress(5, f"model loaded on {model.device.kind}")
    with tempfile.TemporaryDirectory(prefix="batch-") as workdir:
        with Meter(model.device) as meter, batch.input_artifact.file.open("rb") as stream:
            result = scoring.score_file(
                model=model, stream=stream, workdir=workdir, on_progress=_throttled(progress)
            )
        telemetry = meter.result(ran_on=model.confirm_device())
        telemetry["rows_per_second"] = round(result.rows / max(meter.wall_seconds, 1e-9), 3)
        return _batch_complete(batch=batch, model=model, result=result, telemetry=telemetry)


def _throttled(progress: Callable[[int, str], None]) -> Callable[[float, int], None]:
    """Scoring's progress as the task's percent, at most once per
    INFERENCE_PROGRESS_MS: each update is a committed write."""
    interval = settings.INFERENCE_PROGRESS_MS / 1000
    last_progress = time.monotonic()

    def on_progress(fraction: float, rows: int) -> None:
        nonlocal last_progress
        now = time.monotonic()
        if now - last_progress < interval:
            return
        last_progress = now
        progress(5 + int(fraction * 90), f"{rows} rows scored")

    return on_progress


def _batch_complete(
    *,
    batch: PredictionBatch,
    model: loading.LoadedModel,
    result: scoring.ScoreResult,
    telemetry: dict[str, Any],
) -> Receipt | None:
    """Hands the scored files and facts to the registry, which stores them and
    completes the batch with its ledger entry in one transaction."""
    ran_on = {
        **ran_on_facts(model),
        "framework": model.framework,
        "versions": runtime_versions(model),
    }
    output_file = uploaded_file(
        result.output_path, name=f"batch-{batch.pk}-output.parquet", content_type=PARQUET
    )
    rows_file = uploaded_file(
        result.rows_path, name=f"batch-{batch.pk}-rows.parquet", content_type=PARQUET
    )
    try:
        return registry.prediction_batch_complete(
            batch_id=batch.pk,
            output_file=output_file,
            rows_file=rows_file,
            output_sha256=result.output_sha256,
            rows=result.rows,
            rows_root=result.rows_root,
            ran_on=ran_on,
            telemetry=telemetry,
        )
    finally:
        output_file.close()
        rows_file.close()


def batch_fail(*, batch_id: int, reason: str) -> Receipt | None:
    return registry.prediction_batch_fail(batch_id=batch_id, reason=reason)


def feature_chunks(
    *, model: loading.LoadedModel, artifact: Artifact
) -> Iterator[tuple[list[str], np.ndarray]]:
    """The artifact's rows as float32 feature matrices in the model's feature order,
    chunk by chunk, with the feature names; refuses input the model cannot take."""
    with artifact.file.open("rb") as stream:
        positions: list[int] | None = None
        try:
            for batch in scoring._chunks(iter_batches(stream)):
                if positions is None:
                    positions = scoring.feature_columns(batch.schema, model)
                    names = [batch.schema.names[i] for i in positions]
                if batch.num_rows:
                    yield names, scoring.matrix(batch, positions)
        except TabularError as exc:
            raise JobRefused(f"the input file is {exc}") from None
