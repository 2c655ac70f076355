"""Writes of the compliance record. Each service changes its rows and appends the
matching ledger entry in one transaction, as its last step; both commit or neither
does. Ledger payloads carry digests and metadata, never free text or personal data.
Event types are listed in docs/events.md and explained in docs/compliance.md."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.compliance import events, rules, selectors
from apps.compliance.metrics import METRICS
from apps.compliance.models import (
    ApprovalDecision,
    ApprovalRequest,
    Assessment,
    Classification,
    DecisionOverride,
    FundamentalRightsAssessment,
    Incident,
    IncidentReport,
    ObligationEvidence,
    Risk,
)
from apps.ledger.digests import json_sha256, text_sha256
from apps.ledger.types import Receipt
from apps.registry.models import AISystem, DatasetVersion, Deployment, ModelVersion
from apps.registry.models import PredictionBatch as RegistryBatch
from apps.tenancy.models import Membership
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import Forbidden, InvalidInput, RuleViolation
from audit_platform.principal import Principal
from audit_platform.roles import Role

APPROVER_ROLES = (Role.OWNER, Role.COMPLIANCE_OFFICER)
# Art. 73(2), (3), (4): days from awareness to the report.
REPORTING_DAYS = {
    Incident.Kind.GENERAL: 15,
    Incident.Kind.DEATH: 10,
    Incident.Kind.WIDESPREAD_INFRINGEMENT: 2,
    Incident.Kind.CRITICAL_INFRASTRUCTURE: 2,
}
DEFAULT_RESAMPLES = 1000
MAX_RESAMPLES = 10_000


def _who(actor: Principal) -> str:
    return f"{actor.kind}:{actor.id}"


def _same_org(actor: Principal, system: AISystem) -> None:
    if system.organization_id != actor.organization.pk:
        raise RuleViolation("That AI system belongs to another organization.")


# --- Classification -------------------------------------------------------------------


def classification_record(
    *, actor: Principal, system: AISystem, answers: Any
) -> tuple[Classification, Receipt]:
    """Classifies the system from the questionnaire. A new classification is a new
    version; earlier ones stay on the record."""
    _same_org(actor, system)
    try:
        clean = rules.validate_answers(answers, role=system.role)
    except rules.QuestionnaireError as exc:
        unanswered = sorted(k for k, v in exc.problems.items() if v == ["Unanswered."])
        message = (
            f"The questionnaire is incomplete: unanswered {', '.join(unanswered)}."
            if unanswered
            else "The questionnaire has invalid answers: " + ", ".join(sorted(exc.problems)) + "."
        )
        raise InvalidInput(
            message, fields={f"answers.{k}": v for k, v in exc.problems.items()}
        ) from None
    outcome = rules.classify(clean, role=system.role)
    with transaction.atomic():
        AISystem.objects.select_for_update().get(pk=system.pk)
        previous = selectors.classification_current(system=system)
        rationale = " ".join(outcome.rationale)
        classification = Classification(
            system=system,
            version=(previous.version + 1) if previous else 1,
            role=system.role,
            answers=clean,
            category=outcome.category,
            high_risk_basis=outcome.high_risk_basis,
            annex_iii_area=outcome.annex_iii_area,
            exemption=outcome.exemption,
            result=outcome.flags,
            rationale=rationale,
            citations=outcome.citations,
            created_by=_who(actor),
            ledger_seq=0,
        )
        receipt = record_event(
            actor=actor,
            event=events.CLASSIFICATION_RECORDED,
            id=system.pk,
            data={
                "version": classification.version,
                "supersedes": previous.version if previous else None,
                "role": system.role,
                "category": outcome.category,
                "high_risk_basis": outcome.high_risk_basis or None,
                "annex_iii_area": outcome.annex_iii_area or None,
                "exemption": outcome.exemption or None,
                "flags": outcome.flags,
                "answers": clean,
                "citations": outcome.citations,
                "rationale_sha256": text_sha256(rationale),
            },
        )
        classification.ledger_seq = receipt.seq
        classification.save()
    return classification, receipt


def obligation_evidence_attach(
    *,
    actor: Principal,
    system: AISystem,
    obligation: str,
    description: str,
    uri: str = "",
    sha256: str = "",
) -> tuple[ObligationEvidence, Receipt]:
    """Attaches evidence the record cannot show by itself (a declaration of conformity,
    the EU database registration) to one obligation of the system's checklist."""
    _same_org(actor, system)
    checklist = selectors.obligations_for_system(system=system)
    codes = [item["code"] for item in checklist["obligations"]]
    if obligation not in codes:
        raise InvalidInput(
            f"Obligation {obligation!r} does not apply to system {system.pk}; its checklist "
            f"has: {', '.join(codes) or 'nothing (classify it first)'}.",
            fields={"obligation": ["Not in this system's checklist."]},
        )
    if not uri and not sha256:
        raise InvalidInput(
            "Give uri or sha256 of the evidence.", fields={"uri": ["uri or sha256 required."]}
        )
    with transaction.atomic():
        evidence = ObligationEvidence(
            system=system,
            obligation=obligation,
            description=description,
            uri=uri,
            sha256=sha256,
            created_by=_who(actor),
            ledger_seq=0,
        )
        receipt = record_event(
            actor=actor,
            event=events.OBLIGATION_EVIDENCE_ATTACHED,
            id=system.pk,
            data={
                "obligation": obligation,
                "uri": uri or None,
                **({"sha256": sha256} if sha256 else {}),
                "description_sha256": text_sha256(description),
            },
        )
        evidence.ledger_seq = receipt.seq
        evidence.save()
    return evidence, receipt


