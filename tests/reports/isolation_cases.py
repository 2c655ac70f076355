"""Isolation cases for the report routes (see tests/api_routes.py)."""

from __future__ import annotations

from typing import Any

from apps.reports import services
from tests import factories
from tests.api_routes import DETAIL, RouteCase

VICTIM_SHA256 = "5e" * 32


def victim(org) -> dict[str, Any]:
    """A queued report about one of the victim's systems (not rendered: the isolation
    test makes a victim for every route), with a digest on it for the verify case."""
    system = factories.AISystemFactory(organization=org, name="Victim reporting system")
    report, _ = services.report_request(
        actor=factories.tests_actor(org), kind="annex_iv", system=system
    )
    type(report).objects.filter(pk=report.pk).update(
        status="succeeded", sha256=VICTIM_SHA256, ledger_seq=1, pdf="reports/victim.pdf"
    )
    return {"report": report, "report_system": system}


def secrets(objects: dict[str, Any]) -> list[str]:
    # The digest is not listed: the verify answer echoes the digest its caller sent.
    return ["Victim reporting system", "reports/victim.pdf"]


CASES = {
    "report-list": RouteCase("get", lambda v: {}, 200),
    "report-detail": RouteCase("get", lambda v: {"pk": v["report"].pk}, DETAIL),
    "report-download": RouteCase("get", lambda v: {"pk": v["report"].pk}, DETAIL),
    "report-records": RouteCase("get", lambda v: {"pk": v["report"].pk}, DETAIL),
    # Another organization's digest is simply unknown here; the answer names nothing.
    "report-verify": RouteCase("post", lambda v: {}, 200, body={"sha256": VICTIM_SHA256}),
}
