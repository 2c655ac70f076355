from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.tenancy import services


class Command(BaseCommand):
    help = (
        "Deletes the stored answers to Idempotency-Key writes older than "
        "IDEMPOTENCY_RETENTION_HOURS (celery beat does this hourly)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        purged = services.idempotency_records_purge()
        self.stdout.write(
            f"purged {purged} idempotency record(s) older than "
            f"{settings.IDEMPOTENCY_RETENTION_HOURS} hours"
        )
