"""PAdES signatures on report PDFs (pyHanko), with the organization's
document-signing certificate.

With ``REPORT_SIGNING_CERT``/``REPORT_SIGNING_KEY`` configured, every organization
signs with that certificate; otherwise each organization gets a self-signed one on
first use, its private key encrypted at rest under ``LEDGER_KEY_ENCRYPTION_KEY``
(the ledger keys' key-encryption key). A self-signed certificate proves nothing by
itself: an auditor pins its fingerprint, which every report prints and the ledger
records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.db import IntegrityError, transaction
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata import model as pdf_metadata_model
from pyhanko.sign import fields, signers
from pyhanko.sign.signers import constants as pdf_constants
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from apps.reports.models import SigningCertificate

SIGNATURE_FIELD = "ReportSignature"
CERT_VALIDITY_DAYS = 10 * 365


@dataclass(frozen=True)
class DocumentSigner:
    """A certificate (PEM) and its private key, ready to sign."""

    certificate_pem: bytes
    private_key_pem: bytes
    self_signed: bool

    @property
    def fingerprint_sha256(self) -> str:
        cert = x509.load_pem_x509_certificate(self.certificate_pem)
        return cert.fingerprint(hashes.SHA256()).hex()

    @property
    def subject(self) -> str:
        return x509.load_pem_x509_certificate(self.certificate_pem).subject.rfc4514_string()

    def pyhanko_signer(self) -> signers.SimpleSigner:
        cert = asn1_x509.Certificate.load(
            x509.load_pem_x509_certificate(self.certificate_pem).public_bytes(
                serialization.Encoding.DER
            )
        )
        key = serialization.load_pem_private_key(self.private_key_pem, password=None)
        key_info = asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return signers.SimpleSigner(
            signing_cert=cert,
            signing_key=key_info,
            cert_registry=SimpleCertificateStore.from_certs([cert]),
        )


def _kek() -> Fernet:
    return Fernet(settings.LEDGER_KEY_ENCRYPTION_KEY.encode())


def _self_signed(*, common_name: str, organization_name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization_name[:64] or "-"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CERT_VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert_pem, key_pem


def _configured() -> DocumentSigner | None:
    if not settings.REPORT_SIGNING_CERT:
        return None
    cert_pem = Path(settings.REPORT_SIGNING_CERT).read_bytes()
    password = settings.REPORT_SIGNING_KEY_PASSWORD
    key = serialization.load_pem_private_key(
        Path(settings.REPORT_SIGNING_KEY).read_bytes(),
        password=password.encode() if password else None,
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return DocumentSigner(certificate_pem=cert_pem, private_key_pem=key_pem, self_signed=False)


def signing_certificate_ensure(*, organization: Any) -> SigningCertificate:
    """The organization's stored self-signed document-signing certificate, created once."""
    existing = SigningCertificate.objects.filter(organization=organization).first()
    if existing is not None:
        return existing
    cert_pem, key_pem = _self_signed(
        common_name=f"{organization.slug} report signing ({settings.LEDGER_HOST})",
        organization_name=organization.name,
    )
    fingerprint = x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA256()).hex()
    try:
        with transaction.atomic():
            return SigningCertificate.objects.create(
                organization=organization,
                certificate_pem=cert_pem.decode("ascii"),
                private_key_encrypted=_kek().encrypt(key_pem),
                fingerprint_sha256=fingerprint,
            )
    except IntegrityError:  # another worker created it first
        return SigningCertificate.objects.get(organization=organization)


def document_signer_for(*, organization: Any) -> DocumentSigner:
    configured = _configured()
    if configured is not None:
        return configured
    stored = signing_certificate_ensure(organization=organization)
    return DocumentSigner(
        certificate_pem=stored.certificate_pem.encode("ascii"),
        private_key_pem=_kek().decrypt(bytes(stored.private_key_encrypted)),
        self_signed=True,
    )


class _ArchivalPdfSigner(signers.PdfSigner):
    """pyHanko's signer, but the file stays PDF 1.7 (what PDF/A-3 is based on).

    pyHanko declares PDF 2.0 (ISO 32002) for an ECDSA key on a NIST curve; PAdES over
    PDF 1.7 (the ESIC extension, which pyHanko registers for every PAdES signature)
    already covers ECDSA, and a PDF 2.0 header breaks the file's PDF/A-3
    identification."""

    def register_extensions(self, pdf_out: Any, *, md_algorithm: str) -> None:
        pdf_out.ensure_output_version(version=(1, 7))
        pdf_out.register_extension(pdf_constants.ESIC_EXTENSION_1)


