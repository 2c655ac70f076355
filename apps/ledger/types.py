"""Plain values that other apps hand to the ledger. No Django imports."""

from __future__ import annotations

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