# --- Risk register (Art. 9) -------------------------------------------------------------

RISK_FIELDS = (
    "hazard",
    "affected_persons",
    "likelihood",
    "severity",
    "mitigation",
    "residual_risk",
    "owner",
    "review_date",
    "status",
)
RISK_TEXT_FIELDS = ("hazard", "affected_persons", "mitigation")


def _owner(actor: Principal, owner_email: str | None) -> Any:
    if not owner_email:
        return None
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
    return membership.user


def _risk_data(risk: Risk) -> dict[str, Any]:
    data: dict[str, Any] = {f"{f}_sha256": text_sha256(getattr(risk, f)) for f in RISK_TEXT_FIELDS}
    data.update(
        {
            "likelihood": risk.likelihood,
            "severity": risk.severity,
            "residual_risk": risk.residual_risk,
            "owner_user_id": str(risk.owner_id) if risk.owner_id else None,
            "review_date": risk.review_date.isoformat(),
            "status": risk.status,
            "revision": risk.revision,
        }
    )
    return data


def risk_create(
    *,
    actor: Principal,
    system: AISystem,
    hazard: str,
    affected_persons: str,
    likelihood: str,
    severity: str,
    residual_risk: str,
    review_date: date,
    mitigation: str = "",
    owner_email: str | None = None,
) -> tuple[Risk, Receipt]:
    _same_org(actor, system)
    owner = _owner(actor, owner_email)
    with transaction.atomic():
        risk = Risk.objects.create(
            system=system,
            hazard=hazard,
            affected_persons=affected_persons,
            likelihood=likelihood,
            severity=severity,
            mitigation=mitigation,
            residual_risk=residual_risk,
            owner=owner,
            review_date=review_date,
        )
        receipt = record_event(
            actor=actor,
            event=events.RISK_CREATED,
            id=risk.pk,
            data={**_risk_data(risk), "parent": record_ref("ai_system", system)},
        )
    return risk, receipt


