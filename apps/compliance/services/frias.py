"""The deployer's fundamental-rights impact assessment (Art. 27)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from apps.compliance import events
from apps.compliance.models import FundamentalRightsAssessment
from apps.compliance.services._common import same_org, who
from apps.ledger.digests import text_sha256
from apps.ledger.types import Receipt
from apps.registry.models import AISystem
from apps.tenancy.records import record_event
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal

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
    same_org(actor, system)
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
            created_by=who(actor),
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
