"""Reads of the compliance record: current classification, the obligations checklist
with its evidence, the gap analysis, and the gate on deployment changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.utils import timezone

from apps.compliance import rules
from apps.compliance.models import (
    ApprovalDecision,
    ApprovalRequest,
    Assessment,
    AssessmentSignature,
    BiometricMatch,
    BiometricUse,
    Classification,
    DecisionOverride,
    DualVerificationSetting,
    FundamentalRightsAssessment,
    GpaiDocumentation,
    Incident,
    ObligationEvidence,
    RegistrationRecord,
    RetentionSetting,
    Risk,
)
from apps.ledger import selectors as ledger_selectors
from apps.registry import selectors as registry_selectors
from apps.tenancy import selectors as tenancy_selectors
from audit_platform.errors import RuleViolation
from audit_platform.ids import id_text
from audit_platform.roles import Capability


def required_approvals() -> int:
    return settings.COMPLIANCE_REQUIRED_APPROVALS


def classification_current(*, system: Any) -> Classification | None:
    """The latest effective classification (a lowering awaiting confirmation is not)."""
    return (
        Classification.objects.filter(system=system, status=Classification.Status.EFFECTIVE)
        .order_by("-version")
        .first()
    )


def classification_pending(*, system: Any) -> Classification | None:
    """A lowering of the system's risk class that awaits a second person, if any."""
    return Classification.objects.filter(
        system=system, status=Classification.Status.PENDING
    ).first()


def incidents_blocking(*, system: Any) -> QuerySet[Incident]:
    """Open incidents whose authority has not been informed yet (Art. 73(6))."""
    return Incident.objects.filter(
        system=system, status=Incident.Status.OPEN, authority_informed_at__isnull=True
    ).order_by("became_aware_at")


def approval_open(*, deployment: Any, model_version: Any) -> ApprovalRequest | None:
    """The one open (pending or approved) approval request for this version on this
    deployment, if any. Rejected and superseded requests are closed: their approvals
    count for nothing."""
    return (
        ApprovalRequest.objects.filter(
            deployment=deployment,
            model_version=model_version,
            status__in=[ApprovalRequest.Status.PENDING, ApprovalRequest.Status.APPROVED],
        )
        .order_by("-pk")
        .first()
    )


def approvals_count(*, deployment: Any, model_version: Any) -> int:
    """Distinct people who approved the open request for this version on this
    deployment (0 when none is open)."""
    request = approval_open(deployment=deployment, model_version=model_version)
    if request is None:
        return 0
    return (
        request.decisions.filter(decision=ApprovalDecision.Decision.APPROVE)
        .values("decided_by")
        .distinct()
        .count()
    )


def version_approved(*, deployment: Any, model_version: Any) -> bool:
    """Whether the open request for this version on this deployment is approved."""
    request = approval_open(deployment=deployment, model_version=model_version)
    return request is not None and request.status == ApprovalRequest.Status.APPROVED


@dataclass(frozen=True)
class GateCondition:
    """One condition of the deployment gate: ``code`` names it, ``message`` says why it
    holds or what to do so it does."""

    code: str
    met: bool
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "met": self.met, "message": self.message}


