"""Reads of organizations and their memberships."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.tenancy.models import Membership, Organization
from audit_platform.errors import NotFound
from audit_platform.roles import ROLE_CAPABILITIES, Capability


def organization_by_slug(*, slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise NotFound(f"No organization with slug {slug!r}.")
    return organization


def memberships_of(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user")


def organization_ids_where(*, user: Any, capability: Capability) -> list[int]:
    """Ids of the organizations in which the user's membership grants ``capability``."""
    return [
        organization_id
        for organization_id, role in Membership.objects.filter(user=user).values_list(
            "organization_id", "role"
        )
        if capability in ROLE_CAPABILITIES.get(role, frozenset())
    ]
