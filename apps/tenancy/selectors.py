"""Reads of organizations and their memberships."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.tenancy.models import ApiKey, Membership, Organization
from audit_platform.errors import InvalidInput, NotFound
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


def member_user_by_email(
    *, organization: Organization, email: str | None, field: str = "owner_email"
) -> Any | None:
    """The user of the organization's member with this e-mail (case-insensitive); None
    when no e-mail is given. An e-mail of nobody in the organization is bad input on
    ``field``."""
    if not email:
        return None
    membership = (
        Membership.objects.select_related("user")
        .filter(organization=organization, user__email__iexact=email)
        .first()
    )
    if membership is None:
        raise InvalidInput(
            f"{email} is not a member of this organization.", fields={field: ["Not a member."]}
        )
    return membership.user


def organization_policy(*, organization: Organization) -> dict[str, Any]:
    """The organization's policy settings, as the deployment gate reads them."""
    row = Organization.objects.values(
        "unapproved_on_high_risk",
        "allow_unclassified_activation",
        "required_assessments",
        "require_model_signature",
    ).get(pk=organization.pk)
    return dict(row)


def memberships_of_user(*, user: Any) -> QuerySet[Membership]:
    """The person's memberships with their organizations, in the organizations' order."""
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name", "organization__slug")
    )


def api_keys_of(*, organization: Organization) -> QuerySet[ApiKey]:
    """The organization's API keys, the newest first."""
    return ApiKey.objects.filter(organization=organization).order_by("-created_at", "-pk")