def deployment_gate_conditions(
    *, deployment: Any, model_version: Any, action: str = "activation"
) -> list[GateCondition]:
    """Every condition under which ``deployment`` may start serving ``model_version``
    (``action``: "activation" or "rollback"), met or not. The one place that decides:
    the registry's activation and rollback ask it through :func:`deployment_change_refusal`,
    and the gate API and ``audit-client gate`` show it whole.

    - ``signature``: the version carries a verified OpenSSF Model Signing signature by a
      trusted signer, where the organization's policy requires it
      (``require_model_signature``);
    - ``incident_freeze``: no open incident waits to be reported to the authority
      (Art. 73(6)): it blocks every change;
    - ``classification``: the system is classified, unless the organization's policy lets
      unclassified systems serve (``allow_unclassified_activation``);
    - ``assessments``: each assessment kind the organization's policy requires
      (``required_assessments``) passed, for this version, against the thresholds fixed
      before it ran (Art. 9(8));
    - ``approvals``: a high-risk system (or one whose classification is unknown) serves
      only a version whose open approval request is approved (Art. 14, Art. 26).
    """
    system = deployment.system
    policy = tenancy_selectors.organization_policy(organization=system.organization)
    current = classification_current(system=system)
    high_risk = current is not None and current.category == Classification.Category.HIGH_RISK
    unknown = current is None and not policy["allow_unclassified_activation"]
    return [
        _signature_condition(model_version, action),
        _incident_condition(system, action),
        _classification_condition(system, action, current=current, unknown=unknown),
        _assessments_condition(system, model_version, policy["required_assessments"]),
        _approvals_condition(
            deployment, model_version, action, high_risk=high_risk, unknown=unknown
        ),
    ]


def deployment_change_refusal(*, deployment: Any, model_version: Any, action: str) -> None:
    """Raises RuleViolation naming the first unmet gate condition
    (:func:`deployment_gate_conditions`); returns None when all are met. Called by the
    registry inside its transaction, so no path around it exists."""
    for condition in deployment_gate_conditions(
        deployment=deployment, model_version=model_version, action=action
    ):
        if not condition.met:
            raise RuleViolation(condition.message)


def _signature_condition(model_version: Any, action: str) -> GateCondition:
    unmet = registry_selectors.model_version_signature_unmet(model_version=model_version)
    if unmet is None:
        return GateCondition(
            "signature", True, "The version's signature is verified, or none is required."
        )
    return GateCondition("signature", False, f"The {action} is refused: {unmet}")


def _incident_condition(system: Any, action: str) -> GateCondition:
    blocking = list(incidents_blocking(system=system).values_list("pk", flat=True))
    if not blocking:
        return GateCondition("incident_freeze", True, "No open incident is waiting to be reported.")
    return GateCondition(
        "incident_freeze",
        False,
        f"The {action} is refused: serious incident {blocking[0]} on this system is open "
        "and the market-surveillance authority has not been informed yet. The system must "
        "not be altered in a way that may affect the evaluation of the incident's causes "
        "until then (Art. 73(6)).",
    )


def _classification_condition(
    system: Any, action: str, *, current: Classification | None, unknown: bool
) -> GateCondition:
    if current is not None:
        return GateCondition(
            "classification", True, f"System {system.pk} is classified {current.category}."
        )
    if not unknown:
        return GateCondition(
            "classification",
            True,
            f"System {system.pk} is not classified; the organization's policy lets "
            "unclassified systems serve (allow_unclassified_activation).",
        )
    return GateCondition(
        "classification",
        False,
        f"The {action} is refused: system {system.pk} has no classification under the "
        "Act, so whether it needs approval is unknown. Classify it first "
        "(/api/v1/classifications/); the organization's policy does not allow "
        "unclassified systems to serve (allow_unclassified_activation).",
    )


def _assessments_condition(system: Any, model_version: Any, required: list[str]) -> GateCondition:
    if not required:
        return GateCondition(
            "assessments", True, "The organization's policy requires no assessment."
        )
    missing = []
    for kind in required:
        latest = (
            Assessment.objects.filter(system=system, model_version=model_version, kind=kind)
            .order_by("-created_at", "-pk")
            .first()
        )
        if latest is None:
            missing.append(f"no {kind} assessment of it has run")
        elif latest.status != Assessment.Status.PASSED:
            missing.append(f"its latest {kind} assessment ({latest.pk}) is {latest.status}")
    if not missing:
        return GateCondition(
            "assessments",
            True,
            f"Model version {model_version.pk} passed the required assessments "
            f"({', '.join(required)}) against their preset thresholds.",
        )
    return GateCondition(
        "assessments",
        False,
        f"Model version {model_version.pk} has not passed every assessment the "
        f"organization's policy requires ({', '.join(required)}): {'; '.join(missing)}. "
        "Run them at /api/v1/assessments/ (Art. 9(8): thresholds fixed before the run).",
    )


