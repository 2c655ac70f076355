"""Helpers every compliance service uses: who acted, and that a system is the actor's."""

from __future__ import annotations

from apps.registry.models import AISystem
from audit_platform.errors import RuleViolation
from audit_platform.principal import Principal


def who(actor: Principal) -> str:
    """The actor as rows name their creator (created_by, requested_by)."""
    return f"{actor.kind}:{actor.id}"


def same_org(actor: Principal, system: AISystem) -> None:
    """Refuses a system of another organization than the actor's."""
    if system.organization_id != actor.organization.pk:
        raise RuleViolation("That AI system belongs to another organization.")
