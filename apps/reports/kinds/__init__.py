"""The report kinds: each is one declared :class:`ReportKind` (its title, template,
sections, what it gathers and what it cites) in a module of its own.

``build`` gathers the document of a report; the rest is what the rendering service
needs around it (citations, the cited-entries table, checkpoint facts, records JSON).
"""

from __future__ import annotations

from apps.reports.kinds.annex_iv import ANNEX_IV
from apps.reports.kinds.audit_trail import AUDIT_TRAIL, audit_entries
from apps.reports.kinds.common import (
    ANY_SUBJECT,
    PROOFS_AS_FILES_MAX,
    Citations,
    Document,
    People,
    RecordUnreadable,
    ReportKind,
    checkpoint_facts,
    cited_entries,
    records_json,
)
from apps.reports.kinds.decision_explanation import DECISION_EXPLANATION
from apps.reports.kinds.declaration import DECLARATION
from apps.reports.kinds.gpai import GPAI_DOWNSTREAM, GPAI_TECHNICAL, GPAI_TRAINING_SUMMARY
from apps.reports.kinds.model_card import MODEL_CARD
from apps.reports.kinds.post_market import POST_MARKET
from apps.reports.kinds.serious_incident import SERIOUS_INCIDENT
from apps.reports.models import Report

KINDS: dict[str, ReportKind] = {
    kind.key: kind
    for kind in (
        ANNEX_IV,
        AUDIT_TRAIL,
        DECLARATION,
        POST_MARKET,
        SERIOUS_INCIDENT,
        MODEL_CARD,
        DECISION_EXPLANATION,
        GPAI_TECHNICAL,
        GPAI_DOWNSTREAM,
        GPAI_TRAINING_SUMMARY,
    )
}


def build(*, report: Report, cite: Citations) -> Document:
    """The document of ``report``, gathered by its kind."""
    return KINDS[report.kind].build(report, cite)


__all__ = [
    "ANY_SUBJECT",
    "KINDS",
    "PROOFS_AS_FILES_MAX",
    "Citations",
    "Document",
    "People",
    "RecordUnreadable",
    "ReportKind",
    "audit_entries",
    "build",
    "checkpoint_facts",
    "cited_entries",
    "records_json",
]