def _approvals_condition(
    deployment: Any, model_version: Any, action: str, *, high_risk: bool, unknown: bool
) -> GateCondition:
    system = deployment.system
    if not (high_risk or unknown):
        return GateCondition(
            "approvals", True, f"System {system.pk} is not high-risk: no approval is required."
        )
    if version_approved(deployment=deployment, model_version=model_version):
        return GateCondition(
            "approvals",
            True,
            f"Model version {model_version.pk} is approved for deployment {deployment.pk}.",
        )
    return GateCondition(
        "approvals",
        False,
        f"The {action} is refused: system {system.pk} is "
        f"{'high-risk' if high_risk else 'not classified, so it may be high-risk,'} and model "
        f"version {model_version.pk} has "
        f"{approvals_count(deployment=deployment, model_version=model_version)} "
        f"of the {required_approvals()} approval(s) required for deployment "
        f"{deployment.pk} by an owner or compliance officer other than the requester "
        "(Art. 14); approvals count only on the open request for this version. Request one "
        "at /api/v1/approvals/.",
    )


# --- Remote biometric identification (Art. 12(3), Art. 14(5)) ---------------------------


def _profile(current: Classification) -> rules.Profile:
    return rules.Profile(
        category=current.category,
        high_risk_basis=current.high_risk_basis,
        annex_iii_area=current.annex_iii_area,
        role=current.role,
        flags=current.result,
    )


def is_remote_biometric_identification(*, system: Any) -> bool:
    """Whether the current classification makes the system a high-risk Annex III point
    1(a) system, bound now or later (the log and Art. 14(5) then apply)."""
    current = classification_current(system=system)
    return current is not None and rules.remote_biometric_identification(_profile(current))


def dual_verification_setting_current(*, system: Any) -> DualVerificationSetting | None:
    return DualVerificationSetting.objects.filter(system=system).order_by("-version").first()


def verifications_required(*, system: Any) -> tuple[int, DualVerificationSetting | None]:
    """How many distinct persons must confirm an identification before it is acted on:
    two (Art. 14(5)), or one where the current setting records that the second
    subparagraph's exception applies (returned with it)."""
    setting = dual_verification_setting_current(system=system)
    if setting is not None and setting.exception_applies:
        return rules.DUAL_VERIFICATION_WITH_EXCEPTION, setting
    return rules.DUAL_VERIFICATION[1], None


def biometric_uses_of_system(*, system: Any) -> QuerySet[BiometricUse]:
    """The Art. 12(3) log: each use with its matches and their verifications."""
    return (
        BiometricUse.objects.filter(system=system)
        .prefetch_related("matches__verifications")
        .order_by("started_at", "pk")
    )


# --- Obligations and gaps -------------------------------------------------------------


def _link(kind: str, obj: Any, seq: int | None = None) -> dict[str, Any]:
    link: dict[str, Any] = {"kind": kind, "id": str(obj.pk)}
    if seq is not None:
        link["ledger_seq"] = seq
    return link


def _system_entry(system: Any) -> dict[str, Any] | None:
    seq = ledger_selectors.entry_seq_first(
        log=ledger_selectors.log_for(organization=system.organization_id),
        subject_kind="ai_system",
        subject_id=system.pk,
    )
    return {"kind": "ledger_entry", "id": seq, "ledger_seq": seq} if seq is not None else None


def retention_setting_current(*, system: Any) -> RetentionSetting | None:
    return RetentionSetting.objects.filter(system=system).order_by("-version").first()


def _retention_evidence(system: Any, kind: str) -> list[dict[str, Any]]:
    """The current retention setting, when it covers the duty (Art. 18, 19, 26(6));
    a ledger entry or an attached document does not."""
    setting = retention_setting_current(system=system)
    field, minimum, _source = rules.RETENTION_MINIMUMS[kind]
    if setting is None or getattr(setting, field) < minimum:
        return []
    return [_link("retention_setting", setting, setting.ledger_seq)]


