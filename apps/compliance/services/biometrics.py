"""Remote biometric identification (Annex III point 1(a)): the log of each use that
Art. 12(3) asks for, and the Art. 14(5) rule that no action or decision is taken on an
identification unless at least two natural persons separately verified and confirmed it.

The second subparagraph of Art. 14(5) lifts the two-person rule in law enforcement,
migration, border control and asylum where Union or national law considers it
disproportionate. Whether such a law applies is the user's to record (a setting naming
the law); without one the rule applies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.compliance import events, rules, selectors
from apps.compliance.models import (
    BiometricMatch,
    BiometricUse,
    BiometricVerification,
    DualVerificationSetting,
)
from apps.compliance.services._common import same_org, who
from apps.ledger.digests import text_sha256
from apps.ledger.types import Receipt
from apps.registry.models import AISystem, Deployment
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import Forbidden, InvalidInput, RuleViolation
from audit_platform.principal import Principal
from audit_platform.roles import Role

# Who may verify an identification: people of the organization who may record its
# operation. Their competence, training and authority are the deployer's to assign
# (Art. 26(2)); the record names each person and role.
VERIFIER_ROLES = (Role.OWNER, Role.COMPLIANCE_OFFICER, Role.ML_ENGINEER)


def _check_point_1a(system: AISystem) -> None:
    """Refuses a system whose current classification is not a high-risk Annex III point
    1(a) system: the Art. 12(3) log and Art. 14(5) are for those."""
    if not selectors.is_remote_biometric_identification(system=system):
        raise RuleViolation(
            f"System {system.pk} is not classified as a high-risk remote biometric "
            "identification system (Annex III point 1(a)); the log of Art. 12(3) and the "
            "verification of Art. 14(5) are for those. Classify it first "
            "(/api/v1/classifications/)."
        )


def biometric_use_start(
    *,
    actor: Principal,
    system: AISystem,
    started_at: datetime,
    reference_database: str,
    ended_at: datetime | None = None,
    reference_database_sha256: str = "",
    deployment: Deployment | None = None,
) -> tuple[BiometricUse, Receipt]:
    """Logs one use (Art. 12(3)(a), (b)): its start, its end when known, and the
    reference database the input data is checked against."""
    same_org(actor, system)
    _check_point_1a(system)
    problems: dict[str, list[str]] = {}
    if not reference_database.strip():
        problems["reference_database"] = ["Name the reference database (Art. 12(3)(b))."]
    if ended_at is not None and ended_at < started_at:
        problems["ended_at"] = ["The end of a use cannot precede its start (Art. 12(3)(a))."]
    if deployment is not None and deployment.system_id != system.pk:
        problems["deployment_id"] = [f"Deployment {deployment.pk} is not one of this system's."]
    if problems:
        raise InvalidInput(
            "The use cannot be logged: " + ", ".join(sorted(problems)) + ".", fields=problems
        )
    with transaction.atomic():
        use = BiometricUse(
            system=system,
            deployment=deployment,
            started_at=started_at,
            ended_at=ended_at,
            reference_database=reference_database,
            reference_database_sha256=reference_database_sha256,
            created_by=who(actor),
            ledger_seq=0,
        )
        use.save()
        receipt = record_event(
            actor=actor,
            event=events.BIOMETRIC_USE_STARTED,
            id=use.pk,
            data={
                "started_at": started_at.isoformat(),
                "ended_at": ended_at.isoformat() if ended_at else None,
                "reference_database_sha256": text_sha256(reference_database),
                **(
                    {"reference_database_digest": reference_database_sha256}
                    if reference_database_sha256
                    else {}
                ),
                "deployment": record_ref("deployment", deployment),
                "parent": record_ref("ai_system", system),
            },
        )
        use.ledger_seq = receipt.seq
        use.save(update_fields=["ledger_seq"])
    return use, receipt


def biometric_use_end(
    *, actor: Principal, use: BiometricUse, ended_at: datetime
) -> tuple[BiometricUse, Receipt]:
    """Records the end of a use (Art. 12(3)(a)); once only, never before its start."""
    same_org(actor, use.system)
    with transaction.atomic():
        use = BiometricUse.objects.select_for_update().get(pk=use.pk)
        if use.ended_at is not None:
            raise RuleViolation(f"Biometric use {use.pk} ended already, at {use.ended_at}.")
        if ended_at < use.started_at:
            raise InvalidInput(
                "The end of a use cannot precede its start (Art. 12(3)(a)).",
                fields={"ended_at": [f"Must be at or after {use.started_at.isoformat()}."]},
            )
        use.ended_at = ended_at
        use.save(update_fields=["ended_at"])
        receipt = record_event(
            actor=actor,
            event=events.BIOMETRIC_USE_ENDED,
            id=use.pk,
            data={"ended_at": ended_at.isoformat()},
        )
    return use, receipt


def biometric_match_record(
    *, actor: Principal, use: BiometricUse, input_sha256: str, input_reference: str = ""
) -> tuple[BiometricMatch, Receipt]:
    """Logs an identification of the use: the input data for which the search led to a
    match (Art. 12(3)(c)), by its SHA-256 (and where it is kept)."""
    same_org(actor, use.system)
    if len(input_sha256) != 64 or any(c not in "0123456789abcdef" for c in input_sha256):
        raise InvalidInput(
            "input_sha256 must be the SHA-256 of the input data, 64 lowercase hex digits.",
            fields={"input_sha256": ["64 lowercase hex digits."]},
        )
    with transaction.atomic():
        use = BiometricUse.objects.select_for_update().get(pk=use.pk)
        match = BiometricMatch(
            use=use,
            input_sha256=input_sha256,
            input_reference=input_reference,
            created_by=who(actor),
            ledger_seq=0,
        )
        match.save()
        receipt = record_event(
            actor=actor,
            event=events.BIOMETRIC_MATCH_RECORDED,
            id=use.pk,
            data={
                "match": str(match.pk),
                "input_sha256": input_sha256,
                **(
                    {"input_reference_sha256": text_sha256(input_reference)}
                    if input_reference
                    else {}
                ),
            },
        )
        match.ledger_seq = receipt.seq
        match.save(update_fields=["ledger_seq"])
    return match, receipt


def _confirmed_by(match: BiometricMatch) -> list[int]:
    return sorted(
        match.verifications.filter(outcome=BiometricVerification.Outcome.CONFIRMED)
        .values_list("verified_by_id", flat=True)
        .distinct()
    )


def biometric_match_verify(
    *, actor: Principal, match: BiometricMatch, outcome: str
) -> tuple[BiometricMatch, Receipt]:
    """One person's separate verification of a match (Art. 14(5)): signed in, in person,
    once per match; the entry names the person (Art. 12(3)(d))."""
    same_org(actor, match.use.system)
    if not actor.in_person:
        raise Forbidden(
            "Art. 14(5): an identification is verified by natural persons: sign in (an API "
            "key or an operator cannot verify)."
        )
    if actor.role not in VERIFIER_ROLES:
        raise Forbidden(
            f"The role '{actor.role}' cannot verify identifications; owners, compliance "
            "officers and ML engineers can (Art. 14(5))."
        )
    if outcome not in BiometricVerification.Outcome.values:
        raise InvalidInput(
            "outcome must be confirmed or not_confirmed.", fields={"outcome": ["Invalid."]}
        )
    with transaction.atomic():
        match = BiometricMatch.objects.select_for_update().get(pk=match.pk)
        if match.status == BiometricMatch.Status.ACTED_ON:
            raise RuleViolation(
                f"Match {match.pk} was acted on already: a verification now would not precede "
                "the action (Art. 14(5))."
            )
        if match.verifications.filter(verified_by=actor.user).exists():
            raise RuleViolation(
                f"You verified match {match.pk} already: Art. 14(5) asks for separate "
                "verifications by different persons."
            )
        verification = BiometricVerification.objects.create(
            match=match, verified_by=actor.user, role=actor.role, outcome=outcome, ledger_seq=0
        )
        required, _setting = selectors.verifications_required(system=match.use.system)
        receipt = record_event(
            actor=actor,
            event=events.BIOMETRIC_MATCH_VERIFIED,
            id=match.use_id,
            data={
                "match": str(match.pk),
                "outcome": outcome,
                "verified_by_user_id": str(actor.person_id),
                "role": actor.role,
                "confirmations": len(_confirmed_by(match)),
                "required": required,
            },
        )
        verification.ledger_seq = receipt.seq
        verification.save(update_fields=["ledger_seq"])
    return match, receipt


def biometric_match_act(
    *, actor: Principal, match: BiometricMatch, action: str
) -> tuple[BiometricMatch, Receipt]:
    """Records the action or decision taken on an identification, refused unless at
    least two distinct persons separately confirmed it (Art. 14(5)), or one where the
    user recorded that the second subparagraph's exception applies."""
    same_org(actor, match.use.system)
    if not action.strip():
        raise InvalidInput(
            "Say what action or decision is taken on the identification.",
            fields={"action": ["Required."]},
        )
    with transaction.atomic():
        match = BiometricMatch.objects.select_for_update().get(pk=match.pk)
        if match.status == BiometricMatch.Status.ACTED_ON:
            raise RuleViolation(f"Match {match.pk} was acted on already, at {match.acted_at}.")
        required, setting = selectors.verifications_required(system=match.use.system)
        confirmed = _confirmed_by(match)
        if len(confirmed) < required:
            source, _ = rules.DUAL_VERIFICATION
            raise RuleViolation(
                f"Refused under Art. 14(5): no action or decision may be taken on "
                f"identification {match.pk} unless it has been separately verified and "
                f"confirmed by at least {required} natural person(s) with the necessary "
                f"competence, training and authority; it has {len(confirmed)} distinct "
                f"confirmation(s). ({source}"
                + (
                    f"; the exception of {rules.DUAL_VERIFICATION_EXCEPTION_SOURCE} is recorded "
                    f"in setting version {setting.version})"
                    if setting is not None
                    else ")"
                )
            )
        match.status = BiometricMatch.Status.ACTED_ON
        match.action = action
        match.acted_by = who(actor)
        receipt = record_event(
            actor=actor,
            event=events.BIOMETRIC_MATCH_ACTED_ON,
            id=match.use_id,
            data={
                "match": str(match.pk),
                "action_sha256": text_sha256(action),
                "confirmed_by_user_ids": [str(pk) for pk in confirmed],
                "required": required,
                "exception_setting_version": setting.version if setting is not None else None,
            },
        )
        match.acted_at = timezone.now()
        match.save(update_fields=["status", "action", "acted_by", "acted_at"])
    return match, receipt


