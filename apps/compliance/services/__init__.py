"""Writes of the compliance record, one module per entity. Each service changes its rows
and appends the matching ledger entry in one transaction, as its last step; both commit
or neither does. Ledger payloads carry digests and metadata, never free text or personal
data. Event types are listed in docs/events.md and explained in docs/compliance.md.

Callers import from here (``from apps.compliance import services``), not from the
entity modules, so that code can move between them without touching its callers."""

from apps.compliance.services.approvals import (
    APPROVER_ROLES,
    approval_decide,
    approval_request_create,
)
from apps.compliance.services.assessments import (
    DEFAULT_RESAMPLES,
    MAX_RESAMPLES,
    assessment_claim,
    assessment_complete,
    assessment_fail,
    assessment_request,
    assessment_sign,
)
from apps.compliance.services.biometrics import (
    biometric_match_act,
    biometric_match_record,
    biometric_match_verify,
    biometric_use_end,
    biometric_use_start,
    dual_verification_setting_record,
)
from apps.compliance.services.classifications import (
    classification_decide,
    classification_record,
    obligation_evidence_attach,
)
from apps.compliance.services.frias import FRIA_ELEMENTS, fria_record
from apps.compliance.services.gpai import gpai_documentation_record
from apps.compliance.services.incidents import (
    INCIDENT_DETAILS,
    REPORTING_DAYS,
    incident_authority_informed,
    incident_close,
    incident_deadline,
    incident_details_record,
    incident_open,
    incident_report_add,
)
from apps.compliance.services.overrides import decision_override_record
from apps.compliance.services.registrations import registration_record, registration_target
from apps.compliance.services.retention import retention_setting_record
from apps.compliance.services.risks import RISK_FIELDS, RISK_TEXT_FIELDS, risk_create, risk_update

__all__ = [
    "APPROVER_ROLES",
    "DEFAULT_RESAMPLES",
    "FRIA_ELEMENTS",
    "INCIDENT_DETAILS",
    "MAX_RESAMPLES",
    "REPORTING_DAYS",
    "RISK_FIELDS",
    "RISK_TEXT_FIELDS",
    "approval_decide",
    "approval_request_create",
    "assessment_claim",
    "assessment_complete",
    "assessment_fail",
    "assessment_request",
    "assessment_sign",
    "biometric_match_act",
    "biometric_match_record",
    "biometric_match_verify",
    "biometric_use_end",
    "biometric_use_start",
    "classification_decide",
    "classification_record",
    "decision_override_record",
    "dual_verification_setting_record",
    "fria_record",
    "gpai_documentation_record",
    "incident_authority_informed",
    "incident_close",
    "incident_deadline",
    "incident_details_record",
    "incident_open",
    "incident_report_add",
    "obligation_evidence_attach",
    "registration_record",
    "registration_target",
    "retention_setting_record",
    "risk_create",
    "risk_update",
]
