"""Plain values that other apps hand to the ledger. No Django imports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Who caused an event: ``kind`` is "user", "api_key" or "system"."""

    kind: str
    id: str
    name: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id, "name": self.name}


@dataclass(frozen=True)
class Subject:
    """The record an event is about."""

    kind: str
    id: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id}


@dataclass(frozen=True)
class EntryDraft:
    """One event waiting to be sequenced; ``entries_append`` takes many."""

    type: str
    actor: Actor
    subject: Subject
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Receipt:
    """What a write response tells the caller about the entry that recorded it."""

    seq: int
    leaf_hash: str
    checkpoint_size: int

    def as_json(self) -> dict[str, int | str]:
        return {
            "seq": self.seq,
            "leaf_hash": self.leaf_hash,
            "checkpoint_size": self.checkpoint_size,
        }


def plain_json(value: Any) -> Any:
    """The same value with str and int subclasses (Django's TextChoices members, for
    one) turned into plain str and int, and record ids (UUIDs) into their text, which is
    all an entry's builder accepts."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, dict):
        return {plain_json(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    return value
