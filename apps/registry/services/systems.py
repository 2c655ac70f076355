"""AI systems: registering one, with its intended purpose, role and owner."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from apps.ledger.digests import text_sha256
from apps.ledger.types import Receipt
from apps.registry import events
from apps.registry.models import AISystem
from apps.tenancy.records import record_event
from apps.tenancy.selectors import member_user_by_email
from audit_platform.errors import Forbidden, RuleViolation
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