def _archival_fixups(writer: IncrementalPdfFileWriter) -> None:
    """Repairs what WeasyPrint's PDF/A-3 output gets wrong, in the signed update so
    that the rendered body stays as it was written: the catalog's ``/AF`` lists every
    attachment twice (once from the name tree, once from the file specifications); the
    attachments' name tree is not sorted; and the document information's ``/Producer``
    would no longer match the XMP ``pdf:Producer`` that pyHanko rewrites (PDF/A
    requires them equal)."""
    root = writer.root
    if "/AF" in root:
        seen: set[tuple[int, int]] = set()
        unique = generic.ArrayObject()
        for ref in root.raw_get("/AF"):
            key = (ref.idnum, ref.generation)
            if key not in seen:
                seen.add(key)
                unique.append(ref)
        root["/AF"] = unique
        writer.update_root()
    _sort_embedded_files(writer)
    info_ref = writer.trailer.raw_get("/Info") if "/Info" in writer.trailer else None
    if info_ref is not None:
        info_ref.get_object()["/Producer"] = generic.TextStringObject(pdf_metadata_model.VENDOR)
        writer.mark_update(info_ref)


def _sort_embedded_files(writer: IncrementalPdfFileWriter) -> None:
    """A name tree's keys must be in lexical order (ISO 32000-1, 7.9.6); WeasyPrint
    writes the attachments in the order they were given."""
    names = writer.root.get("/Names")
    if names is None or "/EmbeddedFiles" not in names:
        return
    tree_ref = names.raw_get("/EmbeddedFiles")
    tree = tree_ref.get_object()
    if "/Names" not in tree:
        return
    flat = list(tree.raw_get("/Names"))
    pairs = sorted(zip(flat[0::2], flat[1::2], strict=True), key=lambda pair: str(pair[0]))
    tree["/Names"] = generic.ArrayObject([item for pair in pairs for item in pair])
    if isinstance(tree_ref, generic.IndirectObject):
        writer.mark_update(tree_ref)
    else:
        writer.update_root()


def _trust_roots(signer: DocumentSigner) -> list[asn1_x509.Certificate]:
    roots = []
    cert = asn1_x509.Certificate.load(
        x509.load_pem_x509_certificate(signer.certificate_pem).public_bytes(
            serialization.Encoding.DER
        )
    )
    if cert.self_issued:
        roots.append(cert)
    if settings.REPORT_TRUST_ROOTS:
        roots.extend(
            asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
            for c in x509.load_pem_x509_certificates(Path(settings.REPORT_TRUST_ROOTS).read_bytes())
        )
    return roots


class TimestampUnavailable(ConnectionError):
    """The time-stamping authority did not answer: retried like any lost connection."""


def timestamper() -> RequestsHTTPTimeStamper | None:
    """The configured RFC 3161 time-stamping authority (``REPORT_TSA_URL``), if any."""
    if not settings.REPORT_TSA_URL:
        return None
    return RequestsHTTPTimeStamper(settings.REPORT_TSA_URL, timeout=30)


def pdf_sign(
    *, source: BinaryIO, output: BinaryIO, signer: DocumentSigner, reason: str, location: str
) -> None:
    """Writes ``source`` with a PAdES signature over the whole file to ``output``, as
    incremental updates, so the PDF/A-3 body stays byte for byte as rendered.

    With a time-stamping authority configured the signature is PAdES B-LTA: an RFC 3161
    signature timestamp, the certificates and revocation data of the signer and the TSA
    in the document security store (DSS), then a document timestamp over all of it, so
    the signature can still be validated after the certificates expire. Without one it
    is baseline-B."""
    source.seek(0)
    writer = IncrementalPdfFileWriter(source, strict=False)
    _archival_fixups(writer)
    tsa = timestamper()
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
        embed_validation_info=tsa is not None,
        use_pades_lta=tsa is not None,
        validation_context=(
            ValidationContext(
                trust_roots=_trust_roots(signer), allow_fetching=True, revocation_mode="hard-fail"
            )
            if tsa is not None
            else None
        ),
    )
    try:
        _ArchivalPdfSigner(meta, signer=signer.pyhanko_signer(), timestamper=tsa).sign_pdf(
            writer, output=output
        )
    except TimestampRequestError as exc:
        raise TimestampUnavailable(
            f"the time-stamping authority at {settings.REPORT_TSA_URL} did not give a "
            f"timestamp ({exc}); the report is tried again later"
        ) from exc
