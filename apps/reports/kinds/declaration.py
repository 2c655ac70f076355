"""EU declaration of conformity (Art. 47, Annex V).

A declaration states that the system conforms, under the provider's sole
responsibility; it is issued only where the record backs that statement: the
organization is the system's provider, the system is classified high-risk, its
conformity assessment (Art. 43) is on the record, the provider's name and address
are recorded, a data-protection statement is recorded where its data holds personal
data, and one model version is covered (the one named, or the one serving). Otherwise
the report fails with every reason and no PDF (:class:`RecordDoesNotSupport`).
"""

from __future__ import annotations

from typing import Any

from apps.registry.models import AISystem, DatasetVersion, ModelVersion
from apps.reports.kinds.common import (
    Citations,
    Gathered,
    RecordDoesNotSupport,
    ReportKind,
    system_facts,
    versions_covered,
    when,
)
from apps.reports.kinds.compliance_record import BASIS
from apps.reports.models import Report

RETENTION = (
    "The provider keeps this declaration at the disposal of the national competent "
    "authorities for 10 years after the AI system has been placed on the market or put "
    "into service (Art. 47(1)), and gives a copy to them on request."
)
CONFORMITY_ASSESSMENT = "art_43"


def _classification(system: AISystem, cite: Citations) -> Any:
    from apps.compliance import selectors as compliance

    current = compliance.classification_current(system=system)
    if current is not None:
        cite.add(current.ledger_seq)
    return current


def _assessments(system: AISystem, cite: Citations) -> list[dict[str, Any]]:
    from apps.compliance import selectors as compliance

    return [
        {
            "description": e.description,
            "uri": e.uri or "—",
            "sha256": e.sha256 or "—",
            "by": e.created_by,
            "at": when(e.created_at),
            "seq": cite.add(e.ledger_seq or None),
        }
        for e in compliance.obligation_evidence_of_system(
            system=system, obligation=CONFORMITY_ASSESSMENT
        )
    ]


def _personal_data(system: AISystem) -> bool:
    return DatasetVersion.objects.filter(
        dataset__system=system, contains_personal_data=True
    ).exists()


def refusals(
    *,
    system: AISystem,
    classification: Any,
    assessments: list[dict[str, Any]],
    versions: list[ModelVersion],
    named: bool,
) -> list[str]:
    """Why the record does not back a declaration for ``system``; empty when it does."""
    reasons = []
    if system.role != AISystem.Role.PROVIDER:
        reasons.append(
            f"the organization is the system's {system.role}, not its provider: the provider "
            "draws up the declaration of conformity (Art. 16(g), Art. 47(1))"
        )
    if classification is None:
        reasons.append("the system is not classified: record its classification first (Art. 6)")
    elif classification.category != "high_risk":
        reasons.append(
            f"the system is classified {classification.get_category_display().lower()} "
            f"(classification version {classification.version}), not high-risk: a declaration "
            "of conformity is drawn up for high-risk AI systems (Art. 47(1))"
        )
    if not assessments:
        reasons.append(
            "no completed conformity assessment is on the record (Art. 43): attach its "
            f"evidence to obligation {CONFORMITY_ASSESSMENT}"
        )
    if not system.provider_address:
        reasons.append(
            "the provider's name and address are not on the record (Annex V, point 2): "
            f"record them with POST /api/v1/systems/{system.pk}/provider"
        )
    if _personal_data(system) and not system.data_protection_statement:
        reasons.append(
            "the system's datasets hold personal data and no data-protection statement is on "
            "the record (Annex V, point 5)"
        )
    if not versions:
        reasons.append(
            "no model version serves and none was named: give model_version_id, the version "
            "the declaration covers"
        )
    elif len(versions) > 1 and not named:
        labels = ", ".join(str(v) for v in versions)
        reasons.append(
            f"the system's deployments serve several versions ({labels}): name the one the "
            "declaration covers with model_version_id"
        )
    return reasons


def _context(
    report: Report,
    cite: Citations,
    facts: dict[str, Any],
    version: ModelVersion,
    classification: Any,
    assessments: list[dict[str, Any]],
) -> dict[str, Any]:
    """What the declaration states, item by item of Annex V."""
    system = report.system
    assert system is not None
    cite.load({"model_version": [version.pk]})
    params = report.params
    return {
        "system": facts,
        "version": {
            "label": str(version),
            "sha256": version.artifact_sha256,
            "seq": cite.seq("model_version", version.pk, "model_version.registered"),
            "how": "named in the request" if report.model_version_id else "serving now",
        },
        "classification": {
            "label": classification.get_category_display(),
            "basis": BASIS.get(classification.high_risk_basis, "—"),
            "area": (classification.annex_iii_area or "—").replace("_", " "),
            "version": classification.version,
            "seq": classification.ledger_seq,
        },
        "provider": {
            "name": system.provider_name or report.organization.name,
            "address": system.provider_address,
            "seq": cite.last("ai_system", system.pk, "ai_system.provider_recorded"),
        },
        "data_protection": system.data_protection_statement,
        "assessments": assessments,
        "signatory": {
            "name": params.get("signatory_name", ""),
            "function": params.get("signatory_function", ""),
            "place": params.get("place_of_issue", ""),
        },
        "retention": RETENTION,
        # Harmonised standards and common specifications: no app records them yet.
        "missing": [
            "Annex V, point 6: no harmonised standard or common specification is referenced "
            "on the record."
        ],
        "missing_title": "Not on the record",
    }


def gather(report: Report, cite: Citations) -> Gathered:
    system = report.system
    assert system is not None
    facts = system_facts(system, cite)
    classification = _classification(system, cite)
    assessments = _assessments(system, cite)
    versions = versions_covered(report)
    reasons = refusals(
        system=system,
        classification=classification,
        assessments=assessments,
        versions=versions,
        named=report.model_version_id is not None,
    )
    if reasons:
        raise RecordDoesNotSupport(
            f"No EU declaration of conformity can be issued for AI system {system.name!r}: "
            + "; ".join(reasons)
            + "."
        )
    (version,) = versions
    context = _context(report, cite, facts, version, classification, assessments)
    records = {
        key: context[key]
        for key in ("system", "version", "classification", "provider", "assessments")
    }
    records["signatory"] = context["signatory"]
    records["data_protection_statement"] = system.data_protection_statement
    return Gathered(
        context=context,
        records=records,
        about={"system": system.name},
        missing=context["missing"],
    )


DECLARATION = ReportKind(
    key=Report.Kind.DECLARATION,
    title="EU declaration of conformity: {system}",
    template="reports/declaration.html",
    sections=(
        "1. AI system name and type, and unambiguous reference",
        "2. Name and address of the provider",
        "3. Sole responsibility",
        "4. Statement of conformity",
        "5. Data-protection statement",
        "6. Harmonised standards and common specifications",
        "7. Notified body and conformity assessment",
        "8. Place and date of issue, signatory and signature",
        "Keeping this declaration",
    ),
    gather=gather,
    cites=frozenset({"ai_system", "model_version", "organization"}),
)
