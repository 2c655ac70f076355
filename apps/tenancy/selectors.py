"""Reads of organizations and their memberships."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.tenancy.models import Membership, Organization
from audit_platform.errors import NotFound


def organization_by_slug(*, slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise NotFound(f"No organization with slug {slug!r}.")
    return organization


def memberships_of(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user")
