"""docs/auditor-walkthrough.md works as written: its shell blocks, run in order against
a freshly generated report, extract the evidence, verify every cited entry offline with
the verifier the PDF carries (in a Python that has only cryptography and rfc8785),
pin the signing certificate and validate the signature and its timestamps."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from apps.reports import kinds
from apps.reports.models import SigningCertificate
from tests.reports.test_generation import payload_for
from tests.support import clean_python

WALKTHROUGH = Path(settings.BASE_DIR) / "docs" / "auditor-walkthrough.md"


def shell_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", markdown, re.S | re.M)


def test_the_walkthrough_has_commands_for_every_step():
    blocks = shell_blocks(WALKTHROUGH.read_text(encoding="utf-8"))
    script = "\n".join(blocks)
    for command in ("pdfdetach -saveall", "offline_verifier proof", "pdfsig", "adesverify"):
        assert command in script, command


def _tools(tmp_path: Path) -> dict[str, str]:
    """PATH for the walk-through: ``python3`` is a Python with only cryptography and
    rfc8785, ``pyhanko`` the CLI, and the system's poppler tools."""
    python = clean_python(tmp_path / "offline")
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "pyhanko").symlink_to(Path(sys.executable).with_name("pyhanko"))
    path = os.pathsep.join([str(python.parent), str(tools), "/usr/local/bin", "/usr/bin", "/bin"])
    return {"PATH": path, "HOME": str(tmp_path), "LANG": "C.UTF-8"}


@pytest.mark.parametrize("kind, zipped", [("annex_iv", False), ("audit_trail", True)])
def test_every_command_of_the_walkthrough_runs_against_a_real_report(
    kind, zipped, demo_system, request_report, download, org, client_for, tsa, tmp_path, monkeypatch
):
    if zipped:  # the proofs of a report that cites many entries travel in one ZIP
        monkeypatch.setattr(kinds, "PROOFS_AS_FILES_MAX", 3)
    report = request_report(payload_for(kind, demo_system))
    assert report["status"] == "succeeded", report["failure_reason"]
    work = tmp_path / "work"
    work.mkdir()
    (work / "report.pdf").write_bytes(download(report))
    env = {
        **_tools(tmp_path),
        # What the organization gives the auditor, through its own channels.
        "VKEY": client_for(org, "auditor").get("/api/v1/ledger/keys").content.decode().split()[0],
        "SIGNER_SHA256": SigningCertificate.objects.get(organization=org).fingerprint_sha256,
        "TSA_ROOT": str(tsa.write_root(tmp_path / "tsa-root.pem")),
    }
    script = "set -eu\n" + "\n".join(shell_blocks(WALKTHROUGH.read_text(encoding="utf-8")))
    run = subprocess.run(
        ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    evidence = work / "evidence"
    proofs = sorted(evidence.glob("proof-*.tlog-proof"))
    assert len(proofs) == report["cited_seqs"] > 3
    assert (evidence / "tlog-proofs.zip").exists() == zipped
    # Every cited entry verified, none failed.
    assert "FAILED" not in out and "FAIL " not in out
    assert len(re.findall(r"^OK \.\./proof-\d+\.tlog-proof verifies$", out, re.M)) == len(proofs), (
        out
    )
    assert "keys.vkey holds the key the organization gave you" in out
    assert "the signing certificate is the organization's" in out
    assert "Signature Validation: Signature is Valid." in out
    assert "The signature is judged VALID." in out
    assert "This timestamp is backed by a time stamping authority." in out
