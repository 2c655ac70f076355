from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from apps.tenancy import services
from apps.tenancy.models import Organization
from audit_platform.principal import Principal
from audit_platform.roles import Role

DEMO_SLUG = "demo"


class Command(BaseCommand):
    help = "Creates (once) the demo organization and an admin login, and prints how to log in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, url: str, **options: Any) -> None:
        user_model = get_user_model()
        password = None
        with transaction.atomic():
            organization = Organization.objects.filter(slug=DEMO_SLUG).first()
            if organization is None:
                organization = services.organization_create(
                    slug=DEMO_SLUG, name="Demo Organization"
                )
            admin = user_model.objects.filter(username="admin").first()
            if admin is None:
                password = secrets.token_urlsafe(12)
                admin = user_model.objects.create_superuser(
                    username="admin", email="admin@example.invalid", password=password
                )
                services.membership_add(
                    organization=organization,
                    email=admin.email,
                    role=Role.OWNER,
                    actor=Principal.system(organization=organization, name="setup_demo"),
                )
        self.stdout.write(f"Log in at {url}/admin/ as 'admin'")
        self.stdout.write(f"  the same login opens the web UI at {url}/")
        self.stdout.write(
            f"  the admin asks for a second factor: set up an authenticator at "
            f"{url}/account/two-factor/ first"
        )
        if password:
            self.stdout.write(
                f"  password: {password}   (shown once; reset: manage.py changepassword admin)"
            )
        self.stdout.write(f"API docs at {url}/api/docs/  ·  health at {url}/healthz")
