"""EU declaration of conformity (Art. 47, Annex V): the system, its provider and the
latest model version, with what Annex V asks for that is not on the record."""

from __future__ import annotations

from apps.registry.models import ModelVersion
from apps.reports.kinds.common import Citations, Gathered, ReportKind, system_facts
from apps.reports.models import Report

MISSING = (
    "Annex V 5: the conformity statement of other Union legislation is not on the record.",
    "Annex V 6: no harmonised standards or common specifications are on the record yet.",
    "Annex V 7: no notified body or conformity-assessment procedure is on the record yet.",
)


def gather(report: Report, cite: Citations) -> Gathered:
    system = report.system
    assert system is not None
    facts = system_facts(system, cite)
    latest = (
        ModelVersion.objects.filter(model__system=system)
        .select_related("model")
        .order_by("-created_at")
        .first()
    )
    cite.load(
        {
            "model_version": [latest.pk] if latest else [],
            "organization": [report.organization.slug],
        }
    )
    org_seq = cite.seq("organization", report.organization.slug, "organization.created")
    missing = list(MISSING)
    context = {
        "system": facts,
        "provider": report.organization.name,
        "provider_seq": org_seq,
        "latest": (
            {
                "label": str(latest),
                "sha256": latest.artifact_sha256,
                "seq": cite.seq("model_version", latest.pk, "model_version.registered"),
            }
            if latest
            else None
        ),
        "missing": missing,
    }
    records = {"system": facts, "provider": report.organization.name, "latest": context["latest"]}
    return Gathered(
        context=context, records=records, about={"system": system.name}, missing=missing
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
        "5. Personal data processing",
        "6. Harmonised standards and common specifications",
        "7. Notified body and conformity assessment",
        "8. Place and date of issue, signature",
    ),
    gather=gather,
    cites=frozenset({"ai_system", "model_version", "organization"}),
)
