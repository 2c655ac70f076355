"""Reads of reports: finding the report a PDF's digest belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from django.db.models import QuerySet

from apps.ledger.digests import upload_sha256
from apps.reports.models import Report
from apps.tenancy import selectors as tenancy_selectors
from audit_platform.roles import Capability


def report_by_sha256(*, organization: Any, sha256: str) -> Report | None:
    """The report of this organization whose signed file has this digest, if any."""
    return (
        Report.objects.filter(
            organization=organization, sha256=sha256, status=Report.Status.SUCCEEDED
        )
        .order_by("generated_at")
        .first()
    )


@dataclass(frozen=True)
class ReportVerification:
    """The answer to "did you generate this file?" for one digest."""

    sha256: str
    report: Report | None

    @property
    def known(self) -> bool:
        return self.report is not None

    @property
    def message(self) -> str:
        if self.report is None:
            return (
                "Unknown: no report with this SHA-256 was generated here. The file is not "
                "one we generated, or at least one byte of it was changed."
            )
        report = self.report
        return (
            f"This exact file is report #{report.pk} ({report.get_kind_display()}), generated "
            f"{report.generated_at.strftime('%Y-%m-%d %H:%M:%S')} UTC and recorded on the "
            f"ledger at seq {report.ledger_seq}."
        )

    @property
    def proof_url(self) -> str | None:
        if self.report is None:
            return None
        return f"/api/v1/ledger/entries/{self.report.ledger_seq}/proof"


def report_verification(
    *, organization: Any, sha256: str | None = None, file: BinaryIO | None = None
) -> ReportVerification:
    """Which of the organization's reports a file is, found by its bytes (``file``) or
    by its digest (``sha256``); exactly one of the two is given."""
    if file is not None:
        sha256 = upload_sha256(file)
    if sha256 is None:
        raise TypeError("report_verification needs the file or its sha256")
    return ReportVerification(
        sha256=sha256, report=report_by_sha256(organization=organization, sha256=sha256)
    )


def reports_readable_by(*, user: Any) -> QuerySet[Report]:
    """The reports of every organization in which the (signed-in) user may read."""
    organization_ids = tenancy_selectors.organization_ids_where(
        user=user, capability=Capability.READ
    )
    return Report.objects.filter(organization_id__in=organization_ids)


def report_pdf_readable_by(*, user: Any, pk: int) -> Report | None:
    """Report ``pk`` if the user may read it and it has a PDF to download."""
    report = reports_readable_by(user=user).filter(pk=pk, status=Report.Status.SUCCEEDED).first()
    return report if report is not None and report.pdf else None


def report_records(*, report: Report) -> Any:
    """The ``records.json`` a generated report carries, read from its signed file."""
    import json

    from pyhanko.pdf_utils.reader import PdfFileReader

    with report.pdf.open("rb") as stream:
        tree = PdfFileReader(stream, strict=False).root["/Names"]["/EmbeddedFiles"]
        data = _embedded(tree, "records.json")
    if data is None:
        raise LookupError(f"Report {report.pk} carries no records.json.")
    return json.loads(data)


def _embedded(node: Any, wanted: str) -> bytes | None:
    """The bytes of the embedded file ``wanted`` in a name tree (leaves or kids)."""
    if "/Names" in node:
        names = node["/Names"]
        for i in range(0, len(names), 2):
            if str(names[i]) == wanted:
                return names[i + 1]["/EF"]["/F"].data
    for i in range(len(node["/Kids"]) if "/Kids" in node else 0):
        found = _embedded(node["/Kids"][i], wanted)
        if found is not None:
            return found
    return None