def _setting_problems(
    system: AISystem, exception_applies: bool, area: str, legal_basis: str
) -> dict[str, list[str]]:
    """What contradicts the classification or leaves the exception without its law."""
    problems: dict[str, list[str]] = {}
    if exception_applies:
        current = selectors.classification_current(system=system)
        in_area = bool(current and current.result.get("biometrics_law_enforcement_or_migration"))
        if not in_area:
            problems["exception_applies"] = [
                "Conflict: the exception of Art. 14(5), second subparagraph, is for law "
                "enforcement, migration, border control or asylum, but the system's "
                "classification answers that it is not used there "
                "(biometrics_law_enforcement_or_migration is false)."
            ]
        if area not in rules.DUAL_VERIFICATION_EXCEPTION_AREAS:
            problems["area"] = [
                "Must be one of: " + ", ".join(rules.DUAL_VERIFICATION_EXCEPTION_AREAS) + "."
            ]
        if not legal_basis.strip():
            problems["legal_basis"] = [
                "Name the Union or national law that considers the two-person verification "
                "disproportionate (Art. 14(5), second subparagraph)."
            ]
    elif area or legal_basis:
        problems["exception_applies"] = [
            "Conflict: an area or legal basis is given, but exception_applies is false."
        ]
    return problems


def dual_verification_setting_record(
    *,
    actor: Principal,
    system: AISystem,
    exception_applies: bool,
    area: str = "",
    legal_basis: str = "",
) -> tuple[DualVerificationSetting, Receipt]:
    """Records whether the Art. 14(5) second-subparagraph exception applies to the system:
    only for a point 1(a) system used in law enforcement, migration, border control or
    asylum, and only naming the Union or national law that considers the two-person
    rule disproportionate. Answers that contradict the classification are refused."""
    same_org(actor, system)
    _check_point_1a(system)
    problems = _setting_problems(system, exception_applies, area, legal_basis)
    if problems:
        raise InvalidInput(
            "The Art. 14(5) setting cannot be recorded: " + ", ".join(sorted(problems)) + ".",
            fields=problems,
        )
    with transaction.atomic():
        AISystem.objects.select_for_update().get(pk=system.pk)
        latest = DualVerificationSetting.objects.filter(system=system).aggregate(v=Max("version"))[
            "v"
        ]
        setting = DualVerificationSetting(
            system=system,
            version=(latest or 0) + 1,
            exception_applies=exception_applies,
            area=area,
            legal_basis=legal_basis,
            created_by=who(actor),
            ledger_seq=0,
        )
        data: dict[str, Any] = {
            "version": setting.version,
            "supersedes": latest,
            "exception_applies": exception_applies,
            "area": area,
        }
        if legal_basis:
            data["legal_basis_sha256"] = text_sha256(legal_basis)
        receipt = record_event(
            actor=actor, event=events.DUAL_VERIFICATION_SET, id=system.pk, data=data
        )
        setting.ledger_seq = receipt.seq
        setting.save()
    return setting, receipt