def _biometric_evidence(system: Any, kind: str) -> list[dict[str, Any]]:
    """Art. 12(3): a use whose period is complete is a log entry of the kind asked.
    Art. 14(5): identifications acted on, each of which passed the check when it was."""
    if kind == "biometric_log":
        return [
            _link("biometric_use", u, u.ledger_seq)
            for u in BiometricUse.objects.filter(system=system, ended_at__isnull=False)[:50]
        ]
    return [
        _link("biometric_match", m, m.ledger_seq)
        for m in BiometricMatch.objects.filter(
            use__system=system, status=BiometricMatch.Status.ACTED_ON
        )[:50]
    ]


def _evidence(system: Any, obligation: rules.Obligation, current: Any) -> list[dict[str, Any]]:
    from apps.registry.models import DatasetVersion, PredictionBatch

    if obligation.evidence in rules.RETENTION_MINIMUMS:
        return _retention_evidence(system, obligation.evidence)
    links = [
        _link("obligation_evidence", e, e.ledger_seq)
        for e in ObligationEvidence.objects.filter(system=system, obligation=obligation.code)
    ]
    kind = obligation.evidence
    if kind == "risks":
        links += [_link("risk", r) for r in Risk.objects.filter(system=system)]
    elif kind == "datasets":
        links += [
            _link("dataset_version", v)
            for v in DatasetVersion.objects.filter(dataset__system=system)
        ]
    elif kind == "logs":
        links += [
            _link("prediction_batch", b)
            for b in PredictionBatch.objects.filter(deployment__system=system)[:50]
        ]
    elif kind == "approvals":
        links += [
            _link("approval_request", a)
            for a in ApprovalRequest.objects.filter(
                deployment__system=system, status=ApprovalRequest.Status.APPROVED
            )
        ]
    elif kind == "assessments":
        links += [
            _link("assessment", a)
            for a in Assessment.objects.filter(system=system, status=Assessment.Status.PASSED)
        ]
    elif kind == "ledger":
        entry = _system_entry(system)
        links += [entry] if entry else []
    elif kind == "incidents":
        links += [
            _link("incident", i)
            for i in Incident.objects.filter(system=system, authority_informed_at__isnull=False)
        ]
    elif kind == "fria":
        links += [
            _link("fria", f, f.ledger_seq)
            for f in FundamentalRightsAssessment.objects.filter(system=system)
        ]
    elif kind == "registration":
        links += [
            _link("registration_record", r, r.ledger_seq)
            for r in RegistrationRecord.objects.filter(system=system).order_by("-version")[:1]
        ]
    elif kind in ("biometric_log", "biometric_verification"):
        links += _biometric_evidence(system, kind)
    elif kind == "classification" and current is not None:
        links.append(_link("classification", current, current.ledger_seq))
    return links


def obligations_for_system(*, system: Any, today: date | None = None) -> dict[str, Any]:
    """The checklist: each obligation that applies, its article, requirement, date and
    legal source, its status and the evidence on the record."""
    today = today or timezone.now().date()
    current = classification_current(system=system)
    if current is None:
        return {"system": str(system.pk), "classification": None, "obligations": []}
    profile = _profile(current)
    overdue = Incident.objects.filter(
        system=system, authority_informed_at__isnull=True, reporting_deadline__lt=timezone.now()
    ).exists()
    items = []
    for obligation, when in rules.obligations_for(profile):
        evidence = _evidence(system, obligation, current)
        if obligation.evidence == "never":
            status = "prohibited"
        elif obligation.code == "art_73" and overdue:
            status = "overdue"
        elif evidence:
            status = "evidenced"
        else:
            status = "missing" if when.applies_from <= today else "upcoming"
        items.append(
            {
                "code": obligation.code,
                "article": obligation.article,
                "requirement": obligation.requirement,
                "applies_from": when.applies_from,
                "legal_source": when.legal_source,
                "status": status,
                "evidence": evidence,
            }
        )
    items.sort(key=lambda item: (item["applies_from"], item["code"]))
    return {
        "system": str(system.pk),
        "classification": {
            "id": str(current.pk),
            "version": current.version,
            "category": current.category,
        },
        "obligations": items,
    }


