"""System checks of the reports app."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def report_timestamp_check(**kwargs: Any) -> list[checks.CheckMessage]:
    """``check --deploy``: without a time-stamping authority, report signatures carry no
    timestamp and cannot be validated once the signing certificate expires, while
    Art. 18 keeps the documentation for ten years."""
    if settings.REPORT_TSA_URL:
        return []
    return [
        checks.Warning(
            "REPORT_TSA_URL is not set: report signatures carry no RFC 3161 timestamp "
            "and no validation data (PAdES baseline-B), so they cannot be validated "
            "after the signing certificate expires.",
            hint="Set REPORT_TSA_URL to your time-stamping authority (and "
            "REPORT_TRUST_ROOTS to its root certificate); see docs/reports.md.",
            id="reports.W001",
        )
    ]
