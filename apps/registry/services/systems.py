"""AI systems: registering one, with its intended purpose, role and owner; its
lifecycle status; the provider facts its declaration of conformity states."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from apps.ledger.digests import text_sha256
from apps.ledger.types import Receipt
from apps.registry import events
from apps.registry.lifecycle import STATUS_TRANSITIONS, status_label
from apps.registry.models import AISystem
from apps.tenancy.records import record_event
from apps.tenancy.selectors import member_user_by_email
from audit_platform.errors import Forbidden, InvalidInput, RuleViolation
from audit_platform.principal import Principal


def ai_system_register(
    *, actor: Principal, name: str, intended_purpose: str, role: str, owner_email: str | None = None
) -> tuple[AISystem, Receipt]:
    if actor.system_ids is not None:
        raise Forbidden(
            "This API key is limited to some AI systems "
            f"({', '.join(map(str, sorted(actor.system_ids)))}): it cannot register new ones."
        )
    owner = member_user_by_email(organization=actor.organization, email=owner_email)
    try:
        with transaction.atomic():
            system = AISystem.objects.create(
                organization=actor.organization,
                name=name,
                intended_purpose=intended_purpose,
                role=role,
                owner=owner,
            )
            receipt = record_event(
                actor=actor,
                event=events.AI_SYSTEM_REGISTERED,
                id=system.pk,
                data={
                    "name": name,
                    "role": role,
                    "status": system.status,
                    "intended_purpose_sha256": text_sha256(intended_purpose),
                    "owner_user_id": str(owner.pk) if owner else None,
                },
            )
    except IntegrityError:
        raise RuleViolation(
            f"An AI system named {name!r} already exists in this organization."
        ) from None
    return system, receipt


def ai_system_status_change(
    *, actor: Principal, system: AISystem, status: str, reason: str
) -> tuple[AISystem, Receipt]:
    """Moves the system along its lifecycle (``apps/registry/lifecycle.py``), with the
    reason on the ledger. A move the lifecycle does not allow is refused (409)."""
    if not reason.strip():
        raise InvalidInput("A status change needs a reason.", fields={"reason": ["Required."]})
    if status not in STATUS_TRANSITIONS:
        raise InvalidInput(
            f"Unknown status {status!r}; one of: {', '.join(STATUS_TRANSITIONS)}.",
            fields={"status": ["Unknown status."]},
        )
    with transaction.atomic():
        system = AISystem.objects.select_for_update().get(pk=system.pk)
        allowed = STATUS_TRANSITIONS[system.status]
        if status not in allowed:
            options = ", ".join(sorted(allowed)) or "nothing (it is final)"
            raise RuleViolation(
                f"AI system {system.pk} is {status_label(system.status)}: it may move to "
                f"{options}, not to {status}."
            )
        before = system.status
        system.status = status
        system.save(update_fields=["status"])
        receipt = record_event(
            actor=actor,
            event=events.AI_SYSTEM_STATUS_CHANGED,
            id=system.pk,
            data={"from": before, "to": status, "reason": reason},
        )
    return system, receipt


def ai_system_provider_record(
    *,
    actor: Principal,
    system: AISystem,
    provider_name: str,
    provider_address: str,
    data_protection_statement: str = "",
) -> tuple[AISystem, Receipt]:
    """Records the provider's name and postal address and the data-protection statement
    that the declaration of conformity states (Annex V points 2 and 5)."""
    if not provider_name.strip() or not provider_address.strip():
        raise InvalidInput(
            "The declaration of conformity names the provider with its address: give both.",
            fields={
                name: ["Required."]
                for name, value in (
                    ("provider_name", provider_name),
                    ("provider_address", provider_address),
                )
                if not value.strip()
            },
        )
    with transaction.atomic():
        system = AISystem.objects.select_for_update().get(pk=system.pk)
        system.provider_name = provider_name.strip()
        system.provider_address = provider_address.strip()
        system.data_protection_statement = data_protection_statement.strip()
        system.save(
            update_fields=["provider_name", "provider_address", "data_protection_statement"]
        )
        receipt = record_event(
            actor=actor,
            event=events.AI_SYSTEM_PROVIDER_RECORDED,
            id=system.pk,
            data={
                "provider_name": system.provider_name,
                "provider_address": system.provider_address,
                "data_protection_statement_sha256": (
                    text_sha256(system.data_protection_statement)
                    if system.data_protection_statement
                    else None
                ),
            },
        )
    return system, receipt