def gap_analysis(*, organization: Any, system_id: int | None = None) -> list[dict[str, Any]]:
    """What is missing, per system, ordered by the date it applies from."""
    from apps.registry.models import AISystem

    systems = AISystem.objects.filter(organization=organization).order_by("pk")
    if system_id is not None:
        systems = systems.filter(pk=system_id)
    gaps: list[dict[str, Any]] = []
    for system in systems:
        checklist = obligations_for_system(system=system)
        if checklist["classification"] is None:
            gaps.append(
                {
                    "system": str(system.pk),
                    "code": "classification",
                    "article": "Art. 5, Art. 6",
                    "requirement": "Classify the system: which obligations apply is unknown.",
                    "applies_from": rules.DATES["prohibitions"].applies_from,
                    "legal_source": rules.DATES["prohibitions"].legal_source,
                    "status": "missing",
                }
            )
            continue
        for item in checklist["obligations"]:
            if item["status"] != "evidenced":
                gaps.append(
                    {"system": str(system.pk), **{k: v for k, v in item.items() if k != "evidence"}}
                )
    gaps.sort(key=lambda g: (g["applies_from"], g["system"], g["code"]))
    return gaps


# --- Reads for documents (reports) --------------------------------------------------------


def risks_of_system(*, system: Any) -> QuerySet[Risk]:
    """The system's risk register (Art. 9), by review date."""
    return Risk.objects.filter(system=system).order_by("review_date", "pk")


def approval_requests_of_system(*, system: Any) -> QuerySet[ApprovalRequest]:
    """Approval requests on the system's deployments, oldest first, with decisions."""
    return (
        ApprovalRequest.objects.filter(deployment__system=system)
        .select_related("deployment", "model_version__model")
        .prefetch_related("decisions")
        .order_by("created_at", "pk")
    )


def decision_overrides_of_system(*, system: Any) -> QuerySet[DecisionOverride]:
    return (
        DecisionOverride.objects.filter(deployment__system=system)
        .select_related("deployment")
        .order_by("created_at", "pk")
    )


def assessments_completed(
    *, system: Any | None = None, model_version: Any | None = None, kind: str | None = None
) -> QuerySet[Assessment]:
    """Assessments that ran to a verdict (passed or failed), newest first."""
    assessments = Assessment.objects.filter(
        status__in=[Assessment.Status.PASSED, Assessment.Status.FAILED]
    ).select_related("model_version__model", "dataset_version__dataset")
    if system is not None:
        assessments = assessments.filter(system=system)
    if model_version is not None:
        assessments = assessments.filter(model_version=model_version)
    if kind is not None:
        assessments = assessments.filter(kind=kind)
    return assessments.order_by(F("finished_at").desc(nulls_last=True), "-pk")


def incidents_of_system(*, system: Any) -> QuerySet[Incident]:
    """The system's serious incidents, latest awareness first."""
    return Incident.objects.filter(system=system).order_by("-became_aware_at", "-pk")


def incident_deadlines(*, incident: Incident) -> list[dict[str, Any]]:
    """The reporting duties side by side: immediately after the causal link is
    established (Art. 73(2)), and the outer deadline by kind (Art. 73(2)-(4))."""
    days, source = rules.INCIDENT_DEADLINES[incident.kind]
    link_source, link_text = rules.CAUSAL_LINK_DUTY
    return [
        {
            "duty": f"Report {link_text}.",
            "due": incident.causal_link_established_at,
            "legal_source": link_source,
        },
        {
            "duty": f"Report at the latest {days} days after becoming aware.",
            "due": incident.reporting_deadline,
            "legal_source": source,
        },
    ]


