"""Classification of a system under the Act (Art. 5, 6, 50, 53), and the evidence
attached to the obligations its classification brings."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.compliance import events, rules, selectors
from apps.compliance.models import Classification, GateAlert, ObligationEvidence
from apps.compliance.services._common import same_org, who
from apps.ledger.digests import text_sha256
from apps.ledger.types import Receipt
from apps.registry import services as registry_services
from apps.registry.models import AISystem, Deployment
from apps.tenancy import selectors as tenancy_selectors
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import Forbidden, InvalidInput, RuleViolation
from audit_platform.principal import Principal
from audit_platform.roles import Role

# Higher is stricter; a classification to a lower rank than the current one lowers
# the system's risk class and needs a second person.
_RANK = {
    Classification.Category.MINIMAL_RISK: 0,
    Classification.Category.LIMITED_RISK: 1,
    Classification.Category.HIGH_RISK: 2,
    Classification.Category.PROHIBITED: 3,
}


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


def _classification_data(
    classification: Classification, previous: Classification | None
) -> dict[str, Any]:
    return {
        "version": classification.version,
        "supersedes": previous.version if previous else None,
        "role": classification.role,
        "category": classification.category,
        "high_risk_basis": classification.high_risk_basis or None,
        "annex_iii_area": classification.annex_iii_area or None,
        "exemption": classification.exemption or None,
        "flags": classification.result,
        "answers": classification.answers,
        "citations": classification.citations,
        "rationale_sha256": text_sha256(classification.rationale),
        "requested_by_user_id": _person(classification.requested_by_user_id),
    }


def _person(user_id: int | None) -> str | None:
    return None if user_id is None else str(user_id)


def classification_record(
    *, actor: Principal, system: AISystem, answers: Any
) -> tuple[Classification, Receipt]:
    """Classifies the system from the questionnaire. A new classification is a new
    version; earlier ones stay on the record.

    One that lowers the risk class (high-risk to limited, say) does not take effect: it
    waits, ``pending``, until a person other than the one behind it confirms it
    (``classification_decide``). One that makes the system high-risk takes effect at
    once, and a deployment then serving a version without approval raises an alert and,
    by the organization's policy, is stopped, in the same transaction."""
    same_org(actor, system)
    clean = _validated_answers(answers, role=system.role)
    outcome = rules.classify(clean, role=system.role)
    with transaction.atomic():
        AISystem.objects.select_for_update().get(pk=system.pk)
        pending = selectors.classification_pending(system=system)
        if pending is not None:
            raise RuleViolation(
                f"Classification v{pending.version} of system {system.pk} lowers its risk "
                "class and awaits confirmation by a second person: confirm or decline it "
                f"first (/api/v1/classifications/{pending.pk}/decide)."
            )
        previous = selectors.classification_current(system=system)
        lowers = previous is not None and _RANK[outcome.category] < _RANK[previous.category]
        latest = Classification.objects.filter(system=system).order_by("-version").first()
        classification = Classification(
            system=system,
            version=(latest.version + 1) if latest else 1,
            role=outcome.role,
            answers=clean,
            category=outcome.category,
            high_risk_basis=outcome.high_risk_basis,
            annex_iii_area=outcome.annex_iii_area,
            exemption=outcome.exemption,
            result=outcome.flags,
            rationale=" ".join(outcome.rationale),
            citations=outcome.citations,
            status=Classification.Status.PENDING if lowers else Classification.Status.EFFECTIVE,
            created_by=who(actor),
            requested_by_user_id=actor.person_id,
            ledger_seq=0,
        )
        event = events.CLASSIFICATION_PROPOSED if lowers else events.CLASSIFICATION_RECORDED
        receipt = record_event(
            actor=actor,
            event=event,
            id=system.pk,
            data=_classification_data(classification, previous),
        )
        classification.ledger_seq = receipt.seq
        classification.save()
        if not lowers:
            _stop_unapproved_if_high_risk(actor=actor, classification=classification)
    return classification, receipt


