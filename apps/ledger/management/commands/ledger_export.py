from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.ledger.export import bundle_write
from apps.ledger.management.commands._org import organization_or_error
from apps.ledger.selectors import log_for
from audit_platform.errors import ServiceError


class Command(BaseCommand):
    help = "Writes an organization's export bundle (ZIP) for offline verification."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True)
        parser.add_argument("-o", "--output", required=True, type=Path)
        parser.add_argument(
            "--size", type=int, help="tree size of a stored checkpoint (default: latest)"
        )
        parser.add_argument("--all-checkpoints", action="store_true")

    def handle(
        self,
        *args: Any,
        org: str,
        output: Path,
        size: int | None,
        all_checkpoints: bool,
        **options: Any,
    ) -> None:
        log = log_for(organization=organization_or_error(org))
        partial = output.with_name(output.name + ".partial")
        try:
            with partial.open("wb") as fileobj:
                written = bundle_write(
                    log=log, fileobj=fileobj, size=size, every_checkpoint=all_checkpoints
                )
        except ServiceError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(exc.message) from None
        partial.replace(output)
        self.stdout.write(f"wrote {output} ({log.origin}, {written} entries)")