def incident_of_system(*, system: Any, incident_id: int) -> Incident | None:
    """That incident if it is one of the system's (so of its organization), else None."""
    return incidents_of_system(system=system).filter(pk=incident_id).first()


def obligation_evidence_of_system(
    *, system: Any, obligation: str | None = None
) -> QuerySet[ObligationEvidence]:
    evidence = ObligationEvidence.objects.filter(system=system)
    if obligation is not None:
        evidence = evidence.filter(obligation=obligation)
    return evidence.order_by("created_at", "pk")


def record_ids_of_system(*, system: Any) -> dict[str, list[str]]:
    """The ids of the compliance records under a system, by the ledger subject kind
    their entries carry (risks, assessments, approval requests, incidents); an
    audit trail lists every entry about them. Classifications, obligation evidence,
    FRIAs and overrides are entries about the system and its deployments."""

    def ids(queryset: QuerySet[Any]) -> list[str]:
        return [str(pk) for pk in queryset.values_list("pk", flat=True)]

    return {
        "risk": ids(Risk.objects.filter(system=system)),
        "assessment": ids(Assessment.objects.filter(system=system)),
        "approval_request": ids(ApprovalRequest.objects.filter(deployment__system=system)),
        "incident": ids(Incident.objects.filter(system=system)),
    }


def registration_export(*, system: Any) -> dict[str, Any] | None:
    """The current registration data as the database takes it: the Annex VIII section's
    points in order, each with its label and value (null when not given)."""
    record = RegistrationRecord.objects.filter(system=system).order_by("-version").first()
    if record is None:
        return None
    title, fields = rules.ANNEX_VIII_SECTIONS[record.section]
    return {
        "system": str(system.pk),
        "version": record.version,
        "duty": record.duty,
        "database": record.database,
        "section": record.section,
        "legal_source": title,
        "points": [
            {"point": f.point, "key": f.key, "label": f.label, "value": record.data.get(f.key)}
            for f in fields
        ],
        "ledger_seq": record.ledger_seq,
        "recorded_at": record.created_at,
    }


# --- Reads for pages (apps/web) ------------------------------------------------------------


def approval_requests_of_organization(
    *, organization: Any, status: str | None = None
) -> QuerySet[ApprovalRequest]:
    """The organization's approval requests, newest first, with what they are about and
    their decisions."""
    requests = (
        ApprovalRequest.objects.filter(deployment__system__organization=organization)
        .select_related("deployment__system", "model_version__model", "requested_by_user")
        .prefetch_related("decisions__decided_by")
        .order_by("-created_at", "-pk")
    )
    if status is not None:
        requests = requests.filter(status=status)
    return requests


def approval_request_of_organization(*, organization: Any, pk: Any) -> ApprovalRequest | None:
    try:
        return approval_requests_of_organization(organization=organization).filter(pk=pk).first()
    except (ValueError, ValidationError):
        return None


def incidents_of_organization(*, organization: Any, open_only: bool = False) -> QuerySet[Incident]:
    """The organization's serious incidents, the nearest reporting deadline first, with
    their reports."""
    incidents = (
        Incident.objects.filter(system__organization=organization)
        .select_related("system")
        .prefetch_related("reports")
        .order_by("reporting_deadline", "pk")
    )
    if open_only:
        incidents = incidents.exclude(status=Incident.Status.CLOSED)
    return incidents


def incident_of_organization(*, organization: Any, pk: Any) -> Incident | None:
    try:
        return incidents_of_organization(organization=organization).filter(pk=pk).first()
    except (ValueError, ValidationError):
        return None


# --- Signed test reports (Annex IV, point 2(g)) ------------------------------------------


