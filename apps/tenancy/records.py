"""Putting an actor's change on its organization's ledger: the helper every domain
service calls as the last step of its transaction."""

from __future__ import annotations

from typing import Any

from apps.ledger import services as ledger
from apps.ledger.events import EventType, UndeclaredEvent
from apps.ledger.types import Receipt, Subject, plain_json
from audit_platform.principal import Principal


def record_event(*, actor: Principal, event: EventType, id: Any, data: dict[str, Any]) -> Receipt:
    """Appends ``event`` about its subject kind's record ``id``, acted by ``actor``.

    Raises ``UndeclaredEvent`` (a programming error, before anything is written) for
    an event type that was not declared or a payload whose keys are not its fields."""
    if not isinstance(event, EventType):
        raise UndeclaredEvent(f"{event!r} is not a declared event type.")
    event.check(data)
    return ledger.entry_append(
        organization=actor.organization,
        actor=actor.ledger_actor,
        type=event.name,
        subject=Subject(kind=event.subject, id=str(id)),
        data=plain_json(data),
    )


def record_ref(kind: str, obj: Any) -> dict[str, str] | None:
    """How an entry's payload points at another record: ``{"kind", "id"}``."""
    return None if obj is None else {"kind": kind, "id": str(obj.pk)}
