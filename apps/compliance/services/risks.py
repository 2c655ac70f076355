"""The risk register (Art. 9): risks of a system, their owners and revisions."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from apps.compliance import events
from apps.compliance.models import Risk
from apps.compliance.services._common import same_org
from apps.ledger.digests import text_sha256
from apps.ledger.types import Receipt
from apps.registry.models import AISystem
from apps.tenancy.records import record_event, record_ref
from apps.tenancy.selectors import member_user_by_email
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal

RISK_FIELDS = (
    "hazard",
    "affected_persons",
    "likelihood",
    "severity",
    "mitigation",
    "residual_risk",
    "owner",
    "review_date",
    "status",
)
RISK_TEXT_FIELDS = ("hazard", "affected_persons", "mitigation")


def _risk_data(risk: Risk) -> dict[str, Any]:
    data: dict[str, Any] = {f"{f}_sha256": text_sha256(getattr(risk, f)) for f in RISK_TEXT_FIELDS}
    data.update(
        {
            "likelihood": risk.likelihood,
            "severity": risk.severity,
            "residual_risk": risk.residual_risk,
            "owner_user_id": str(risk.owner_id) if risk.owner_id else None,
            "review_date": risk.review_date.isoformat(),
            "status": risk.status,
            "revision": risk.revision,
        }
    )
    return data


def risk_create(
    *,
    actor: Principal,
    system: AISystem,
    hazard: str,
    affected_persons: str,
    likelihood: str,
    severity: str,
    residual_risk: str,
    review_date: date,
    mitigation: str = "",
    owner_email: str | None = None,
) -> tuple[Risk, Receipt]:
    same_org(actor, system)
    owner = member_user_by_email(organization=actor.organization, email=owner_email)
    with transaction.atomic():
        risk = Risk.objects.create(
            system=system,
            hazard=hazard,
            affected_persons=affected_persons,
            likelihood=likelihood,
            severity=severity,
            mitigation=mitigation,
            residual_risk=residual_risk,
            owner=owner,
            review_date=review_date,
        )
        receipt = record_event(
            actor=actor,
            event=events.RISK_CREATED,
            id=risk.pk,
            data={**_risk_data(risk), "parent": record_ref("ai_system", system)},
        )
    return risk, receipt


def risk_update(*, actor: Principal, risk: Risk, changes: dict[str, Any]) -> tuple[Risk, Receipt]:
    """Changes some fields of a risk; the entry names what changed and the new state."""
    if "owner_email" in changes:
        # The caller names the owner by e-mail; the risk holds the member's user.
        changes = dict(changes)
        changes["owner"] = member_user_by_email(
            organization=actor.organization, email=changes.pop("owner_email")
        )
    unknown = sorted(set(changes) - set(RISK_FIELDS))
    if unknown:
        raise InvalidInput(
            "Unknown risk fields: " + ", ".join(unknown) + ".",
            fields={name: ["Unknown field."] for name in unknown},
        )
    if not changes:
        raise InvalidInput("Nothing to change.", fields={"non_field_errors": ["No changes."]})
    with transaction.atomic():
        risk = Risk.objects.select_for_update().get(pk=risk.pk)
        changed = sorted(name for name, value in changes.items() if getattr(risk, name) != value)
        if not changed:
            raise RuleViolation(f"Risk {risk.pk} already has these values.")
        for name in changed:
            setattr(risk, name, changes[name])
        risk.revision += 1
        risk.save()
        receipt = record_event(
            actor=actor,
            event=events.RISK_UPDATED,
            id=risk.pk,
            data={**_risk_data(risk), "changed": changed},
        )
    return risk, receipt
