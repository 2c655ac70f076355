"""Explanation jobs: request (checks and cost estimate), execute (worker), and
their ledger entries (``explanation.requested``/``completed``/``failed``)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from apps.explainability import engine, events
from apps.explainability.extension_points import explanation_finished
from apps.explainability.models import Explanation
from apps.inference import devices
from apps.inference import services as inference
from apps.inference.errors import IntegrityFailure, JobRefused
from apps.inference.telemetry import Meter
from apps.ledger.digests import json_sha256
from apps.ledger.types import Receipt
from apps.registry.artifacts import artifact_store
from apps.registry.models import Artifact, DatasetVersion, ModelVersion, PredictionBatch
from apps.tasks.extension_points import job_route
from apps.tasks.services import task_record_create, task_record_finish, task_record_subject_set
from apps.tenancy.records import record_event
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal

TASK_KIND = "explainability.explanation"
# The queue of the explanation task (CELERY_TASK_ROUTES) where no router chooses another.
JOB_QUEUE = "gpu"
MAX_BACKGROUND_ROWS = 1000


def _refs(explanation: Explanation) -> dict[str, Any]:
    def ref(kind: str, pk: Any) -> dict[str, str] | None:
        return None if pk is None else {"kind": kind, "id": str(pk)}

    return {
        "model_version": ref("model_version", explanation.model_version_id),
        "model_sha256": explanation.model_version.artifact_sha256,
        "dataset_version": ref("dataset_version", explanation.dataset_version_id),
        "prediction_batch": ref("prediction_batch", explanation.prediction_batch_id),
        "input_sha256": explanation.input_sha256,
    }


def _source(
    *, dataset_version: DatasetVersion | None, prediction_batch: PredictionBatch | None
) -> tuple[Artifact, int | None, int]:
    """The input artifact, its row count when known, and the system it belongs to."""
    if (dataset_version is None) == (prediction_batch is None):
        raise InvalidInput(
            "Give exactly one of dataset_version_id and prediction_batch_id.",
            fields={"dataset_version_id": ["Exactly one source."]},
        )
    if dataset_version is not None:
        if dataset_version.artifact is None:
            raise RuleViolation(
                f"Dataset version {dataset_version.pk} has no uploaded file to explain."
            )
        return (
            dataset_version.artifact,
            dataset_version.row_count,
            dataset_version.dataset.system_id,
        )
    assert prediction_batch is not None
    if prediction_batch.input_artifact is None:
        raise RuleViolation(
            f"Prediction batch {prediction_batch.pk} has no uploaded input file to explain."
        )
    return (
        prediction_batch.input_artifact,
        prediction_batch.row_count,
        prediction_batch.deployment.system_id,
    )


def _background(model: Any, artifact: Artifact, rows: int) -> np.ndarray:
    """The first ``rows`` rows of the input, as the permutation/linear background."""
    taken: list[np.ndarray] = []
    have = 0
    for _, x in inference.feature_chunks(model=model, artifact=artifact):
        taken.append(x[: rows - have])
        have += len(taken[-1])
        if have >= rows:
            break
    if not taken:
        raise JobRefused("the input file has no rows to explain")
    return np.concatenate(taken)


def _request_check(*, model_version: ModelVersion, system_id: Any, background_rows: int) -> None:
    if model_version.model.system_id != system_id:
        raise RuleViolation("The model version and the data belong to different AI systems.")
    if model_version.artifact is None:
        raise RuleViolation(f"Model version {model_version.pk} has no uploaded artifact.")
    if not 1 <= background_rows <= MAX_BACKGROUND_ROWS:
        raise InvalidInput(
            f"background_rows must be between 1 and {MAX_BACKGROUND_ROWS}.",
            fields={"background_rows": ["Out of range."]},
        )


def explanation_request(
    *,
    actor: Principal,
    model_version: ModelVersion,
    dataset_version: DatasetVersion | None = None,
    prediction_batch: PredictionBatch | None = None,
    background_rows: int = 100,
) -> tuple[Explanation, Receipt]:
    """Checks the job, estimates the permutation explainer's cost (refused above
    SHAP_MAX_COST_SECONDS) and queues it where the fleet's router sends it."""
    artifact, rows, system_id = _source(
        dataset_version=dataset_version, prediction_batch=prediction_batch
    )
    _request_check(
        model_version=model_version, system_id=system_id, background_rows=background_rows
    )
    method, estimate = _method_and_cost(
        model_version=model_version, artifact=artifact, rows=rows, background_rows=background_rows
    )
    route = job_route(
        organization=actor.organization,
        model_version=model_version,
        kind="explanation",
        default_queue=JOB_QUEUE,
    )
    with transaction.atomic():
        task = task_record_create(organization=actor.organization, kind=TASK_KIND, route=route)
        explanation = Explanation.objects.create(
            organization=actor.organization,
            model_version=model_version,
            dataset_version=dataset_version,
            prediction_batch=prediction_batch,
            input_sha256=artifact.sha256,
            method=method,
            background_rows=background_rows,
            estimated_cost_seconds=estimate,
            task=task,
        )
        task_record_subject_set(
            task=task, subject_kind="explanation", subject_id=str(explanation.pk)
        )
        receipt = record_event(
            actor=actor,
            event=events.EXPLANATION_REQUESTED,
            id=explanation.pk,
            data={
                "method": method,
                "background_rows": background_rows,
                "estimated_cost_seconds": estimate,
                "task": str(task.pk),
                **_refs(explanation),
            },
        )
        from apps.explainability.tasks import explanation_run_task

        pk = explanation.pk
        transaction.on_commit(
            lambda: explanation_run_task.apply_async(args=[pk], queue=route.queue)
        )
    return explanation, receipt


