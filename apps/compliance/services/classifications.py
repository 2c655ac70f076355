"""Classification of a system under the Act (Art. 5, 6, 50, 53), and the evidence
attached to the obligations its classification brings."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.compliance import events, rules, selectors
from apps.compliance.models import Classification, ObligationEvidence
from apps.compliance.services._common import same_org, who
from apps.ledger.digests import text_sha256
from apps.ledger.types import Receipt
from apps.registry.models import AISystem
from apps.tenancy.records import record_event
from audit_platform.errors import InvalidInput
from audit_platform.principal import Principal


def _validated_answers(answers: Any, *, role: str) -> dict[str, Any]:
    """The answers, checked by the rules; InvalidInput naming every unanswered,
    invalid or contradicting answer otherwise."""
    try:
        return rules.validate_answers(answers, role=role)
    except rules.QuestionnaireError as exc:
        unanswered = sorted(k for k, v in exc.problems.items() if v == ["Unanswered."])
        if exc.conflicts:
            message = "The answers contradict each other: " + " ".join(
                m for k in sorted(exc.problems) for m in exc.problems[k]
            )
        elif unanswered:
            message = f"The questionnaire is incomplete: unanswered {', '.join(unanswered)}."
        else:
            message = (
                "The questionnaire has invalid answers: " + ", ".join(sorted(exc.problems)) + "."
            )
        raise InvalidInput(
            message, fields={f"answers.{k}": v for k, v in exc.problems.items()}
        ) from None


def classification_record(
    *, actor: Principal, system: AISystem, answers: Any
) -> tuple[Classification, Receipt]:
    """Classifies the system from the questionnaire. A new classification is a new
    version; earlier ones stay on the record."""
    same_org(actor, system)
    clean = _validated_answers(answers, role=system.role)
    outcome = rules.classify(clean, role=system.role)
    with transaction.atomic():
        AISystem.objects.select_for_update().get(pk=system.pk)
        previous = selectors.classification_current(system=system)
        rationale = " ".join(outcome.rationale)
        classification = Classification(
            system=system,
            version=(previous.version + 1) if previous else 1,
            role=outcome.role,
            answers=clean,
            category=outcome.category,
            high_risk_basis=outcome.high_risk_basis,
            annex_iii_area=outcome.annex_iii_area,
            exemption=outcome.exemption,
            result=outcome.flags,
            rationale=rationale,
            citations=outcome.citations,
            created_by=who(actor),
            ledger_seq=0,
        )
        receipt = record_event(
            actor=actor,
            event=events.CLASSIFICATION_RECORDED,
            id=system.pk,
            data={
                "version": classification.version,
                "supersedes": previous.version if previous else None,
                "role": outcome.role,
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
    same_org(actor, system)
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
            created_by=who(actor),
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
