from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.compliance.rules import DOC_END, DOC_START, rules_markdown


def compliance_page(text: str) -> str:
    """docs/compliance.md with its generated rules section replaced by the rules as
    they are in apps/compliance/rules.py."""
    if DOC_START not in text or DOC_END not in text:
        raise CommandError(f"docs/compliance.md lacks the markers {DOC_START!r} … {DOC_END!r}.")
    head, rest = text.split(DOC_START, 1)
    _, tail = rest.split(DOC_END, 1)
    return head + rules_markdown() + tail


class Command(BaseCommand):
    help = (
        "Writes the rules section of docs/compliance.md from apps/compliance/rules.py "
        "(--check: only compare)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Fail if docs/compliance.md is not up to date."
        )

    def handle(self, *args: Any, check: bool, **options: Any) -> None:
        path = Path(settings.BASE_DIR) / "docs" / "compliance.md"
        current = path.read_text(encoding="utf-8")
        text = compliance_page(current)
        if check:
            if current != text:
                raise CommandError(f"{path} differs from the rules; run manage.py compliance_doc.")
            self.stdout.write(f"{path} is up to date.")
            return
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {path}")
