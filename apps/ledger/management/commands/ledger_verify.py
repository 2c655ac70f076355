from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.ledger.management.commands._org import organization_or_error
from apps.ledger.selectors import log_for
from apps.ledger.stored_log_check import log_verify


class Command(BaseCommand):
    help = "Re-derives an organization's log from its stored entries; exit 1 on the first problem."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True)

    def handle(self, *args: Any, org: str, **options: Any) -> None:
        result = log_verify(log=log_for(organization=organization_or_error(org)))
        if not result.ok:
            raise CommandError(result.summary())
        self.stdout.write(result.summary())
