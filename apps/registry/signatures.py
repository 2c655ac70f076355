"""OpenSSF Model Signing (OMS) signatures checked offline with the ``model-signing``
package: key-based (an elliptic-curve public key) and certificate-based (a chain up
to a CA the organization trusts). Sigstore's keyless signatures need its online
transparency log and certificate authority, and are not accepted here.

An OMS signature is a Sigstore bundle whose DSSE payload is an in-toto statement
listing the digest of every file of the model; for a model of one file, one resource
named ``.``. No Django: the caller supplies the artifact's path and the trusted
signers."""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


class SignatureUnreadable(ValueError):
    """The supplied signature is not an OMS signature we can check (a caller's error)."""


@dataclass(frozen=True)
class TrustedSigner:
    id: Any
    name: str
    kind: str  # "key" or "certificate"
    pem: str
    fingerprint_sha256: str


@dataclass(frozen=True)
class SignatureCheck:
    verified: bool
    signer: TrustedSigner | None
    reason: str = ""
    certificate: dict[str, str] = field(default_factory=dict)


def signer_fingerprint(*, kind: str, pem: str) -> str:
    """SHA-256 of the key's DER SubjectPublicKeyInfo, or of the first certificate's DER;
    ValueError saying what is wrong with ``pem``."""
    data = pem.encode()
    if kind == "key":
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError:
            raise ValueError("pem is not a PEM public key.") from None
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ValueError("OMS key-based signatures use elliptic-curve keys (e.g. P-256).")
        der = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(der).hexdigest()
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise ValueError("pem is not a chain of PEM certificates.") from None
    return hashlib.sha256(certificates[0].public_bytes(serialization.Encoding.DER)).hexdigest()


def bundle_kind(bundle: Any) -> str:
    """ "key" or "certificate": how the bundle says it was signed; SignatureUnreadable
    for anything that is not a key- or certificate-signed Sigstore bundle."""
    if not isinstance(bundle, dict) or "dsseEnvelope" not in bundle:
        raise SignatureUnreadable(
            "signature must be an OMS signature: the Sigstore bundle (JSON) that "
            "model-signing writes, with a dsseEnvelope."
        )
    material = bundle.get("verificationMaterial")
    if not isinstance(material, dict):
        raise SignatureUnreadable("signature has no verificationMaterial.")
    if "publicKey" in material:
        return "key"
    if "x509CertificateChain" in material:
        return "certificate"
    if "certificate" in material:
        raise SignatureUnreadable(
            "signature is a Sigstore keyless signature, which needs Sigstore's online "
            "services to verify; sign with a key or a certificate (model-signing key/"
            "certificate) to be verified here."
        )
    raise SignatureUnreadable("signature's verificationMaterial names no key or certificate.")


def _expected_digest(bundle: dict[str, Any]) -> str | None:
    """The SHA-256 the signature covers for a one-file model, or None."""
    try:
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        predicate = statement["predicate"]
        if predicate["serialization"].get("hash_type") != "sha256":
            return None
        resources = predicate["resources"]
    except (KeyError, TypeError, ValueError):
        return None
    if len(resources) == 1 and resources[0].get("name") == ".":
        return resources[0].get("digest")
    return None


def _leaf(bundle: dict[str, Any]) -> dict[str, str]:
    raw = bundle["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"]
    certificate = x509.load_der_x509_certificate(base64.b64decode(raw))
    return {
        "subject": certificate.subject.rfc4514_string(),
        "sha256": hashlib.sha256(base64.b64decode(raw)).hexdigest(),
    }


def verify(
    *, bundle: dict[str, Any], model_path: Path, model_sha256: str, signers: Sequence[TrustedSigner]
) -> SignatureCheck:
    """Checks ``bundle`` over the one-file model at ``model_path`` against each trusted
    signer of the bundle's kind; verified by the first that accepts it, or failed with
    the reason that says most (a changed model before an unknown signer)."""
    from model_signing import verifying

    kind = bundle_kind(bundle)
    candidates = [s for s in signers if s.kind == kind]
    if not candidates:
        return SignatureCheck(
            verified=False,
            signer=None,
            reason=f"The signature is {kind}-based and the organization trusts no {kind} "
            "signer (/api/v1/model-signers/).",
        )
    expected = _expected_digest(bundle)
    if expected is not None and expected != model_sha256:
        return SignatureCheck(
            verified=False,
            signer=None,
            reason=f"The model does not match its signature: the signature covers content "
            f"with SHA-256 {expected}; the artifact's is {model_sha256}.",
        )
    reasons = []
    with tempfile.TemporaryDirectory(prefix="oms-") as folder:
        signature_path = Path(folder) / "oms-bundle.sig"
        signature_path.write_text(json.dumps(bundle))
        for signer in candidates:
            anchor = Path(folder) / f"signer-{len(reasons)}.pem"
            anchor.write_text(signer.pem)
            config = verifying.Config()
            if kind == "key":
                config.use_elliptic_key_verifier(public_key=anchor)
            else:
                config.use_certificate_verifier(certificate_chain=[anchor])
            try:
                config.verify(model_path, signature_path)
            # model-signing refuses with ValueError, OpenSSL's errors and others alike.
            except Exception as exc:
                reasons.append(f"{signer.name}: {str(exc)[:300] or type(exc).__name__}")
                continue
            certificate = _leaf(bundle) if kind == "certificate" else {}
            return SignatureCheck(verified=True, signer=signer, certificate=certificate)
    return SignatureCheck(
        verified=False,
        signer=None,
        reason="No trusted signer verifies the signature (" + "; ".join(reasons) + ").",
    )
