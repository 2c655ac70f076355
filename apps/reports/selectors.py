"""Reads of reports: finding the report a PDF's digest belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from apps.ledger.digests import upload_sha256
from apps.reports.models import Report
from audit_platform.errors import RuleViolation


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
        # A report recorded before these fields were kept (or edited by hand) may lack
        # them: say so rather than fail or print "None".
        generated = (
            f"generated {report.generated_at.strftime('%Y-%m-%d %H:%M:%S')} UTC"
            if report.generated_at is not None
            else "its generation time is not recorded"
        )
        recorded = (
            f"recorded on the ledger at seq {report.ledger_seq}"
            if report.ledger_seq is not None
            else "its ledger entry is not recorded with it"
        )
        return (
            f"This exact file is report #{report.pk} ({report.get_kind_display()}), "
            f"{generated} and {recorded}."
        )

    @property
    def proof_url(self) -> str | None:
        if self.report is None or self.report.ledger_seq is None:
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


def reports_of_organization(*, organization: Any) -> QuerySet[Report]:
    """The organization's reports, newest first, with the system each is about."""
    return (
        Report.objects.filter(organization=organization)
        .select_related("system")
        .order_by("-created_at", "-pk")
    )


def reports_of_system(*, system: Any) -> QuerySet[Report]:
    return reports_of_organization(organization=system.organization_id).filter(system=system)


def report_of_organization(*, organization: Any, pk: Any) -> Report | None:
    """Report ``pk`` if it is the organization's; None otherwise, also for an id that
    could never be one."""
    try:
        return reports_of_organization(organization=organization).filter(pk=pk).first()
    except (ValueError, ValidationError):
        return None


def report_pdf_of_organization(*, organization: Any, pk: Any) -> Report | None:
    """Report ``pk`` of the organization if it has a signed PDF to download."""
    report = report_of_organization(organization=organization, pk=pk)
    if report is None or report.status != Report.Status.SUCCEEDED or not report.pdf:
        return None
    return report


def report_records(*, report: Report) -> Any:
    """The ``records.json`` a generated report carries, read from its signed file."""
    import json

    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        with report.pdf.open("rb") as stream:
            tree = PdfFileReader(stream, strict=False).root["/Names"]["/EmbeddedFiles"]
            data = _embedded(tree, "records.json")
    except (PdfError, KeyError):
        data = None
    if data is None:
        raise RuleViolation(
            f"Report {report.pk}'s file carries no readable records.json: it was not "
            "made by this service's report generator. Download the PDF to inspect it."
        )
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