def risk_update(*, actor: Principal, risk: Risk, changes: dict[str, Any]) -> tuple[Risk, Receipt]:
    """Changes some fields of a risk; the entry names what changed and the new state."""
    if "owner_email" in changes:
        changes = {**changes, "owner": _owner(actor, changes.pop("owner_email"))}
    unknown = sorted(set(changes) - set(RISK_FIELDS))
    if unknown:
        raise InvalidInput(
            "Unknown risk fields: " + ", ".join(unknown) + ".",
            fields={name: ["Unknown field."] for name in unknown},
        )
    if not changes:
        raise InvalidInput("Nothing to change.", fields={"non_field_errors": ["No changes."]})
    with transaction.atomic():
        risk = Risk.objects.select_for_update().get(pk=risk.pk)
        changed = sorted(name for name, value in changes.items() if getattr(risk, name) != value)
        if not changed:
            raise RuleViolation(f"Risk {risk.pk} already has these values.")
        for name in changed:
            setattr(risk, name, changes[name])
        risk.revision += 1
        risk.save()
        receipt = record_event(
            actor=actor,
            event=events.RISK_UPDATED,
            id=risk.pk,
            data={**_risk_data(risk), "changed": changed},
        )
    return risk, receipt


# --- Assessments -------------------------------------------------------------------------


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
    from apps.tasks.services import task_record_create

    _same_org(actor, system)
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
    clean_thresholds = _validate_thresholds(kind, task, thresholds)
    columns = {c["name"]: c["type"] for c in dataset_version.schema}
    problems: dict[str, list[str]] = {}

    def need(field: str, value: Any, numeric: bool = False) -> None:
        if not value:
            problems[field] = ["Required for this assessment."]
        elif value not in columns:
            problems[field] = [f"The dataset has no column {value!r}."]
        elif numeric and columns[value] not in ("integer", "number", "boolean"):
            problems[field] = [f"Column {value!r} holds {columns[value]} values, not numbers."]

    protected_attributes = list(protected_attributes or [])
    numeric_features = list(numeric_features or [])
    categorical_features = list(categorical_features or [])
    if kind in (Assessment.Kind.PERFORMANCE, Assessment.Kind.FAIRNESS):
        need("label_column", label_column)
        need("prediction_column", prediction_column)
    if score_column or (kind == Assessment.Kind.ROBUSTNESS):
        need("score_column", score_column, numeric=True)
    if kind == Assessment.Kind.PERFORMANCE and "roc_auc" in clean_thresholds and not score_column:
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
    if not (0 <= bootstrap_resamples <= MAX_RESAMPLES):
        problems["bootstrap_resamples"] = [f"Must be between 0 and {MAX_RESAMPLES}."]
    if not (0.0 < noise_scale <= 10.0):
        problems["noise_scale"] = ["Must be above 0 and at most 10."]
    if not (0.0 <= flip_probability <= 1.0):
        problems["flip_probability"] = ["Must be between 0 and 1."]
    if problems:
        raise InvalidInput(
            "The assessment cannot run as asked: " + ", ".join(sorted(problems)) + ".",
            fields=problems,
        )
    config = {
        "label_column": label_column or None,
        "prediction_column": prediction_column or None,
        "score_column": score_column or None,
        "protected_attributes": protected_attributes,
        "numeric_features": numeric_features,
        "categorical_features": categorical_features,
        "decision_threshold": decision_threshold,
        "noise_scale": noise_scale,
        "flip_probability": flip_probability,
        "bootstrap_resamples": bootstrap_resamples,
        "seed": seed,
    }
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
            thresholds=clean_thresholds,
            task=record,
            created_by=_who(actor),
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
                "thresholds": clean_thresholds,
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


# --- Human oversight (Art. 14) --------------------------------------------------------