def _method_and_cost(
    *, model_version: ModelVersion, artifact: Artifact, rows: int | None, background_rows: int
) -> tuple[str, float | None]:
    """The explainer the model takes and, for the permutation explainer, its estimated
    cost in seconds, checked on the CPU of this process; refuses a model that does not
    load safely, input it cannot take, and a cost above SHAP_MAX_COST_SECONDS."""
    used_by = {"kind": "model_version", "id": str(model_version.pk)}
    try:
        model = inference.model_for(
            model_version=model_version,
            device=devices.cpu_device("request check"),
            used_by=used_by,
        )
        inference.check_input(model=model, artifact=artifact)
        method = engine.method_for(model)
        estimate = None
        if method == "shap_permutation_explainer":
            if rows is None:
                rows = sum(
                    len(x) for _, x in inference.feature_chunks(model=model, artifact=artifact)
                )
            background = _background(model, artifact, background_rows)
            estimate = engine.estimate_permutation_seconds(
                model=model,
                sample=background,
                rows=rows or 0,
                background_rows=len(background),
            )
    except IntegrityFailure as exc:
        raise RuleViolation(f"Refused: {exc.reason}.") from None
    except JobRefused as exc:
        raise InvalidInput(f"Refused: {exc.reason}.", fields={"input": [exc.reason]}) from None
    if estimate is not None and estimate > settings.SHAP_MAX_COST_SECONDS:
        raise InvalidInput(
            f"Refused: the permutation explainer would need about {estimate:.0f} s of model "
            f"time ({rows} rows x {engine.permutation_evals(model.n_features)} evaluations x "
            f"{background_rows} background rows), above SHAP_MAX_COST_SECONDS="
            f"{settings.SHAP_MAX_COST_SECONDS}. Explain fewer rows or use fewer background rows.",
            fields={"background_rows": [f"Estimated cost {estimate:.0f} s."]},
        )
    return method, estimate


def explanation_claim(*, explanation_id: int) -> bool:
    """Conditional UPDATE: queued (or left running by a dead worker) -> running."""
    return (
        Explanation.objects.filter(
            pk=explanation_id,
            status__in=[Explanation.Status.QUEUED, Explanation.Status.RUNNING],
        ).update(status=Explanation.Status.RUNNING, started_at=timezone.now())
        == 1
    )


def _system_actor(explanation: Explanation) -> Principal:
    return Principal.system(organization=explanation.organization, name="explanation_worker")


def explanation_execute(
    *, explanation_id: int, progress: Callable[[int, str], None] = lambda p, m: None
) -> Receipt | None:
    """Computes the values chunk by chunk, checks additivity, stores the values as
    an .npy artifact and completes the explanation with one ledger entry."""
    explanation = Explanation.objects.select_related(
        "organization",
        "model_version__artifact",
        "dataset_version__artifact",
        "dataset_version__dataset",
        "prediction_batch__input_artifact",
        "prediction_batch__deployment",
    ).get(pk=explanation_id)
    artifact, rows, _ = _source(
        dataset_version=explanation.dataset_version,
        prediction_batch=explanation.prediction_batch,
    )
    used_by = {"kind": "explanation", "id": str(explanation.pk)}
    inference.input_digest_check(
        artifact=artifact, expected=explanation.input_sha256, used_by=used_by
    )
    model = inference.model_for(
        model_version=explanation.model_version, device=devices.select_device(), used_by=used_by
    )
    progress(5, f"model loaded on {model.device.kind}")
    background = _background(model, artifact, explanation.background_rows)
    explainer = engine.Explainer(model=model, method=explanation.method, background=background)
    with Meter(model.device) as meter:
        values, names, max_error = _explain_chunks(
            explainer=explainer, model=model, artifact=artifact, rows=rows, progress=progress
        )
    engine.check_additivity(max_error)
    # The device the framework reports after the work: a silent CPU fallback is the CPU.
    telemetry = meter.result(ran_on=model.confirm_device())
    telemetry["rows_per_second"] = round(len(values) / max(meter.wall_seconds, 1e-9), 3)
    with tempfile.TemporaryDirectory(prefix="shap-") as workdir:
        path = os.path.join(workdir, "values.npy")
        np.save(path, values, allow_pickle=False)
        with inference.uploaded_file(
            path,
            name=f"explanation-{explanation.pk}-values.npy",
            content_type="application/x-npy",
        ) as uploaded:
            return _complete(
                explanation_id=explanation.pk,
                uploaded=uploaded,
                rows=len(values),
                names=names,
                importance=engine.global_importance(values, names),
                max_error=max_error,
                ran_on=inference.ran_on_facts(model),
                telemetry=telemetry,
            )


