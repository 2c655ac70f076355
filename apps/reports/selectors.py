"""Reads of reports: finding the report a PDF's digest belongs to."""

from __future__ import annotations

from typing import Any

from apps.reports.models import Report


def report_by_sha256(*, organization: Any, sha256: str) -> Report | None:
    """The report of this organization whose signed file has this digest, if any."""
    return (
        Report.objects.filter(
            organization=organization, sha256=sha256, status=Report.Status.SUCCEEDED
        )
        .order_by("generated_at")
        .first()
    )