def approval_request_create(
    *, actor: Principal, deployment: Deployment, model_version: ModelVersion, reason: str = ""
) -> tuple[ApprovalRequest, Receipt]:
    if model_version.model.system_id != deployment.system_id:
        raise RuleViolation(
            f"Model version {model_version.pk} belongs to another AI system than deployment "
            f"{deployment.pk}."
        )
    with transaction.atomic():
        pending = ApprovalRequest.objects.filter(
            deployment=deployment,
            model_version=model_version,
            status__in=[ApprovalRequest.Status.PENDING, ApprovalRequest.Status.APPROVED],
        ).first()
        if pending is not None:
            raise RuleViolation(
                f"Approval request {pending.pk} for this version and deployment is "
                f"{pending.status} already."
            )
        request = ApprovalRequest.objects.create(
            deployment=deployment,
            model_version=model_version,
            requested_by=_who(actor),
            reason=reason,
            required_approvals=selectors.required_approvals(),
        )
        receipt = record_event(
            actor=actor,
            event=events.APPROVAL_REQUESTED,
            id=request.pk,
            data={
                "deployment": record_ref("deployment", deployment),
                "model_version": record_ref("model_version", model_version),
                "sha256": model_version.artifact_sha256,
                "required_approvals": request.required_approvals,
                **({"reason_sha256": text_sha256(reason)} if reason else {}),
            },
        )
    return request, receipt


def approval_decide(
    *, actor: Principal, request: ApprovalRequest, decision: str, comment: str = ""
) -> tuple[ApprovalRequest, Receipt]:
    """An owner or compliance officer, in person and not the requester, approves or
    rejects. Enough approvals make the request approved; one rejection rejects it."""
    if actor.kind != "user" or actor.user is None:
        raise Forbidden(
            "Approvals are given by people: sign in as an owner or compliance officer "
            "(an API key cannot approve)."
        )
    if actor.role not in APPROVER_ROLES:
        raise Forbidden(
            f"The role '{actor.role}' cannot approve deployments; owners and compliance "
            "officers can (Art. 14)."
        )
    if decision not in ApprovalDecision.Decision.values:
        raise InvalidInput("decision must be approve or reject.", fields={"decision": ["Invalid."]})
    with transaction.atomic():
        request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
        if request.requested_by == _who(actor):
            raise Forbidden(
                f"You requested approval request {request.pk}; someone else must approve it "
                "(no self-approval)."
            )
        if request.status != ApprovalRequest.Status.PENDING:
            raise RuleViolation(f"Approval request {request.pk} is {request.status} already.")
        if request.decisions.filter(decided_by=actor.user).exists():
            raise RuleViolation(f"You decided on approval request {request.pk} already.")
        ApprovalDecision.objects.create(
            request=request,
            decided_by=actor.user,
            role=actor.role,
            decision=decision,
            comment=comment,
            ledger_seq=0,
        )
        approvals = request.decisions.filter(decision=ApprovalDecision.Decision.APPROVE).count()
        if decision == ApprovalDecision.Decision.REJECT:
            request.status = ApprovalRequest.Status.REJECTED
        elif approvals >= request.required_approvals:
            request.status = ApprovalRequest.Status.APPROVED
        request.save(update_fields=["status"])
        receipt = record_event(
            actor=actor,
            event=events.APPROVAL_DECIDED,
            id=request.pk,
            data={
                "decision": decision,
                "role": actor.role,
                "approvals": approvals,
                "required_approvals": request.required_approvals,
                "status": request.status,
                **({"comment_sha256": text_sha256(comment)} if comment else {}),
            },
        )
        ApprovalDecision.objects.filter(request=request, decided_by=actor.user).update(
            ledger_seq=receipt.seq
        )
    return request, receipt


