"""Helpers the registry's services share: digest checks, the same-system rule,
uploaded-artifact look-ups, and creating a record named uniquely under its system.
Private to this package; other apps call the services in ``apps.registry.services``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import IntegrityError, transaction

from apps.ledger.events import EventType
from apps.ledger.types import Receipt
from apps.registry import selectors
from apps.registry.models import AISystem, Artifact, Dataset, Model
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def require_sha256(value: str, field: str) -> str:
    if not isinstance(value, str) or not SHA256_HEX.match(value):
        raise InvalidInput(
            f"{field} must be 64 lowercase hexadecimal characters (a SHA-256).",
            fields={field: ["Not a lowercase hex SHA-256."]},
        )
    return value


def same_system(items: Sequence[Any], system: AISystem, field: str, describe: str) -> None:
    for item in items:
        if selectors.system_of(item).pk != system.pk:
            raise RuleViolation(
                f"{describe} {item.pk} belongs to another AI system than this one ({field})."
            )


def uploaded_artifact(*, organization: Any, sha256: str, field: str) -> Artifact:
    artifact = Artifact.objects.filter(organization=organization, sha256=sha256).first()
    if artifact is None:
        raise InvalidInput(
            f"No uploaded artifact has SHA-256 {sha256}; upload it to /api/v1/artifacts/ first.",
            fields={field: ["No such uploaded artifact."]},
        )
    return artifact


NamedUnderSystem = TypeVar("NamedUnderSystem", Dataset, Model)


def named_under_system_create(
    *,
    model_class: type[NamedUnderSystem],
    event: EventType,
    actor: Principal,
    system: AISystem,
    name: str,
    description: str,
) -> tuple[NamedUnderSystem, Receipt]:
    """A dataset or a model: a name unique within its system, recorded as created."""
    try:
        with transaction.atomic():
            created = model_class.objects.create(system=system, name=name, description=description)
            receipt = record_event(
                actor=actor,
                event=event,
                id=created.pk,
                data={"name": name, "parent": record_ref("ai_system", system)},
            )
    except IntegrityError:
        raise RuleViolation(
            f"System {system.pk} already has a {event.subject} named {name!r}."
        ) from None
    return created, receipt
