"""Putting an actor's change on its organization's ledger: the helper every domain
service calls as the last step of its transaction."""

from __future__ import annotations

from typing import Any

from apps.ledger import services as ledger
from apps.ledger.types import Receipt, Subject, plain_json
from audit_platform.principal import Principal


def record_event(
    *, actor: Principal, type: str, kind: str, id: Any, data: dict[str, Any]
) -> Receipt:
    """Appends the event about record ``kind``/``id``, acted by ``actor``."""
    return ledger.entry_append(
        organization=actor.organization,
        actor=actor.ledger_actor,
        type=type,
        subject=Subject(kind=kind, id=str(id)),
        data=plain_json(data),
    )


def record_ref(kind: str, obj: Any) -> dict[str, str] | None:
    """How an entry's payload points at another record: ``{"kind", "id"}``."""
    return None if obj is None else {"kind": kind, "id": str(obj.pk)}