def assessment_test_report(*, assessment: Assessment) -> dict[str, Any]:
    """The test report of a completed assessment, as a person signs it: what was tested
    on which data against which thresholds fixed before the run, the results and the
    verdict, and when it finished. Its RFC 8785 digest is what a signature names."""
    model_version = assessment.model_version
    data = assessment.dataset_version
    return {
        "assessment": str(assessment.pk),
        "system": id_text(assessment.system_id),
        "kind": assessment.kind,
        "task": assessment.learning_task,
        "model_version": (
            {"id": str(model_version.pk), "artifact_sha256": model_version.artifact_sha256}
            if model_version is not None
            else None
        ),
        "dataset_version": {"id": str(data.pk), "sha256": data.sha256},
        "thresholds": assessment.thresholds,
        "config": assessment.config,
        "results": assessment.results,
        "outcomes": assessment.outcomes,
        "status": assessment.status,
        "finished_at": assessment.finished_at.isoformat() if assessment.finished_at else None,
    }


def assessment_test_report_sha256(*, assessment: Assessment) -> str:
    from apps.ledger.digests import json_sha256

    return json_sha256(assessment_test_report(assessment=assessment))


def assessment_signatures(*, assessment: Assessment) -> QuerySet[AssessmentSignature]:
    return AssessmentSignature.objects.filter(assessment=assessment).order_by("signed_at", "pk")


# --- General-purpose AI models (Art. 53, Art. 55) ------------------------------------------


def gpai_flags(*, system: Any) -> dict[str, Any] | None:
    """The classification facts of a general-purpose AI model the organization provides
    (``systemic_risk``, ``placed_on_market_on``), or None when the system is not one."""
    current = classification_current(system=system)
    if current is None or current.role != "provider":
        return None
    flags = current.result
    if not flags.get("general_purpose_ai_model"):
        return None
    return {
        "systemic_risk": bool(flags.get("systemic_risk")),
        "placed_on_market_on": flags.get("placed_on_market_on"),
        "classification_seq": current.ledger_seq,
    }


def gpai_documentation_current(*, system: Any) -> GpaiDocumentation | None:
    return GpaiDocumentation.objects.filter(system=system).order_by("-version").first()


# --- Obligations of many systems at once (the dashboard) ----------------------------------


def _latest_by_system(queryset: QuerySet) -> dict[int, Any]:
    """Each system's row of the highest version in ``queryset``."""
    latest: dict[int, Any] = {}
    for row in queryset.order_by("system_id", "-version"):
        latest.setdefault(row.system_id, row)
    return latest


def _systems_with_evidence(systems: list[Any], current: dict[int, Any]) -> dict[str, set[int]]:
    """For each kind of evidence ``_evidence`` looks for, the systems that have some."""
    from apps.registry.models import DatasetVersion, PredictionBatch

    ids = [s.pk for s in systems]

    def having(queryset: QuerySet, field: str = "system_id") -> set[int]:
        return set(queryset.values_list(field, flat=True).distinct())

    evidenced = {
        "risks": having(Risk.objects.filter(system_id__in=ids)),
        "datasets": having(
            DatasetVersion.objects.filter(dataset__system_id__in=ids), "dataset__system_id"
        ),
        "logs": having(
            PredictionBatch.objects.filter(deployment__system_id__in=ids), "deployment__system_id"
        ),
        "approvals": having(
            ApprovalRequest.objects.filter(
                deployment__system_id__in=ids, status=ApprovalRequest.Status.APPROVED
            ),
            "deployment__system_id",
        ),
        "assessments": having(
            Assessment.objects.filter(system_id__in=ids, status=Assessment.Status.PASSED)
        ),
        "incidents": having(
            Incident.objects.filter(system_id__in=ids, authority_informed_at__isnull=False)
        ),
        "fria": having(FundamentalRightsAssessment.objects.filter(system_id__in=ids)),
        "registration": having(RegistrationRecord.objects.filter(system_id__in=ids)),
        "classification": set(current),
        # Not evidence: systems with an incident reported late (their Art. 73 is overdue).
        "art_73_overdue": having(
            Incident.objects.filter(
                system_id__in=ids,
                authority_informed_at__isnull=True,
                reporting_deadline__lt=timezone.now(),
            )
        ),
        "ledger": set(),
    }
    by_organization: dict[uuid.UUID, list[uuid.UUID]] = {}
    for s in systems:
        by_organization.setdefault(s.organization_id, []).append(s.pk)
    for organization_id, system_ids in by_organization.items():
        log = ledger_selectors.log_for(organization=organization_id)
        evidenced["ledger"] |= {
            uuid.UUID(e.subject_id)
            for e in ledger_selectors.entry_seqs_about(log=log, subjects={"ai_system": system_ids})
        }
    return evidenced


