"""The archival form and its evidence: PDF/A-3a markers, proofs in a ZIP for large
reports, and a configured signing certificate."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfReader

from apps.ledger.offline_verifier import verify_proof_file
from apps.reports import kinds
from apps.reports.models import SigningCertificate
from tests.reports.conftest import pdf_attachments
from tests.reports.test_generation import payload_for


def test_pdf_is_pdf_a_3a_with_related_attachments(demo_system, request_report, download):
    pdf = download(request_report(payload_for("declaration_of_conformity", demo_system)))
    root = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    # pyHanko rewrites the XMP packet when it signs; the PDF/A identification stays.
    assert re.search(r'pdfaid:part(="|>)3', xmp), xmp
    assert re.search(r'pdfaid:conformance(="|>)A', xmp), xmp
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    relations = {
        str(spec.get_object()["/F"]): str(spec.get_object()["/AFRelationship"])
        for spec in root["/AF"]
    }
    assert relations["records.json"] == "/Source"
    assert relations["checkpoint.note"] == "/Supplement"


def test_many_cited_entries_travel_as_one_zip_of_proofs(
    demo_system, request_report, download, monkeypatch
):
    monkeypatch.setattr(kinds, "PROOFS_AS_FILES_MAX", 5)
    report = request_report(payload_for("audit_trail", demo_system))
    files = pdf_attachments(download(report))
    assert not [name for name in files if name.endswith(".tlog-proof")]
    vkeys = files["keys.vkey"].decode().split()
    with zipfile.ZipFile(io.BytesIO(files["tlog-proofs.zip"])) as archive:
        names = archive.namelist()
        assert len(names) == report["cited_seqs"]
        for name in names:
            verify_proof_file(archive.read(name).decode(), vkeys)


def _cert_files(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ACME document signing CA test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    return cert, cert_path, key_path


def test_a_configured_certificate_signs_instead_of_the_self_signed_one(
    demo_system, request_report, download, settings, tmp_path
):
    cert, cert_path, key_path = _cert_files(tmp_path)
    settings.REPORT_SIGNING_CERT = str(cert_path)
    settings.REPORT_SIGNING_KEY = str(key_path)
    settings.REPORT_SIGNING_KEY_PASSWORD = "s3cret"
    pdf = download(request_report(payload_for("serious_incident", demo_system)))
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    signer_cert = signature.signer_cert
    assert signer_cert.sha256.hex() == cert.fingerprint(hashes.SHA256()).hex()
    assert not SigningCertificate.objects.exists()


def test_the_self_signed_key_is_stored_encrypted(demo_system, request_report, org):
    request_report(payload_for("model_card", demo_system))
    stored = SigningCertificate.objects.get(organization=org)
    assert b"PRIVATE KEY" not in bytes(stored.private_key_encrypted)
    assert stored.certificate_pem.startswith("-----BEGIN CERTIFICATE-----")