def decision_override_record(
    *,
    actor: Principal,
    deployment: Deployment,
    original_decision: Any,
    new_decision: Any,
    reason: str,
    prediction_batch: RegistryBatch | None = None,
    row_index: int | None = None,
) -> tuple[DecisionOverride, Receipt]:
    """A person overrides an output of the system (Art. 14(4)(d))."""
    if prediction_batch is not None and prediction_batch.deployment_id != deployment.pk:
        raise RuleViolation(
            f"Prediction batch {prediction_batch.pk} belongs to another deployment."
        )
    if row_index is not None and prediction_batch is None:
        raise InvalidInput(
            "row_index needs prediction_batch_id.",
            fields={"prediction_batch_id": ["Required with row_index."]},
        )
    if (
        row_index is not None
        and prediction_batch.row_count is not None
        and not (0 <= row_index < prediction_batch.row_count)
    ):
        raise InvalidInput(
            f"Batch {prediction_batch.pk} has {prediction_batch.row_count} rows.",
            fields={"row_index": ["Out of range."]},
        )
    if original_decision == new_decision:
        raise InvalidInput(
            "An override changes the decision.", fields={"new_decision": ["Same as original."]}
        )
    with transaction.atomic():
        override = DecisionOverride(
            deployment=deployment,
            prediction_batch=prediction_batch,
            row_index=row_index,
            original_decision=original_decision,
            new_decision=new_decision,
            reason=reason,
            created_by=_who(actor),
            ledger_seq=0,
        )
        receipt = record_event(
            actor=actor,
            event=events.DECISION_OVERRIDDEN,
            id=deployment.pk,
            data={
                "prediction_batch": record_ref("prediction_batch", prediction_batch),
                "row_index": row_index,
                "original_decision_sha256": json_sha256(original_decision),
                "new_decision_sha256": json_sha256(new_decision),
                "reason_sha256": text_sha256(reason),
            },
        )
        override.ledger_seq = receipt.seq
        override.save()
    return override, receipt


# --- Serious incidents (Art. 73) ----------------------------------------------------------


def incident_deadline(*, kind: str, became_aware_at: datetime) -> datetime:
    return became_aware_at + timedelta(days=REPORTING_DAYS[kind])


def incident_open(
    *, actor: Principal, system: AISystem, kind: str, description: str, became_aware_at: datetime
) -> tuple[Incident, Receipt]:
    _same_org(actor, system)
    if became_aware_at > timezone.now() + timedelta(minutes=5):
        raise InvalidInput(
            "became_aware_at is in the future.", fields={"became_aware_at": ["In the future."]}
        )
    with transaction.atomic():
        incident = Incident.objects.create(
            system=system,
            kind=kind,
            description=description,
            became_aware_at=became_aware_at,
            reporting_deadline=incident_deadline(kind=kind, became_aware_at=became_aware_at),
            created_by=_who(actor),
        )
        receipt = record_event(
            actor=actor,
            event=events.INCIDENT_OPENED,
            id=incident.pk,
            data={
                "kind": kind,
                "became_aware_at": became_aware_at.isoformat(),
                "reporting_deadline": incident.reporting_deadline.isoformat(),
                "reporting_days": REPORTING_DAYS[kind],
                "description_sha256": text_sha256(description),
                "parent": record_ref("ai_system", system),
            },
        )
    return incident, receipt


def incident_report_add(
    *, actor: Principal, incident: Incident, kind: str, content: str
) -> tuple[IncidentReport, Receipt]:
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status == Incident.Status.CLOSED:
            raise RuleViolation(f"Incident {incident.pk} is closed.")
        kinds = set(incident.reports.values_list("kind", flat=True))
        if kind == IncidentReport.Kind.INITIAL and IncidentReport.Kind.INITIAL in kinds:
            raise RuleViolation(f"Incident {incident.pk} has its initial report already.")
        if kind != IncidentReport.Kind.INITIAL and IncidentReport.Kind.INITIAL not in kinds:
            raise RuleViolation(
                f"Incident {incident.pk} has no initial report yet; file that first (Art. 73(5))."
            )
        if IncidentReport.Kind.FINAL in kinds:
            raise RuleViolation(f"Incident {incident.pk} has its final report already.")
        report = IncidentReport(
            incident=incident, kind=kind, content=content, created_by=_who(actor), ledger_seq=0
        )
        receipt = record_event(
            actor=actor,
            event=events.INCIDENT_REPORT_ADDED,
            id=incident.pk,
            data={"report": kind, "content_sha256": text_sha256(content)},
        )
        report.ledger_seq = receipt.seq
        report.save()
    return report, receipt


