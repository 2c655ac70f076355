"""A time-stamping authority for the test suite: RFC 3161 over HTTP on loopback.

It answers ``POST /`` (``application/timestamp-query``) with a time-stamp token signed
by its own certificate (pyHanko's ``DummyTimeStamper`` builds the token) and serves
the certificate revocation list of its root at ``GET /root.crl``, which the TSA
certificate names as its CRL distribution point: a signer that embeds validation data
fetches it from here, as it would from a real TSA's CA. Nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test TSA"),
        ]
    )


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _asn1_key(key: rsa.RSAPrivateKey) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@dataclass
class TestTSA:
    """A running test TSA: its URL, its root certificate (PEM) and how many
    requests it has answered."""

    url: str
    root_pem: bytes
    tsa_pem: bytes
    crl_url: str
    served: dict[str, int]
    root_key: ec.EllipticCurvePrivateKey

    def write_root(self, path: Path) -> Path:
        path.write_bytes(self.root_pem)
        return path

    def issue_signer(self, *, days: int, folder: Path) -> tuple[Path, Path]:
        """A document-signing certificate from this TSA's root CA, valid for ``days``
        (with the root's CRL as its distribution point), written as PEM files."""
        root = x509.load_pem_x509_certificate(self.root_pem)
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name("Acme document signing"))
            .issuer_name(root.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_signing_key_usage(), critical=True)
            .add_extension(_crl_distribution(self.crl_url), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.root_key.public_key()),
                False,
            )
            .sign(self.root_key, hashes.SHA256())
        )
        cert_path, key_path = folder / "signer.pem", folder / "signer.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert_path, key_path


def _signing_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _crl_distribution(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
        ]
    )


def _certificates(crl_url: str, years: int) -> tuple:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name("Test TSA Root"))
        .issuer_name(_name("Test TSA Root"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * years + 30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    # RSA: pyHanko's token builder signs with RSA only.
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name("Test TSA"))
        .issuer_name(root.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(_crl_distribution(crl_url), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(now)
        .next_update(now + dt.timedelta(days=30))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    return root, root_key, tsa, tsa_key, crl


def tsa_start(*, years: int = 20) -> tuple[TestTSA, ThreadingHTTPServer]:
    """Starts a TSA on 127.0.0.1 (a free port) in a daemon thread; stop it with the
    returned server's ``shutdown()``."""
    served = {"timestamps": 0, "crl": 0}
    state: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet in test output
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                request = tsp.TimeStampReq.load(body)
                answer = state["stamper"].request_tsa_response(request).dump()
            except Exception as exc:  # a broken request gets an answer, not a hang-up
                self.send_error(500, str(exc))
                return
            served["timestamps"] += 1
            self._send(answer, "application/timestamp-reply")

        def do_GET(self) -> None:
            if self.path != "/root.crl":
                self.send_error(404)
                return
            served["crl"] += 1
            self._send(state["crl"], "application/pkix-crl")

        def _send(self, payload: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    root, root_key, tsa, tsa_key, crl = _certificates(f"{base}/root.crl", years)
    state["crl"] = crl.public_bytes(serialization.Encoding.DER)
    state["stamper"] = DummyTimeStamper(
        tsa_cert=_asn1_cert(tsa),
        tsa_key=_asn1_key(tsa_key),
        certs_to_embed=[_asn1_cert(tsa)],
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return (
        TestTSA(
            url=f"{base}/",
            root_pem=root.public_bytes(serialization.Encoding.PEM),
            tsa_pem=tsa.public_bytes(serialization.Encoding.PEM),
            crl_url=f"{base}/root.crl",
            served=served,
            root_key=root_key,
        ),
        server,
    )
