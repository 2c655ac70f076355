from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.tenancy import selectors, services
from audit_platform.errors import ServiceError
from audit_platform.principal import Principal
from audit_platform.roles import Role


class Command(BaseCommand):
    help = (
        "Creates an API key and prints only the key, so scripts can capture it. Every key "
        "names the member answerable for it (--answerable-email): separation of duties "
        "treats what the key does as that person's doing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--answerable-email",
            required=True,
            help="E-mail of the member answerable for the key.",
        )
        parser.add_argument(
            "--system-id",
            type=str,
            action="append",
            dest="system_ids",
            help="Limit the key to this AI system (repeat for several); default: all.",
        )

    def handle(
        self,
        *args: Any,
        org: str,
        role: str,
        name: str,
        answerable_email: str,
        system_ids: list[str] | None,
        **options: Any,
    ) -> None:
        try:
            organization = selectors.organization_by_slug(slug=org)
            person = selectors.member_user_by_email(
                organization=organization, email=answerable_email, field="answerable_email"
            )
            _, secret, _ = services.api_key_create(
                organization=organization,
                role=role,
                name=name,
                actor=Principal.system(organization=organization, name="create_api_key"),
                answerable=person,
                system_ids=system_ids,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(secret)
