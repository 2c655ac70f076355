"""What ``manage.py demo`` prints at the end: where to look, who to log in as, and how
to check the evidence offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.demo.people import Person, totp_secret_base32
from apps.monitoring import selectors as monitoring_selectors
from apps.registry import selectors as registry_selectors

ROLE_WORDS = {
    "owner": "owner (everything; approvals need the code)",
    "ml_engineer": "ML engineer (records the pipeline's steps)",
    "compliance_officer": "compliance officer (approves, incidents; needs the code)",
    "auditor": "auditor (reads, verifies, exports)",
}


def summary_lines(
    *,
    organization: Any,
    people: dict[str, Person],
    url: str,
    seconds: float | None,
    story: Any = None,
) -> Iterator[str]:
    if seconds is not None:
        yield f"The demo story was told in {seconds:.0f} s."
    yield f"Open {url}/ and log in with an e-mail address below ({organization.name}):"
    for role, person in people.items():
        password = person.password or "(shown when first made; --new-passwords)"
        yield f"  {person.email:28} {password:24} {ROLE_WORDS[role]}"
    yield (
        f"  Second factor: add the TOTP secret {totp_secret_base32()} to an authenticator "
        "app, or print the current code with: .venv/bin/python manage.py demo_totp"
    )
    system = registry_selectors.systems_of_organization(organization=organization).first()
    if system is not None:
        yield f"The story: {url}/systems/{system.pk}/"
    for alert in monitoring_selectors.alerts_open(organization=organization):
        yield f"  open {alert.kind} alert ({alert.severity}) on the dashboard: {url}/"
    bundle = Path(settings.VAR_DIR) / "demo" / f"{organization.slug}-ledger.zip"
    if bundle.exists():
        yield f"Export bundle: {bundle}"
        yield f"  check it offline: python -m apps.ledger.offline_verifier {bundle}"
        yield "  (docs/guides/auditor-offline-verification.md walks an auditor through it)"
    else:
        yield "The story is incomplete (no export bundle): an earlier run stopped part-way."
    if story is not None and story.receiver is not None:
        yield (
            f"The bank's CI received {len(story.receiver.signed('retrain'))} signed retraining "
            f"request(s) and its alert channel {len(story.receiver.signed('alerts'))} alert(s)."
        )
