"""Shared by the ledger commands: find the organization named by --org."""

from __future__ import annotations

from django.core.management.base import CommandError

from apps.tenancy.models import Organization


def organization_or_error(slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise CommandError(f"no organization with slug {slug!r}")
    return organization
