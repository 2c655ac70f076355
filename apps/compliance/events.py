"""The ledger events of the compliance record: classification, obligations, risks,
assessments, human oversight, incidents and the FRIA (see apps/ledger/events.py)."""

from __future__ import annotations

from apps.ledger.events import declare, declare_section, optional

COMPLIANCE = declare_section(
    title="Compliance",
    order=30,
    intro="""
Free texts (rationale, descriptions, reports, comments, FRIA elements, risk texts) are
on the ledger only as `*_sha256` of their UTF-8 bytes; decisions as the SHA-256 of
their RFC 8785 bytes. See `docs/compliance.md`.
""",
)

_CLASSIFICATION = {
    "version": "",
    "supersedes": "the current version it replaces, or null",
    "role": "",
    "category": "",
    "high_risk_basis": "",
    "annex_iii_area": "",
    "exemption": "",
    "flags": "",
    "answers": "",
    "citations": "",
    "rationale_sha256": "",
    "requested_by_user_id": "the person behind it (for a key, the key's person), or null",
}
CLASSIFICATION_RECORDED = declare(
    "classification.recorded",
    subject="ai_system",
    section=COMPLIANCE,
    fields=_CLASSIFICATION,
    doc="in effect at once (it does not lower the risk class)",
)
CLASSIFICATION_PROPOSED = declare(
    "classification.proposed",
    subject="ai_system",
    section=COMPLIANCE,
    fields=_CLASSIFICATION,
    doc="lowers the risk class: not in effect until a second person confirms it",
)
_CLASSIFICATION_DECISION = {
    "version": "",
    "category": "",
    "requested_by_user_id": "the person behind the lowering, or null",
    "decided_by_user_id": "the second person",
}
CLASSIFICATION_CONFIRMED = declare(
    "classification.confirmed",
    subject="ai_system",
    section=COMPLIANCE,
    fields=_CLASSIFICATION_DECISION,
    doc="the proposed lowering takes effect",
)
CLASSIFICATION_DECLINED = declare(
    "classification.declined",
    subject="ai_system",
    section=COMPLIANCE,
    fields=_CLASSIFICATION_DECISION,
    doc="the proposed lowering never takes effect",
)
GATE_ALERT_RAISED = declare(
    "gate.alert_raised",
    subject="gate_alert",
    section=COMPLIANCE,
    fields={
        "deployment": "",
        "model_version": "the version serving without approval",
        "classification_version": "the classification that made the system high-risk",
        "action": "stopped (the deployment.stopped entry precedes it) or alert_only, by the "
        "organization's policy",
    },
)
OBLIGATION_EVIDENCE_ATTACHED = declare(
    "obligation.evidence_attached",
    subject="ai_system",
    section=COMPLIANCE,
    fields={
        "obligation": "code",
        "uri": "",
        "sha256": optional("of the document, when given"),
        "description_sha256": "",
    },
)
# A risk's state, as both of its events carry it.
_RISK_STATE = {
    "hazard_sha256": "",
    "affected_persons_sha256": "",
    "mitigation_sha256": "",
    "likelihood": "",
    "severity": "",
    "residual_risk": "",
    "owner_user_id": "",
    "review_date": "",
    "status": "",
    "revision": "",
}
RISK_CREATED = declare(
    "risk.created",
    subject="risk",
    section=COMPLIANCE,
    fields={**_RISK_STATE, "parent": "ai_system"},
)
RISK_UPDATED = declare(
    "risk.updated",
    subject="risk",
    section=COMPLIANCE,
    fields={**_RISK_STATE, "changed": "field names"},
    doc="the risk's new state, as in `risk.created`",
)
ASSESSMENT_REQUESTED = declare(
    "assessment.requested",
    subject="assessment",
    section=COMPLIANCE,
    fields={
        "kind": "",
        "task": "",
        "thresholds": "",
        "config": "columns, seed, resamples, perturbation",
        "dataset_version": "",
        "dataset_sha256": "",
        "model_version": "",
        "parent": "ai_system",
    },
)
ASSESSMENT_COMPLETED = declare(
    "assessment.completed",
    subject="assessment",
    section=COMPLIANCE,
    fields={
        "passed": "",
        "outcomes": "value, bounds and pass per metric",
        "results_sha256": "RFC 8785 of the stored results",
    },
)
ASSESSMENT_FAILED = declare(
    "assessment.failed",
    subject="assessment",
    section=COMPLIANCE,
    fields={"reason": ""},
)
APPROVAL_REQUESTED = declare(
    "approval.requested",
    subject="approval_request",
    section=COMPLIANCE,
    fields={
        "deployment": "",
        "model_version": "",
        "sha256": "artifact",
        "required_approvals": "",
        "requested_by_user_id": "the person answerable for the request (for a key, the "
        "key's person); null for an operator",
        "supersedes": "ids of the pending requests for other versions it ended",
        "reason_sha256": optional("when given"),
    },
)
APPROVAL_DECIDED = declare(
    "approval.decided",
    subject="approval_request",
    section=COMPLIANCE,
    fields={
        "decision": "approve/reject",
        "role": "",
        "approvals": "",
        "required_approvals": "",
        "status": "",
        "requested_by_user_id": "the person behind the request, or null",
        "decided_by_user_id": "the person who decided",
        "comment_sha256": optional("when given"),
    },
)
DECISION_OVERRIDDEN = declare(
    "decision.overridden",
    subject="deployment",
    section=COMPLIANCE,
    fields={
        "prediction_batch": "",
        "row_index": "",
        "original_decision_sha256": "",
        "new_decision_sha256": "",
        "reason_sha256": "",
    },
)
# The Commission reporting template's facts of an incident, as its events carry them.
_INCIDENT_DETAILS = {
    "member_state": "where it occurred (ISO 3166-1 alpha-2), Art. 73(1)",
    "receiving_authority": "market surveillance authority reported to",
    "occurred_at": "",
    "causal_link_established_at": "Art. 73(2): report immediately after",
    "harm_category": "Art. 3(49)(a)-(d)",
    "parallel_regimes": "[{regime, reference_sha256}]: NIS2, GDPR, DORA, sectoral",
}
INCIDENT_OPENED = declare(
    "incident.opened",
    subject="incident",
    section=COMPLIANCE,
    fields={
        "kind": "",
        "became_aware_at": "",
        "reporting_deadline": "",
        "reporting_days": "",
        "description_sha256": "",
        **_INCIDENT_DETAILS,
        "parent": "ai_system",
    },
)
INCIDENT_DETAILS_RECORDED = declare(
    "incident.details_recorded",
    subject="incident",
    section=COMPLIANCE,
    fields={**_INCIDENT_DETAILS, "changed": "field names"},
    doc="the incident's reporting facts after the change, as in `incident.opened`",
)
INCIDENT_REPORT_ADDED = declare(
    "incident.report_added",
    subject="incident",
    section=COMPLIANCE,
    fields={
        "report": "initial/follow_up/final",
        "content_sha256": "",
        "root_cause_sha256": optional("when stated (the final report states it)"),
        "corrective_actions_sha256": optional("when stated (the final report states them)"),
    },
)
INCIDENT_AUTHORITY_INFORMED = declare(
    "incident.authority_informed",
    subject="incident",
    section=COMPLIANCE,
    fields={
        "informed_at": "",
        "reporting_deadline": "",
        "on_time": "",
        "member_state": "",
        "receiving_authority": "",
    },
)
INCIDENT_CLOSED = declare(
    "incident.closed",
    subject="incident",
    section=COMPLIANCE,
    fields={},
)
FRIA_RECORDED = declare(
    "fria.recorded",
    subject="ai_system",
    section=COMPLIANCE,
    fields={
        "version": "",
        "supersedes": "",
        "process_and_purpose_sha256": "Art. 27(1)(a)",
        "period_and_frequency_sha256": "Art. 27(1)(b)",
        "affected_categories_sha256": "Art. 27(1)(c)",
        "specific_risks_sha256": "Art. 27(1)(d)",
        "human_oversight_measures_sha256": "Art. 27(1)(e)",
        "measures_if_risks_materialise_sha256": "Art. 27(1)(f)",
    },
)
RETENTION_SET = declare(
    "retention.set",
    subject="ai_system",
    section=COMPLIANCE,
    fields={
        "version": "",
        "supersedes": "previous version or null",
        "documentation_years": "Art. 18(1): at least 10 to count",
        "log_months": "Art. 19(1), Art. 26(6): at least 6 to count",
    },
)
REGISTRATION_RECORDED = declare(
    "registration.recorded",
    subject="ai_system",
    section=COMPLIANCE,
    fields={
        "version": "",
        "supersedes": "previous version or null",
        "duty": "checklist item: art_49, art_49_2 or art_26_8",
        "section": "Annex VIII Section A, B or C",
        "database": "eu_public, eu_non_public or national",
        "fields": "names of the fields given",
        "data_sha256": "RFC 8785 digest of the fields",
    },
)
# Remote biometric identification (Annex III point 1(a)): the Art. 12(3) log and the
# Art. 14(5) verification. Persons appear by user id; input data only by its digest.
BIOMETRIC_USE_STARTED = declare(
    "biometric_use.started",
    subject="biometric_use",
    section=COMPLIANCE,
    fields={
        "started_at": "Art. 12(3)(a)",
        "ended_at": "Art. 12(3)(a), or null while in use",
        "reference_database_sha256": "Art. 12(3)(b): digest of the database's name",
        "reference_database_digest": optional("of the database's state, when given"),
        "deployment": "",
        "parent": "ai_system",
    },
)
BIOMETRIC_USE_ENDED = declare(
    "biometric_use.ended",
    subject="biometric_use",
    section=COMPLIANCE,
    fields={"ended_at": "Art. 12(3)(a)"},
)
BIOMETRIC_MATCH_RECORDED = declare(
    "biometric_use.match_recorded",
    subject="biometric_use",
    section=COMPLIANCE,
    fields={
        "match": "",
        "input_sha256": "Art. 12(3)(c): the input data that led to the match",
        "input_reference_sha256": optional("where it is kept, when given"),
    },
)
BIOMETRIC_MATCH_VERIFIED = declare(
    "biometric_use.match_verified",
    subject="biometric_use",
    section=COMPLIANCE,
    fields={
        "match": "",
        "outcome": "confirmed/not_confirmed",
        "verified_by_user_id": "Art. 12(3)(d), Art. 14(5): the person",
        "role": "",
        "confirmations": "distinct persons who confirmed so far",
        "required": "2 (Art. 14(5)), or 1 under a recorded exception",
    },
)
BIOMETRIC_MATCH_ACTED_ON = declare(
    "biometric_use.match_acted_on",
    subject="biometric_use",
    section=COMPLIANCE,
    fields={
        "match": "",
        "action_sha256": "",
        "confirmed_by_user_ids": "the persons who confirmed it",
        "required": "",
        "exception_setting_version": "the Art. 14(5) setting relied on, or null",
    },
    doc="only after the required separate confirmations (Art. 14(5))",
)
DUAL_VERIFICATION_SET = declare(
    "dual_verification.set",
    subject="ai_system",
    section=COMPLIANCE,
    fields={
        "version": "",
        "supersedes": "previous version or null",
        "exception_applies": "Art. 14(5), second subparagraph",
        "area": "law_enforcement, migration, border_control or asylum; empty when not",
        "legal_basis_sha256": optional("the law relied on, when the exception applies"),
    },
)
ASSESSMENT_SIGNED = declare(
    "assessment.signed",
    subject="assessment",
    section=COMPLIANCE,
    fields={
        "signed_by_user_id": "the person who signed, in person",
        "role": "",
        "function_sha256": "the signer's stated responsibility",
        "report_sha256": "RFC 8785 digest of the test report signed (Annex IV 2(g))",
    },
    doc="a responsible person signs the dated test report (Annex IV, point 2(g))",
)
GPAI_DOCUMENTATION_RECORDED = declare(
    "gpai_documentation.recorded",
    subject="ai_system",
    section=COMPLIANCE,
    fields={
        "version": "",
        "supersedes": "previous version or null",
        "changed": "field keys given in this version",
        "fields": "every field key stated so far",
        "data_sha256": "RFC 8785 digest of the fields",
    },
    doc="facts of a general-purpose AI model (Annex XI, Annex XII, Art. 53(1)(d) template)",
)