def obligation_tallies(*, systems: list[Any]) -> dict[int, dict[str, Any]]:
    """For each system: its current risk class and how many of the obligations that
    apply to it have evidence on the record (``met``) out of how many (``total``), and
    how many are due and missing: the verdicts of ``obligations_for_system``, in a fixed
    number of queries however many systems there are. A system nobody classified has
    ``category`` None."""
    ids = [s.pk for s in systems]
    if not ids:
        return {}
    today = timezone.now().date()
    current = _latest_by_system(
        Classification.objects.filter(system_id__in=ids, status=Classification.Status.EFFECTIVE)
    )
    retention = _latest_by_system(RetentionSetting.objects.filter(system_id__in=ids))
    evidenced = _systems_with_evidence(systems, current)
    attached = set(
        ObligationEvidence.objects.filter(system_id__in=ids).values_list("system_id", "obligation")
    )

    def has_evidence(system_id: int, obligation: rules.Obligation) -> bool:
        if obligation.evidence in rules.RETENTION_MINIMUMS:
            setting = retention.get(system_id)
            field, minimum, _source = rules.RETENTION_MINIMUMS[obligation.evidence]
            return setting is not None and getattr(setting, field) >= minimum
        return (system_id, obligation.code) in attached or system_id in evidenced.get(
            obligation.evidence, ()
        )

    tallies: dict[int, dict[str, Any]] = {}
    for system_id in ids:
        classification = current.get(system_id)
        if classification is None:
            tallies[system_id] = {"category": None, "met": 0, "total": 0, "missing": 0}
            continue
        profile = rules.Profile(
            category=classification.category,
            high_risk_basis=classification.high_risk_basis,
            annex_iii_area=classification.annex_iii_area,
            role=classification.role,
            flags=classification.result,
        )
        met = total = missing = 0
        for obligation, when in rules.obligations_for(profile):
            total += 1
            if obligation.evidence == "never" or (
                obligation.code == "art_73" and system_id in evidenced["art_73_overdue"]
            ):
                missing += 1
            elif has_evidence(system_id, obligation):
                met += 1
            elif when.applies_from <= today:
                missing += 1
        tallies[system_id] = {
            "category": classification.category,
            "category_label": classification.get_category_display(),
            "met": met,
            "total": total,
            "missing": missing,
        }
    return tallies


# --- Work waiting for people (the dashboard) ---------------------------------------------


def incidents_open(*, organization: Any) -> QuerySet[Incident]:
    """The organization's open incidents, the nearest reporting deadline first."""
    return (
        Incident.objects.filter(system__organization=organization, status=Incident.Status.OPEN)
        .select_related("system")
        .order_by("reporting_deadline", "pk")
    )


def approvals_waiting_for(*, actor: Any) -> QuerySet[ApprovalRequest]:
    """Pending approval requests that ``actor`` may decide: of their organization, not
    requested by them (separation of duties) and not decided by them yet; none for a
    role that cannot approve. Oldest first."""
    if not actor.can(Capability.COMPLY):
        return ApprovalRequest.objects.none()
    return (
        ApprovalRequest.objects.filter(
            deployment__system__organization=actor.organization,
            status=ApprovalRequest.Status.PENDING,
        )
        .exclude(requested_by=f"{actor.kind}:{actor.id}")
        .exclude(requested_by_user_id=actor.person_id)
        .exclude(decisions__decided_by_id=actor.person_id)
        .select_related("deployment__system", "model_version__model")
        .order_by("created_at", "pk")
    )
