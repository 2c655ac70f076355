"""``manage.py demo``: the credit-scoring story of apps/demo/story.py, told once."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings

from apps.demo import story as demo
from apps.demo.people import passwords_renew, people_of
from apps.demo.summary import summary_lines
from apps.ledger.selectors import log_for
from apps.ledger.stored_log_check import log_verify
from apps.tenancy.models import Organization


class Command(BaseCommand):
    help = (
        "Builds the demo organization's credit-scoring story through the services users "
        "use, once; run again, it prints the summary and verifies the ledger."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument(
            "--new-passwords",
            action="store_true",
            help="Give the demo people new passwords (printed) when the story exists.",
        )

    def handle(self, *args: Any, url: str, new_passwords: bool, **options: Any) -> None:
        organization = Organization.objects.filter(slug=demo.ORGANIZATION_SLUG).first()
        if organization is not None:
            people = people_of(organization=organization)
            if new_passwords:
                people = passwords_renew(people=people)
            self.stdout.write(f"The demo organization {demo.ORGANIZATION_SLUG!r} exists already.")
            self._finish(organization=organization, people=people, url=url, seconds=None)
            return
        started = time.monotonic()
        story = self._tell()
        self._finish(
            organization=story.organization,
            people=story.people,
            url=url,
            seconds=time.monotonic() - started,
            story=story,
        )

    def _tell(self) -> demo.Story:
        # The demo's webhook receiver (the bank's alert channel and CI) listens on
        # loopback in this process, which monitoring refuses outside DEBUG otherwise.
        with override_settings(MONITORING_WEBHOOK_ALLOW_LOOPBACK=True):
            # Each task's "succeeded" line would bury the progress lines.
            logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
            story = demo.organization_found()
            try:
                for number, (title, step) in enumerate(demo.STEPS, start=1):
                    began = time.monotonic()
                    self.stdout.write(f"[{number:2d}/{len(demo.STEPS)}] {title} ...", ending="")
                    self.stdout.flush()
                    try:
                        step(story)
                    except Exception:
                        self.stderr.write(
                            f"\nThe demo stopped at step {number} ({title}); what came before "
                            "stays on the ledger. Start again with an empty database (a new "
                            "VAR_DIR on the embedded default)."
                        )
                        raise
                    self.stdout.write(f" done ({time.monotonic() - began:.1f} s)")
            finally:
                if story.receiver is not None:
                    story.receiver.close()
        return story

    def _finish(
        self,
        *,
        organization: Organization,
        people: dict[str, Any],
        url: str,
        seconds: float | None,
        story: demo.Story | None = None,
    ) -> None:
        result = log_verify(log=log_for(organization=organization))
        for line in summary_lines(
            organization=organization, people=people, url=url, seconds=seconds, story=story
        ):
            self.stdout.write(line)
        if not result.ok:
            raise CommandError(result.summary())
        self.stdout.write(f"Ledger verified: {result.summary()}")