def classification_decide(
    *, actor: Principal, classification: Classification, decision: str
) -> tuple[Classification, Receipt]:
    """A second person confirms (it takes effect) or declines a pending lowering of a
    system's risk class. Only an owner or compliance officer, signed in, and never the
    person behind the lowering (a key counts as the person answerable for it)."""
    if not actor.in_person or actor.role not in (Role.OWNER, Role.COMPLIANCE_OFFICER):
        raise Forbidden(
            "Lowering a system's risk class is confirmed by a person: sign in as an owner or "
            "compliance officer (an API key cannot confirm it)."
        )
    if decision not in ("confirm", "decline"):
        raise InvalidInput(
            "decision must be confirm or decline.", fields={"decision": ["Invalid."]}
        )
    same_org(actor, classification.system)
    with transaction.atomic():
        AISystem.objects.select_for_update().get(pk=classification.system_id)
        classification = Classification.objects.get(pk=classification.pk)
        if classification.status != Classification.Status.PENDING:
            raise RuleViolation(
                f"Classification v{classification.version} is {classification.status}: only a "
                "pending lowering is confirmed or declined."
            )
        if classification.created_by == who(actor) or (
            classification.requested_by_user_id is not None
            and classification.requested_by_user_id == actor.person_id
        ):
            raise Forbidden(
                f"Separation of duties: you stand behind classification v"
                f"{classification.version} (directly or through an API key you are answerable "
                "for); another owner or compliance officer must confirm or decline it."
            )
        confirmed = decision == "confirm"
        classification.status = (
            Classification.Status.EFFECTIVE if confirmed else Classification.Status.DECLINED
        )
        classification.decided_by = actor.user
        classification.decided_at = timezone.now()
        classification.save(update_fields=["status", "decided_by", "decided_at"])
        receipt = record_event(
            actor=actor,
            event=events.CLASSIFICATION_CONFIRMED if confirmed else events.CLASSIFICATION_DECLINED,
            id=classification.system_id,
            data={
                "version": classification.version,
                "category": classification.category,
                "requested_by_user_id": _person(classification.requested_by_user_id),
                "decided_by_user_id": _person(actor.person_id),
            },
        )
        if confirmed:
            _stop_unapproved_if_high_risk(actor=actor, classification=classification)
    return classification, receipt


def _stop_unapproved_if_high_risk(*, actor: Principal, classification: Classification) -> None:
    """Once ``classification`` (effective) makes its system high-risk, every deployment
    serving a version without approval raises an alert and, unless the organization's
    policy says alert only, stops, each on the ledger. Runs inside the caller's
    transaction."""
    if classification.category != Classification.Category.HIGH_RISK:
        return
    system = classification.system
    policy = tenancy_selectors.organization_policy(organization=system.organization)
    stop = policy["unapproved_on_high_risk"] == "stop"
    for deployment in Deployment.objects.filter(
        system=system, status=Deployment.Status.ACTIVE, model_version__isnull=False
    ).select_related("model_version"):
        version = deployment.model_version
        if selectors.version_approved(deployment=deployment, model_version=version):
            continue
        message = (
            f"System {system.pk} became high-risk (classification v{classification.version}) "
            f"while deployment {deployment.pk} served model version {version.pk}, which has no "
            "approval (Art. 14). "
            + (
                "The deployment was stopped (organization policy: stop)."
                if stop
                else "It still serves (organization policy: alert only); request an approval."
            )
        )
        if stop:
            registry_services.deployment_stop(actor=actor, deployment=deployment, reason=message)
        alert = GateAlert(
            deployment=deployment,
            model_version=version,
            classification=classification,
            action=GateAlert.Action.STOPPED if stop else GateAlert.Action.ALERT_ONLY,
            message=message,
            ledger_seq=0,
        )
        alert.save()
        receipt = record_event(
            actor=actor,
            event=events.GATE_ALERT_RAISED,
            id=alert.pk,
            data={
                "deployment": record_ref("deployment", deployment),
                "model_version": record_ref("model_version", version),
                "classification_version": classification.version,
                "action": alert.action,
            },
        )
        GateAlert.objects.filter(pk=alert.pk).update(ledger_seq=receipt.seq)


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
