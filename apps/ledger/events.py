"""The vocabulary of the ledger: every event type, declared once with its subject and
the keys of its payload. No Django imports.

Each app declares the events it writes in its own ``events.py`` as module constants
(``DATASET_CREATED = declare(...)``) and hands them to ``tenancy.records.record_event``,
which refuses a type that was not declared and a payload whose keys are not the
declared ones. ``docs/events.md`` is rendered from these declarations
(``manage.py events_doc``); ``LedgerConfig.ready`` imports every app's ``events``
module, so the vocabulary is complete once Django has started.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# The ledger format's rule for an entry's type (specs/ledger-format.md §2).
_TYPE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")


class UndeclaredEvent(ValueError):
    """A programming error: an event type, or a payload key, that was never declared."""


@dataclass(frozen=True)
class Section:
    """A part of ``docs/events.md``: its heading, place, and the prose before (``intro``)
    and after (``notes``) its table of events."""

    title: str
    order: int
    intro: str = ""
    notes: str = ""


@dataclass(frozen=True)
class PayloadField:
    """One key of an event's ``data``. An optional key may be left out of a payload."""

    description: str = ""
    optional: bool = False


def optional(description: str = "") -> PayloadField:
    return PayloadField(description=description, optional=True)


@dataclass(frozen=True)
class EventType:
    """One declared event: its ``name`` (the entry's ``type``), the ``subject`` kind it
    is about and what that subject's id is, the ordered ``fields`` of its payload, and
    a one-line ``doc`` for what the table cannot say."""

    name: str
    subject: str
    section: Section
    fields: Mapping[str, PayloadField] = field(default_factory=dict)
    subject_id: str = "id"
    doc: str = ""

    def check(self, data: Mapping[str, Any]) -> None:
        """Refuses a payload that is not this event's: a key missing or not declared."""
        if _declared.get(self.name) is not self:
            raise UndeclaredEvent(f"Event type {self.name!r} is not declared.")
        keys = set(data)
        unknown = sorted(keys - self.fields.keys())
        missing = [k for k, f in self.fields.items() if not f.optional and k not in keys]
        if unknown or missing:
            raise UndeclaredEvent(
                f"{self.name}: payload keys not declared: {unknown}; declared keys missing: "
                f"{missing}."
            )


_declared: dict[str, EventType] = {}
_sections: dict[str, Section] = {}


def declare_section(*, title: str, order: int, intro: str = "", notes: str = "") -> Section:
    """A section of ``docs/events.md``; one with no events is rendered as prose only."""
    section = Section(title=title, order=order, intro=intro.strip(), notes=notes.strip())
    if title in _sections:
        raise ValueError(f"Section {title!r} is declared twice.")
    _sections[title] = section
    return section


def declare(
    name: str,
    *,
    subject: str,
    section: Section,
    fields: Mapping[str, str | PayloadField],
    subject_id: str = "id",
    doc: str = "",
) -> EventType:
    """Declares an event type; ``fields`` maps each payload key, in the order the docs
    list them, to its description (or to ``optional(description)``)."""
    if not _TYPE.fullmatch(name):
        raise ValueError(f"{name!r} is not an entry type (lowercase dotted).")
    if name in _declared:
        raise ValueError(f"Event type {name!r} is declared twice.")
    if _sections.get(section.title) is not section:
        raise ValueError(f"{name}: section {section.title!r} is not declared.")
    event = EventType(
        name=name,
        subject=subject,
        section=section,
        fields=MappingProxyType(
            {
                key: spec if isinstance(spec, PayloadField) else PayloadField(description=spec)
                for key, spec in fields.items()
            }
        ),
        subject_id=subject_id,
        doc=doc,
    )
    _declared[name] = event
    return event


def declared() -> list[EventType]:
    """Every declared event type, in declaration order."""
    return list(_declared.values())


def event_type(name: str) -> EventType:
    """The declared event type of this name."""
    try:
        return _declared[name]
    except KeyError:
        raise UndeclaredEvent(f"Event type {name!r} is not declared.") from None


# --- docs/events.md -----------------------------------------------------------------------

TENANCY_AND_LEDGER = declare_section(title="Tenancy and ledger", order=10)

LEDGER_KEY_ROTATED = declare(
    "ledger_key.rotated",
    subject="ledger_key",
    subject_id="new key id (8 hex)",
    section=TENANCY_AND_LEDGER,
    fields={"vkey": "new", "old_vkey": ""},
    doc="the checkpoint covering it is signed by both keys",
)

_PAGE_INTRO = """\
# Ledger event types

<!-- Generated from the apps' events.py declarations by `python manage.py events_doc`;
edit those, not this page. -->

Every state change puts one entry on the organization's ledger, in the same
transaction as the change. This page lists each event's `type`, its `subject`
(`{"kind", "id"}`) and the keys of its `data`. The entry format itself is
`specs/ledger-format.md`. Entries never hold personal data: people appear as user
ids, texts as SHA-256 digests of their UTF-8 bytes, JSON documents (schemas,
datasheets, statistics) as SHA-256 of their RFC 8785 bytes (`*_sha256`), so the
record commits to them while the documents themselves stay erasable.

`actor` is `{"kind": "user" | "api_key" | "system", "id", "name"}`: a user's id
and role, an API key's visible prefix and name, or the command or worker that acted.
References to other records are `{"kind", "id"}` objects (`parent` is the record
this one derives from). A key marked "optional" may be absent from the payload."""


def _data_cell(event: EventType) -> str:
    keys = []
    for key, spec in event.fields.items():
        description = spec.description
        if spec.optional:
            description = f"optional: {description}" if description else "optional"
        keys.append(f"`{key}` ({description})" if description else f"`{key}`")
    cell = ", ".join(keys) or "(none)"
    return f"{cell}; {event.doc}" if event.doc else cell


def events_doc() -> str:
    """The text of ``docs/events.md``, rendered from the declared sections and events."""
    parts = [_PAGE_INTRO]
    for section in sorted(_sections.values(), key=lambda s: s.order):
        parts.append(f"## {section.title}")
        if section.intro:
            parts.append(section.intro)
        events = [e for e in _declared.values() if e.section is section]
        if events:
            rows = [
                f"| `{e.name}` | `{e.subject}` / {e.subject_id} | {_data_cell(e)} |" for e in events
            ]
            parts.append("\n".join(["| type | subject | data |", "|---|---|---|", *rows]))
        if section.notes:
            parts.append(section.notes)
    return "\n\n".join(parts) + "\n"
