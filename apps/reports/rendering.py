"""HTML to archival PDF: WeasyPrint's tagged PDF/A-3a output with the evidence attached."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings

from apps.ledger.core.bundle import verifier_sources

# WeasyPrint narrates every step at INFO; only its warnings are worth a log line.
logging.getLogger("weasyprint").setLevel(logging.WARNING)

# PDF/A-3 level A: level B (the look of the pages is preserved) plus a logical structure
# (tags: headings, paragraphs, tables, lists, in reading order) and Unicode text, which
# is what screen readers and text extraction need. WeasyPrint writes one identification
# only, so the file declares PDF/A-3a and not PDF/UA-1 besides (docs/reports.md).
PDF_VARIANT = "pdf/a-3a"
FORMATS_MD_PATH = settings.BASE_DIR / "docs" / "formats.md"
# Fixed, so that the same sources always give the same attachment bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class EmbeddedFile:
    name: str
    content: bytes
    description: str
    # PDF/A-3 AFRelationship: Source (what the report was made from) or Supplement.
    relationship: str = "Source"


def verifier_zip() -> bytes:
    """The offline verifier's source as a ZIP: the files of a bundle's ``verifier/``,
    run with ``python -m apps.ledger.offline_verifier`` from where it is unpacked."""
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in sorted(verifier_sources().items()):
            info = zipfile.ZipInfo(path, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return sink.getvalue()


def self_contained_files(*, signing_certificate_pem: bytes) -> list[EmbeddedFile]:
    """What makes a report checkable from the PDF alone: the document describing every
    format it uses, the offline verifier's source and the certificate that signs it."""
    return [
        EmbeddedFile(
            name="formats.md",
            content=FORMATS_MD_PATH.read_bytes(),
            description="The formats of the ledger, its proofs, receipts and this PDF",
            relationship="Supplement",
        ),
        EmbeddedFile(
            name="verifier.zip",
            content=verifier_zip(),
            description="Offline verifier (Python 3.11+, cryptography, rfc8785): "
            "unzip, then python3 -m apps.ledger.offline_verifier proof FILE --vkey VKEY",
            relationship="Supplement",
        ),
        EmbeddedFile(
            name="signing-certificate.pem",
            content=signing_certificate_pem,
            description="The certificate this PDF is signed with (compare its SHA-256 "
            "fingerprint with the one the organization gives you)",
            relationship="Supplement",
        ),
    ]


def pdf_render(
    *,
    html: str,
    target: BinaryIO,
    attachments: Sequence[EmbeddedFile] = (),
    variant: str = PDF_VARIANT,
) -> int:
    """Writes the PDF to ``target`` (a file, so that a large report is not held in
    memory twice) and returns the page count. Attachments are embedded files, each
    with its AFRelationship, as PDF/A-3 requires."""
    # Imported here: web processes that never render should not pay for it.
    from weasyprint import HTML, Attachment

    document = HTML(string=html).render()
    files = [
        Attachment(
            string=item.content,
            name=item.name,
            description=item.description,
            relationship=item.relationship,
        )
        for item in attachments
    ]
    document.write_pdf(target, pdf_variant=variant, attachments=files, uncompressed_pdf=False)
    return len(document.pages)
