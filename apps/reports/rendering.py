"""HTML to archival PDF: WeasyPrint's PDF/A-3b output with the evidence attached."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

# WeasyPrint narrates every step at INFO; only its warnings are worth a log line.
logging.getLogger("weasyprint").setLevel(logging.WARNING)


@dataclass(frozen=True)
class EmbeddedFile:
    name: str
    content: bytes
    description: str
    # PDF/A-3 AFRelationship: Source (what the report was made from) or Supplement.
    relationship: str = "Source"


def pdf_render(
    *,
    html: str,
    target: BinaryIO,
    attachments: Sequence[EmbeddedFile] = (),
    variant: str = "pdf/a-3b",
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
