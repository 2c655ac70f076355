"""Report PDFs are archival documents (Art. 18, 47: kept for ten years): PDF/A-3a that
stays PDF/A-3 when signed, each attachment once, a PAdES B-LTA signature with RFC 3161
timestamps from the configured time-stamping authority and the validation data inside,
accepted by poppler's pdfsig and pyHanko's validator; and each PDF carries what an
auditor needs to check it without us (the format document, the verifier, the
signing certificate)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import ssl
import subprocess
import sys
import zipfile
from pathlib import Path

import pikepdf
import pytest
from django.conf import settings

from apps.reports import signing
from apps.reports.models import SigningCertificate
from tests.reports.conftest import pdf_attachments
from tests.reports.test_generation import HEADINGS, payload_for
from tests.support import clean_python

PYHANKO = str(Path(sys.executable).with_name("pyhanko"))
FORMATS_MD = (Path(settings.BASE_DIR) / "docs" / "formats.md").read_bytes()
PDFA_ID = "{http://www.aiim.org/pdfa/ns/id/}"


def _signed(request_report, download, payload: dict, tmp_path: Path) -> Path:
    report = request_report(payload)
    assert report["status"] == "succeeded", report["failure_reason"]
    path = tmp_path / f"{payload['kind']}.pdf"
    path.write_bytes(download(report))
    return path


def assert_pdf_a_3_after_signing(path: Path) -> None:
    """What PDF/A-3 needs of the signed file, checked with qpdf (pikepdf)."""
    data = path.read_bytes()
    assert data.startswith(b"%PDF-1.7\n")
    with pikepdf.open(path) as pdf:
        root = pdf.Root
        # No PDF 2.0 declared anywhere: PDF/A-3 is based on PDF 1.7.
        assert pdf.pdf_version == "1.7" and "/Version" not in root
        assert "/ISO_" not in root.get("/Extensions", {})
        meta = pdf.open_metadata()
        assert meta[f"{PDFA_ID}part"] == "3" and meta[f"{PDFA_ID}conformance"] == "A"
        # Document information and XMP say the same (PDF/A-3 6.6.2.3).
        assert str(pdf.trailer.Info.Producer) == meta["pdf:Producer"]
        (intent,) = root.OutputIntents
        assert intent.S == "/GTS_PDFA1" and "/DestOutputProfile" in intent
        # Tagged: a structure tree in reading order, marked content.
        assert "/StructTreeRoot" in root and bool(root.MarkInfo.Marked)
        # Each attachment once, in the name tree and in /AF, with its relationship.
        names = [str(n) for n in root.Names.EmbeddedFiles.Names[0::2]]
        specs = [str(spec.UF) for spec in root.AF]
        assert len(names) == len(set(names)) and sorted(specs) == sorted(names), specs
        assert all(spec.AFRelationship in ("/Source", "/Supplement") for spec in root.AF)
        assert len(pdf.attachments) == len(names)
        # Validation data for the long term: certificates and revocation data.
        assert len(root.DSS.Certs) >= 2 and len(root.DSS.CRLs) >= 1
        # qpdf's syntax check: nothing to repair (a name tree out of order, say).
        assert pdf.check_pdf_syntax() == []


def assert_pdfsig_accepts(path: Path) -> str:
    run = subprocess.run(["pdfsig", "-nocert", path], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    signature, timestamp = run.stdout.split("Signature #")[1:3]
    assert "Signature Field Name: ReportSignature" in signature
    assert "Signature Type: ETSI.CAdES.detached" in signature
    assert "Signature Validation: Signature is Valid." in signature
    # poppler 22 lists the document timestamp but cannot validate ETSI.RFC3161.
    assert "Signature Field Name: Timestamp-" in timestamp
    assert "Signer Certificate Common Name: Test TSA" in timestamp
    return run.stdout


def pyhanko_adesverify(path: Path, *trust: Path, at: str | None = None) -> str:
    """pyHanko's AdES validation (LTA: from what the PDF carries, no fetching)."""
    args = [PYHANKO, "sign", "adesverify", "--trust-replace", "--pretty-print"]
    for root in trust:
        args += ["--trust", str(root)]
    if at is not None:
        args += ["--validation-time", at]
    run = subprocess.run([*args, str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def _signer_pem(path: Path, tmp_path: Path) -> Path:
    pem = tmp_path / "signer.pem"
    pem.write_bytes(pdf_attachments(path.read_bytes())["signing-certificate.pem"])
    return pem


@pytest.mark.parametrize("kind", sorted(HEADINGS))
def test_every_kind_is_pdf_a_3_with_a_pades_b_lta_signature_that_validators_accept(
    kind, demo_system, request_report, download, tsa, tmp_path
):
    path = _signed(request_report, download, payload_for(kind, demo_system), tmp_path)
    assert_pdf_a_3_after_signing(path)
    assert_pdfsig_accepts(path)
    tsa_root = Path(settings.REPORT_TRUST_ROOTS)
    summary = pyhanko_adesverify(path, _signer_pem(path, tmp_path), tsa_root)
    assert "The signature is judged VALID." in summary
    assert "This timestamp is backed by a time stamping authority." in summary
    assert "The TSA certificate is trusted." in summary
    # Two timestamps (the signature's and the document's), and the CRL was fetched once.
    assert tsa.served["timestamps"] >= 2 and tsa.served["crl"] >= 1
    _assert_document_timestamp_valid(path, tsa_root)


def _assert_document_timestamp_valid(path: Path, tsa_root: Path) -> None:
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    root = asn1_x509.Certificate.load(ssl.PEM_cert_to_DER_cert(tsa_root.read_text()))
    with path.open("rb") as f:
        reader = PdfFileReader(f)
        (stamp,) = reader.embedded_timestamp_signatures
        status = validate_pdf_timestamp(
            stamp, validation_context=ValidationContext(trust_roots=[root], allow_fetching=False)
        )
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        # After it, only the timestamp's own validation data (a DSS update).
        assert status.coverage.name in ("ENTIRE_FILE", "ENTIRE_REVISION")
        assert status.modification_level.name in ("NONE", "LTA_UPDATES"), status.modification_level


def test_signature_still_validates_after_the_signing_certificate_expired(
    demo_system, request_report, download, tsa, settings, tmp_path
):
    """A certificate from a CA, valid for two days, checked twenty days later: the
    timestamps prove the signature was made while it was valid."""
    cert_path, key_path = tsa.issue_signer(days=2, folder=tmp_path)
    settings.REPORT_SIGNING_CERT, settings.REPORT_SIGNING_KEY = str(cert_path), str(key_path)
    path = _signed(request_report, download, payload_for("model_card", demo_system), tmp_path)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    root = Path(settings.REPORT_TRUST_ROOTS)
    assert "The signature is judged VALID." in pyhanko_adesverify(path, root, at=later)
    # The CA's revocation data for the signer is inside the PDF.
    with pikepdf.open(path) as pdf:
        assert len(pdf.Root.DSS.Certs) >= 3


def test_without_a_timestamp_the_expired_certificate_fails(
    demo_system, request_report, download, tsa, settings, tmp_path
):
    """The test above could not pass by accident: the same check of a baseline-B
    signature (no time-stamping authority) fails once the certificate has expired."""
    settings.REPORT_TSA_URL = None
    cert_path, key_path = tsa.issue_signer(days=2, folder=tmp_path)
    settings.REPORT_SIGNING_CERT, settings.REPORT_SIGNING_KEY = str(cert_path), str(key_path)
    path = _signed(request_report, download, payload_for("model_card", demo_system), tmp_path)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    root = settings.REPORT_TRUST_ROOTS
    args = [PYHANKO, "sign", "adesverify", "--trust-replace", "--trust", root]
    run = subprocess.run(
        [*args, "--validation-time", later, "--no-revocation-check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0 and "UNTRUSTED" in run.stdout, run.stdout
    assert "end-entity certificate expired" in run.stderr


def test_without_a_time_stamping_authority_the_file_is_still_pdf_a_3(
    demo_system, request_report, download, tmp_path
):
    path = _signed(request_report, download, payload_for("model_card", demo_system), tmp_path)
    with pikepdf.open(path) as pdf:
        assert pdf.pdf_version == "1.7" and "/Version" not in pdf.Root
        specs = [str(spec.UF) for spec in pdf.Root.AF]
        assert len(specs) == len(set(specs)) == len(pdf.attachments)
        assert "/DSS" not in pdf.Root
    assert "has no timestamp" in _text(path)


def _text(path: Path) -> str:
    from tests.reports.conftest import pdf_text

    return " ".join(pdf_text(path.read_bytes()).split())


def test_an_unreachable_time_stamping_authority_is_retried_with_the_reason(settings):
    settings.REPORT_TSA_URL = "http://127.0.0.1:9/"  # discard port: nothing answers
    signer = signing.DocumentSigner(*_pem_pair(), self_signed=True)
    source = io.BytesIO(_tiny_pdf())
    with pytest.raises(ConnectionError) as refused:
        signing.pdf_sign(
            source=source, output=io.BytesIO(), signer=signer, reason="test", location="test"
        )
    assert isinstance(refused.value, signing.TimestampUnavailable)
    assert "http://127.0.0.1:9/" in str(refused.value)


def _pem_pair() -> tuple[bytes, bytes]:
    return signing._self_signed(common_name="t", organization_name="t")


def _tiny_pdf() -> bytes:
    sink = io.BytesIO()
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(sink)
    return sink.getvalue()


def test_pdf_carries_the_format_document_the_verifier_and_its_certificate(
    demo_system, request_report, download, org, client_for, tmp_path
):
    path = _signed(request_report, download, payload_for("annex_iv", demo_system), tmp_path)
    files = pdf_attachments(path.read_bytes())
    assert files["formats.md"] == FORMATS_MD
    # The certificate is the one the signature was made with, and the organization's.
    stored = SigningCertificate.objects.get(organization=org)
    der = ssl.PEM_cert_to_DER_cert(files["signing-certificate.pem"].decode())
    assert hashlib.sha256(der).hexdigest() == stored.fingerprint_sha256
    # The text tells the reader where the verifier is and what it needs.
    text = _text(path)
    assert "verifier.zip" in text and "formats.md" in text and "rfc8785" in text
    # The verifier from the PDF runs with Python, cryptography and rfc8785 only.
    python = clean_python(tmp_path / "offline")
    with zipfile.ZipFile(io.BytesIO(files["verifier.zip"])) as archive:
        archive.extractall(tmp_path / "verifier")
    vkey = client_for(org, "auditor").get("/api/v1/ledger/keys").content.decode().split()[0]
    proofs = sorted(name for name in files if name.endswith(".tlog-proof"))
    assert proofs
    for name in proofs:
        (tmp_path / name).write_bytes(files[name])
        run = subprocess.run(
            [python, "-m", "apps.ledger.offline_verifier", "proof", f"../{name}", "--vkey", vkey],
            cwd=tmp_path / "verifier",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stdout + run.stderr
