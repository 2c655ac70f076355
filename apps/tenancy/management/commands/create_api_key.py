from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.tenancy import selectors, services
from audit_platform.errors import ServiceError
from audit_platform.principal import Principal
from audit_platform.roles import Role


class Command(BaseCommand):
    help = "Creates an API key and prints only the key, so scripts can capture it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--name", default="")

    def handle(self, *args: Any, org: str, role: str, name: str, **options: Any) -> None:
        try:
            organization = selectors.organization_by_slug(slug=org)
            _, secret, _ = services.api_key_create(
                organization=organization,
                role=role,
                name=name,
                actor=Principal.system(organization=organization, name="create_api_key"),
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(secret)
