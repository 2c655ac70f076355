"""The ledger events of reports (see apps/ledger/events.py)."""

from __future__ import annotations

from apps.ledger.events import declare, declare_section, optional

REPORTS = declare_section(
    title="Reports",
    order=40,
    notes="`report.generated` carries the requester as its `actor`: the worker renders on "
    "their behalf.",
)

REPORT_REQUESTED = declare(
    "report.requested",
    subject="report",
    section=REPORTS,
    fields={
        "kind": "",
        "about": '`{"kind", "id"}` of the AI system, model version or organization',
        "time_from": optional("range kinds"),
        "time_to": optional("range kinds"),
        "stage": optional("serious-incident reports"),
        "incident_id": optional("serious-incident reports, only when the caller named one"),
        "model_version_id": optional(
            "documents about a system, only when the caller named the version they cover"
        ),
        "signatory_name": optional("declarations of conformity (Annex V, point 8)"),
        "signatory_function": optional("declarations of conformity"),
        "place_of_issue": optional("declarations of conformity"),
        "prediction_batch_id": optional("decision explanations (Art. 86): the batch"),
        "row": optional("decision explanations: the row of the decision explained"),
        "explanation_id": optional(
            "decision explanations: the SHAP explanation it is built from (the "
            "explainability workers are asked to compute one when none was there); the "
            "report is rendered once that explanation completes"
        ),
    },
)
REPORT_GENERATED = declare(
    "report.generated",
    subject="report",
    section=REPORTS,
    fields={
        "sha256": "of the signed PDF exactly as served",
        "size_bytes": "",
        "kind": "",
        "about": "",
        "cited_seqs": "how many entries it cites",
        "checkpoint_size": "the checkpoint its tlog-proofs verify against",
        "pages": "",
        "signer_sha256": "fingerprint of the signing certificate",
        "requested": "seq of `report.requested`",
    },
)
REPORT_FAILED = declare(
    "report.failed",
    subject="report",
    section=REPORTS,
    fields={"kind": "", "reason": ""},
)
