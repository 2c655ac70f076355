from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.tenancy import services
from audit_platform.errors import ServiceError
from audit_platform.principal import Principal
from audit_platform.roles import Role


class Command(BaseCommand):
    help = "Creates an organization with its ledger, and optionally its first owner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email")

    def handle(
        self, *args: Any, slug: str, name: str, owner_email: str | None, **options: Any
    ) -> None:
        try:
            with transaction.atomic():
                organization = services.organization_create(slug=slug, name=name)
                if owner_email:
                    services.membership_add(
                        organization=organization,
                        email=owner_email,
                        role=Role.OWNER,
                        actor=Principal.system(organization=organization, name="create_org"),
                    )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"created organization {organization.slug} ({organization.ledger_log.origin})"
        )
