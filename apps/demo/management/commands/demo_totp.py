"""``manage.py demo_totp``: the current code of the demo people's authenticator."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.demo.people import totp_code_now


class Command(BaseCommand):
    help = "Prints the current TOTP code of the demo logins (owner and compliance officer)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(totp_code_now())
