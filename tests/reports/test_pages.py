"""The pages as a reader sees them: rendered to images with poppler's pdftoppm, every
page carries content and nothing runs into the right margin."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.reports.test_generation import payload_for

DPI = 50
MM = DPI / 25.4


def _pages(pdf: bytes, tmp_path: Path) -> list[Image.Image]:
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm (poppler-utils) is needed; .ci/run installs it")
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-gray", "-r", str(DPI), str(source), str(tmp_path / "page")], check=True
    )
    return [Image.open(p) for p in sorted(tmp_path.glob("page-*.pgm"))]


def _ink(image: Image.Image, box: tuple[float, float, float, float]) -> int:
    region = image.crop(tuple(int(v) for v in box))
    return sum(region.histogram()[:160])


@pytest.mark.parametrize("kind", ["annex_iv", "audit_trail", "model_card"])
def test_pages_are_legible_no_blank_page_no_overflow(
    kind, demo_system, request_report, download, tmp_path
):
    report = request_report(payload_for(kind, demo_system))
    pages = _pages(download(report), tmp_path)
    assert len(pages) == report["page_count"] >= 1
    for number, page in enumerate(pages, start=1):
        width, height = page.size
        body = (15 * MM, 20 * MM, width - 15 * MM, height - 20 * MM)
        assert _ink(page, body) > 200, f"page {number} is blank"
        right_margin = (width - 13 * MM, 20 * MM, width - 1, height - 20 * MM)
        assert _ink(page, right_margin) == 0, f"page {number}: content overflows the margin"