def _explain_chunks(
    *,
    explainer: engine.Explainer,
    model: Any,
    artifact: Artifact,
    rows: int | None,
    progress: Callable[[int, str], None],
) -> tuple[np.ndarray, list[str], float]:
    """Every row's values, the feature names and the largest additivity error."""
    parts: list[np.ndarray] = []
    max_error = 0.0
    names: list[str] = []
    done = 0
    for chunk_names, x in inference.feature_chunks(model=model, artifact=artifact):
        names = chunk_names
        result = explainer.explain(x)
        max_error = max(max_error, result.max_error)
        parts.append(result.values)
        done += len(x)
        if rows:
            progress(5 + int(85 * min(done / rows, 1.0)), f"{done} rows explained")
    if not parts:
        raise JobRefused("the input file has no rows to explain")
    return np.concatenate(parts), names, max_error


def _complete(
    *,
    explanation_id: int,
    uploaded: UploadedFile,
    rows: int,
    names: list[str],
    importance: dict[str, float],
    max_error: float,
    ran_on: dict[str, Any],
    telemetry: dict[str, Any],
) -> Receipt | None:
    """Stores the values and, in one transaction, completes the explanation, appends
    ``explanation.completed`` and finishes the task record."""
    with transaction.atomic():
        explanation = (
            Explanation.objects.select_for_update(of=("self",))
            .select_related("organization", "model_version")
            .get(pk=explanation_id)
        )
        if explanation.status != Explanation.Status.RUNNING:
            return None
        actor = _system_actor(explanation)
        artifact, _ = artifact_store(
            organization=explanation.organization,
            uploaded=uploaded,
            declared_sha256=None,
            actor=actor,
        )
        explanation.status = Explanation.Status.COMPLETED
        explanation.rows = rows
        explanation.feature_names = names
        explanation.values_artifact = artifact
        explanation.values_sha256 = artifact.sha256
        explanation.global_importance = importance
        explanation.additivity_max_error = max_error
        explanation.additivity_ok = True
        explanation.ran_on, explanation.telemetry = ran_on, telemetry
        explanation.energy_joules = telemetry.get("energy_joules")
        explanation.finished_at = timezone.now()
        receipt = record_event(
            actor=actor,
            event=events.EXPLANATION_COMPLETED,
            id=explanation.pk,
            data={
                "method": explanation.method,
                "rows": rows,
                "values_sha256": artifact.sha256,
                "global_importance_sha256": json_sha256(importance),
                "additivity_max_error": max_error,
                "ran_on": ran_on,
                "telemetry": telemetry,
                **_refs(explanation),
            },
        )
        explanation.ledger_seq = receipt.seq
        explanation.save()
        _task_finish(explanation)
        explanation_finished(explanation_id=explanation.pk)
    return receipt


def _task_finish(explanation: Explanation) -> None:
    if explanation.task_id:
        task_record_finish(
            task_id=explanation.task_id,
            message="completed",
            result_links={"explanation": f"/api/v1/explanations/{explanation.pk}"},
        )


def explanation_fail(*, explanation_id: int, reason: str) -> Receipt | None:
    with transaction.atomic():
        explanation = (
            Explanation.objects.select_for_update(of=("self",))
            .select_related("organization", "model_version")
            .get(pk=explanation_id)
        )
        if explanation.status not in (Explanation.Status.QUEUED, Explanation.Status.RUNNING):
            return None
        explanation.status = Explanation.Status.FAILED
        explanation.failure_reason = reason
        explanation.additivity_ok = False if "additivity" in reason else None
        explanation.finished_at = timezone.now()
        receipt = record_event(
            actor=_system_actor(explanation),
            event=events.EXPLANATION_FAILED,
            id=explanation.pk,
            data={"reason": reason, "method": explanation.method, **_refs(explanation)},
        )
        explanation.ledger_seq = receipt.seq
        explanation.save()
        explanation_finished(explanation_id=explanation.pk)
    return receipt