def incident_authority_informed(
    *, actor: Principal, incident: Incident, informed_at: datetime
) -> tuple[Incident, Receipt]:
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.authority_informed_at is not None:
            raise RuleViolation(f"The authority was informed of incident {incident.pk} already.")
        if informed_at < incident.became_aware_at:
            raise InvalidInput(
                "informed_at is before the provider became aware of the incident.",
                fields={"informed_at": ["Before became_aware_at."]},
            )
        if informed_at > timezone.now() + timedelta(minutes=5):
            raise InvalidInput(
                "informed_at is in the future.", fields={"informed_at": ["In the future."]}
            )
        if not incident.reports.filter(kind=IncidentReport.Kind.INITIAL).exists():
            raise RuleViolation(
                f"Incident {incident.pk} has no initial report; record the report the "
                "authority was given first."
            )
        incident.authority_informed_at = informed_at
        incident.status = Incident.Status.AUTHORITY_INFORMED
        incident.save(update_fields=["authority_informed_at", "status"])
        receipt = record_event(
            actor=actor,
            event=events.INCIDENT_AUTHORITY_INFORMED,
            id=incident.pk,
            data={
                "informed_at": informed_at.isoformat(),
                "reporting_deadline": incident.reporting_deadline.isoformat(),
                "on_time": informed_at <= incident.reporting_deadline,
            },
        )
    return incident, receipt


def incident_close(*, actor: Principal, incident: Incident) -> tuple[Incident, Receipt]:
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status == Incident.Status.CLOSED:
            raise RuleViolation(f"Incident {incident.pk} is closed already.")
        if incident.authority_informed_at is None:
            raise RuleViolation(
                f"Incident {incident.pk} cannot be closed before the authority is informed "
                "(Art. 73)."
            )
        incident.status = Incident.Status.CLOSED
        incident.closed_at = timezone.now()
        incident.save(update_fields=["status", "closed_at"])
        receipt = record_event(actor=actor, event=events.INCIDENT_CLOSED, id=incident.pk, data={})
    return incident, receipt


# --- Fundamental-rights impact assessment (Art. 27) --------------------------------------

FRIA_ELEMENTS = (
    "process_and_purpose",
    "period_and_frequency",
    "affected_categories",
    "specific_risks",
    "human_oversight_measures",
    "measures_if_risks_materialise",
)


def fria_record(
    *, actor: Principal, system: AISystem, **elements: str
) -> tuple[FundamentalRightsAssessment, Receipt]:
    """A new version of the deployer's assessment, with all six elements of Art. 27(1)."""
    _same_org(actor, system)
    if system.role != AISystem.Role.DEPLOYER:
        raise RuleViolation(
            f"System {system.pk} is registered with role {system.role}; the fundamental-rights "
            "impact assessment is a deployer's duty (Art. 27)."
        )
    unknown = sorted(set(elements) - set(FRIA_ELEMENTS))
    missing = [e for e in FRIA_ELEMENTS if not str(elements.get(e) or "").strip()]
    if unknown or missing:
        problems = {e: ["Unknown element."] for e in unknown}
        problems.update({e: ["Required (Art. 27(1))."] for e in missing})
        raise InvalidInput(
            "The assessment must answer every element of Art. 27(1): "
            + ", ".join(sorted(problems))
            + ".",
            fields=problems,
        )
    with transaction.atomic():
        AISystem.objects.select_for_update().get(pk=system.pk)
        latest = FundamentalRightsAssessment.objects.filter(system=system).aggregate(
            v=Max("version")
        )["v"]
        fria = FundamentalRightsAssessment(
            system=system,
            version=(latest or 0) + 1,
            created_by=_who(actor),
            ledger_seq=0,
            **{e: elements[e] for e in FRIA_ELEMENTS},
        )
        receipt = record_event(
            actor=actor,
            event=events.FRIA_RECORDED,
            id=system.pk,
            data={
                "version": fria.version,
                "supersedes": latest,
                **{f"{e}_sha256": text_sha256(elements[e]) for e in FRIA_ELEMENTS},
            },
        )
        fria.ledger_seq = receipt.seq
        fria.save()
    return fria, receipt
