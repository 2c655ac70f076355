from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.ledger.management.commands._org import organization_or_error
from apps.ledger.services import signing_key_rotate
from apps.ledger.types import Actor


class Command(BaseCommand):
    help = "Replaces an organization's log signing key; the covering checkpoint is signed by both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True)

    def handle(self, *args: Any, org: str, **options: Any) -> None:
        key = signing_key_rotate(
            organization=organization_or_error(org),
            actor=Actor(kind="system", id="ledger_rotate_key", name="ledger_rotate_key"),
        )
        self.stdout.write(f"new verifier key: {key.vkey}")
