"""Assessments (Art. 9(8), Art. 15): requested with thresholds fixed before the run,
run by a worker (apps/compliance/tasks.py), completed or failed on the record."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.compliance import events, selectors
from apps.compliance.metrics import METRICS
from apps.compliance.models import Assessment, AssessmentSignature
from apps.compliance.services._common import same_org, who
from apps.ledger.digests import json_sha256, text_sha256
from apps.ledger.types import Receipt
from apps.registry.models import AISystem, DatasetVersion, ModelVersion
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import Forbidden, InvalidInput, RuleViolation
from audit_platform.principal import Principal
from audit_platform.roles import TEST_REPORT_SIGNER_ROLES

DEFAULT_RESAMPLES = 1000
MAX_RESAMPLES = 10_000


def _validate_thresholds(kind: str, task: str, thresholds: Any) -> dict[str, dict[str, float]]:
    if not isinstance(thresholds, dict) or not thresholds:
        raise InvalidInput(
            "Fix at least one threshold before the run (Art. 9(8)).",
            fields={"thresholds": ['Required: {"metric": {"min": x} or {"max": y}}.']},
        )
    problems: dict[str, list[str]] = {}
    clean: dict[str, dict[str, float]] = {}
    for name, bounds in thresholds.items():
        field = f"thresholds.{name}"
        spec = METRICS.get(name)
        if spec is None or spec[0] != kind or spec[1] not in (task, "any"):
            allowed = [m for m, s in METRICS.items() if s[0] == kind and s[1] in (task, "any")]
            problems[field] = [f"Not a {kind} metric for {task}; choose from {', '.join(allowed)}."]
            continue
        low, high = spec[2], spec[3]
        if (
            not isinstance(bounds, dict)
            or not bounds
            or set(bounds) - {"min", "max"}
            or any(isinstance(v, bool) or not isinstance(v, int | float) for v in bounds.values())
        ):
            problems[field] = ['Must be {"min": number} and/or {"max": number}.']
            continue
        bad = [
            f"{side} {value} is outside the possible range [{low}, {high}] of {name}"
            for side, value in bounds.items()
            if not (low <= value <= high)
        ]
        if not bad and "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
            bad.append(f"min {bounds['min']} is above max {bounds['max']}")
        if bad:
            problems[field] = [f"Impossible threshold: {'; '.join(bad)}."]
            continue
        clean[name] = {side: float(value) for side, value in bounds.items()}
    if problems:
        raise InvalidInput(
            "Invalid thresholds: " + ", ".join(sorted(problems)) + ".", fields=problems
        )
    return clean


def assessment_request(
    *,
    actor: Principal,
    system: AISystem,
    dataset_version: DatasetVersion,
    kind: str,
    task: str,
    label_column: str | None,
    prediction_column: str | None,
    thresholds: Any,
    score_column: str | None = None,
    protected_attributes: list[str] | None = None,
    numeric_features: list[str] | None = None,
    categorical_features: list[str] | None = None,
    model_version: ModelVersion | None = None,
    decision_threshold: float = 0.5,
    noise_scale: float = 0.1,
    flip_probability: float = 0.1,
    bootstrap_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> tuple[Assessment, Receipt]:
    """Queues an assessment with thresholds fixed now, before the run (Art. 9(8))."""
    same_org(actor, system)
    _subjects_check(
        system=system,
        dataset_version=dataset_version,
        model_version=model_version,
        kind=kind,
        task=task,
    )
    clean_thresholds = _validate_thresholds(kind, task, thresholds)
    config = {
        "label_column": label_column or None,
        "prediction_column": prediction_column or None,
        "score_column": score_column or None,
        "protected_attributes": list(protected_attributes or []),
        "numeric_features": list(numeric_features or []),
        "categorical_features": list(categorical_features or []),
        "decision_threshold": decision_threshold,
        "noise_scale": noise_scale,
        "flip_probability": flip_probability,
        "bootstrap_resamples": bootstrap_resamples,
        "seed": seed,
    }
    _config_check(
        dataset_version=dataset_version, kind=kind, config=config, thresholds=clean_thresholds
    )
    return _assessment_queue(
        actor=actor,
        system=system,
        dataset_version=dataset_version,
        model_version=model_version,
        kind=kind,
        task=task,
        config=config,
        thresholds=clean_thresholds,
    )


def _subjects_check(
    *,
    system: AISystem,
    dataset_version: DatasetVersion,
    model_version: ModelVersion | None,
    kind: str,
    task: str,
) -> None:
    """Refuses data and models of another system, a dataset version without a file to
    read, and a fairness assessment of anything but a classifier."""
    if dataset_version.dataset.system_id != system.pk:
        raise RuleViolation(f"Dataset version {dataset_version.pk} belongs to another AI system.")
    if model_version is not None and model_version.model.system_id != system.pk:
        raise RuleViolation(f"Model version {model_version.pk} belongs to another AI system.")
    if dataset_version.artifact_id is None:
        raise InvalidInput(
            f"Dataset version {dataset_version.pk} has no uploaded file to assess; register a "
            "version with artifact_sha256.",
            fields={"dataset_version_id": ["No uploaded file."]},
        )
    if kind == Assessment.Kind.FAIRNESS and task != Assessment.Task.CLASSIFICATION:
        raise InvalidInput(
            "Fairness assessments need a classification task.",
            fields={"task": ["Must be classification for fairness."]},
        )


def _config_check(
    *,
    dataset_version: DatasetVersion,
    kind: str,
    config: dict[str, Any],
    thresholds: dict[str, dict[str, float]],
) -> None:
    """Refuses, naming every problem at once, a configuration the dataset cannot serve."""
    columns = {c["name"]: c["type"] for c in dataset_version.schema}
    problems = {
        **_column_problems(kind=kind, columns=columns, config=config, thresholds=thresholds),
        **_parameter_problems(config=config),
    }
    if problems:
        raise InvalidInput(
            "The assessment cannot run as asked: " + ", ".join(sorted(problems)) + ".",
            fields=problems,
        )


def _column_problems(
    *,
    kind: str,
    columns: dict[str, str],
    config: dict[str, Any],
    thresholds: dict[str, dict[str, float]],
) -> dict[str, list[str]]:
    """Per field, the columns this kind of assessment needs that the dataset's schema
    (``columns``: name -> type) does not have, or has with the wrong type."""
    problems: dict[str, list[str]] = {}

    def need(field: str, value: Any, numeric: bool = False) -> None:
        if not value:
            problems[field] = ["Required for this assessment."]
        elif value not in columns:
            problems[field] = [f"The dataset has no column {value!r}."]
        elif numeric and columns[value] not in ("integer", "number", "boolean"):
            problems[field] = [f"Column {value!r} holds {columns[value]} values, not numbers."]

    score_column = config["score_column"]
    protected_attributes = config["protected_attributes"]
    numeric_features = config["numeric_features"]
    categorical_features = config["categorical_features"]
    if kind in (Assessment.Kind.PERFORMANCE, Assessment.Kind.FAIRNESS):
        need("label_column", config["label_column"])
        need("prediction_column", config["prediction_column"])
    if score_column or (kind == Assessment.Kind.ROBUSTNESS):
        need("score_column", score_column, numeric=True)
    if kind == Assessment.Kind.PERFORMANCE and "roc_auc" in thresholds and not score_column:
        problems["score_column"] = ["Required for a roc_auc threshold."]
    if kind == Assessment.Kind.FAIRNESS:
        unknown = [a for a in protected_attributes if a not in columns]
        if not protected_attributes:
            problems["protected_attributes"] = ["Name at least one protected attribute."]
        elif unknown:
            problems["protected_attributes"] = [
                f"Unknown protected attribute(s): {', '.join(unknown)}; the dataset has "
                f"columns {', '.join(columns)}."
            ]
    if kind == Assessment.Kind.ROBUSTNESS:
        if not numeric_features and not categorical_features:
            problems["numeric_features"] = ["Name the features to perturb."]
        for field, names, numeric in (
            ("numeric_features", numeric_features, True),
            ("categorical_features", categorical_features, False),
        ):
            for name in names:
                if name not in columns:
                    problems[field] = [f"The dataset has no column {name!r}."]
                elif numeric and columns[name] not in ("integer", "number"):
                    problems[field] = [f"Column {name!r} is not numeric."]
    return problems


def _parameter_problems(*, config: dict[str, Any]) -> dict[str, list[str]]:
    """Per field, the run parameters outside the range the metrics accept."""
    problems: dict[str, list[str]] = {}
    if not (0 <= config["bootstrap_resamples"] <= MAX_RESAMPLES):
        problems["bootstrap_resamples"] = [f"Must be between 0 and {MAX_RESAMPLES}."]
    if not (0.0 < config["noise_scale"] <= 10.0):
        problems["noise_scale"] = ["Must be above 0 and at most 10."]
    if not (0.0 <= config["flip_probability"] <= 1.0):
        problems["flip_probability"] = ["Must be between 0 and 1."]
    return problems


def _assessment_queue(
    *,
    actor: Principal,
    system: AISystem,
    dataset_version: DatasetVersion,
    model_version: ModelVersion | None,
    kind: str,
    task: str,
    config: dict[str, Any],
    thresholds: dict[str, dict[str, float]],
) -> tuple[Assessment, Receipt]:
    """The write: the progress record, the assessment and its ledger entry in one
    transaction; the run is queued once they commit."""
    from apps.tasks.services import task_record_create

    with transaction.atomic():
        record = task_record_create(
            organization=actor.organization, kind=f"assessment.{kind}", subject_kind="assessment"
        )
        assessment = Assessment.objects.create(
            system=system,
            model_version=model_version,
            dataset_version=dataset_version,
            kind=kind,
            learning_task=task,
            config=config,
            thresholds=thresholds,
            task=record,
            created_by=who(actor),
        )
        record.subject_id = str(assessment.pk)
        record.save(update_fields=["subject_id"])
        receipt = record_event(
            actor=actor,
            event=events.ASSESSMENT_REQUESTED,
            id=assessment.pk,
            data={
                "kind": kind,
                "task": task,
                "thresholds": thresholds,
                "config": config,
                "dataset_version": record_ref("dataset_version", dataset_version),
                "dataset_sha256": dataset_version.sha256,
                "model_version": record_ref("model_version", model_version),
                "parent": record_ref("ai_system", system),
            },
        )
        from apps.compliance.tasks import assessment_run_task

        pk = assessment.pk
        transaction.on_commit(lambda: assessment_run_task.delay(pk))
    return assessment, receipt


def assessment_claim(*, assessment_id: int) -> bool:
    """Moves a queued (or redelivered, still running) assessment to running; False when
    it already finished, so a task delivered twice does its work once."""
    return (
        Assessment.objects.filter(
            pk=assessment_id, status__in=[Assessment.Status.QUEUED, Assessment.Status.RUNNING]
        ).update(status=Assessment.Status.RUNNING)
        == 1
    )


def assessment_complete(
    *, assessment_id: int, results: dict[str, Any], passed: bool, outcomes: dict[str, Any]
) -> Receipt | None:
    from apps.tasks.services import task_record_finish

    with transaction.atomic():
        assessment = (
            Assessment.objects.select_for_update(of=("self",))
            .select_related("system__organization")
            .get(pk=assessment_id)
        )
        if assessment.status != Assessment.Status.RUNNING:
            return None
        assessment.status = Assessment.Status.PASSED if passed else Assessment.Status.FAILED
        assessment.results, assessment.outcomes = results, outcomes
        assessment.finished_at = timezone.now()
        assessment.save(update_fields=["status", "results", "outcomes", "finished_at"])
        if assessment.task_id:
            task_record_finish(
                task_id=assessment.task_id,
                message=f"assessment {assessment.status}",
                result_links={"assessment": f"/api/v1/assessments/{assessment.pk}"},
            )
        actor = Principal.system(organization=assessment.system.organization, name="assessment")
        return record_event(
            actor=actor,
            event=events.ASSESSMENT_COMPLETED,
            id=assessment.pk,
            data={
                "passed": passed,
                "outcomes": outcomes,
                "results_sha256": json_sha256(results),
            },
        )


def assessment_fail(*, assessment_id: int, reason: str) -> Receipt | None:
    """Marks the assessment as not run, with its reason. The job that calls it fails
    the task record in the same transaction (apps/tasks/jobs.py)."""
    with transaction.atomic():
        assessment = (
            Assessment.objects.select_for_update(of=("self",))
            .select_related("system__organization")
            .get(pk=assessment_id)
        )
        if assessment.status not in (Assessment.Status.QUEUED, Assessment.Status.RUNNING):
            return None
        assessment.status = Assessment.Status.ERROR
        assessment.failure_reason = reason
        assessment.finished_at = timezone.now()
        assessment.save(update_fields=["status", "failure_reason", "finished_at"])
        actor = Principal.system(organization=assessment.system.organization, name="assessment")
        return record_event(
            actor=actor,
            event=events.ASSESSMENT_FAILED,
            id=assessment.pk,
            data={"reason": reason},
        )


def _check_signer(actor: Principal, function: str) -> None:
    if not actor.in_person:
        raise Forbidden(
            "Annex IV 2(g): test reports are signed by the responsible persons: sign in (an "
            "API key or an operator cannot sign)."
        )
    if actor.role not in TEST_REPORT_SIGNER_ROLES:
        raise Forbidden(
            f"The role '{actor.role}' cannot sign test reports; owners, compliance officers "
            "and ML engineers can."
        )
    if not function.strip():
        raise InvalidInput(
            "Say in which function you sign (e.g. 'test lead').",
            fields={"function": ["Required."]},
        )


def assessment_sign(
    *, actor: Principal, assessment: Assessment, report_sha256: str, function: str
) -> tuple[AssessmentSignature, Receipt]:
    """A responsible person signs the assessment's test report (Annex IV, point 2(g)):
    signed in, in person, once; only a completed report; and only the report whose
    digest they name, so a signature never covers what its signer did not see."""
    _check_signer(actor, function)
    actor.require_second_factor(act="Signing a test report")
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update(of=("self",)).get(pk=assessment.pk)
        if assessment.system.organization_id != actor.organization.pk:
            raise RuleViolation("That assessment belongs to another organization.")
        if assessment.status not in (Assessment.Status.PASSED, Assessment.Status.FAILED):
            raise RuleViolation(
                f"Assessment {assessment.pk} is {assessment.status}: only the report of a "
                "completed test (passed or failed) can be signed."
            )
        expected = selectors.assessment_test_report_sha256(assessment=assessment)
        if report_sha256 != expected:
            raise RuleViolation(
                f"Conflict: the test report of assessment {assessment.pk} has SHA-256 "
                f"{expected}, not {report_sha256}; read it again "
                f"(/api/v1/assessments/{assessment.pk}/test-report) and sign what you read."
            )
        if AssessmentSignature.objects.filter(assessment=assessment, signed_by=actor.user).exists():
            raise RuleViolation(
                f"You signed the test report of assessment {assessment.pk} already."
            )
        signature = AssessmentSignature.objects.create(
            assessment=assessment,
            signed_by=actor.user,
            role=actor.role,
            function=function,
            report_sha256=expected,
            ledger_seq=0,
        )
        receipt = record_event(
            actor=actor,
            event=events.ASSESSMENT_SIGNED,
            id=assessment.pk,
            data={
                "signed_by_user_id": str(actor.person_id),
                "role": actor.role,
                "function_sha256": text_sha256(function),
                "report_sha256": expected,
            },
        )
        signature.ledger_seq = receipt.seq
        signature.save(update_fields=["ledger_seq"])
    return signature, receipt
