"""OpenSSF Model Signing signatures at model-version registration, made with the real
``model-signing`` package and verified offline against the organization's trusted
signers; the organization's policy can require one before a version serves."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.urls import reverse
from model_signing import signing
from rest_framework.test import APIClient

from apps.registry.models import ModelVersion
from apps.tenancy import services as tenancy
from audit_platform.principal import Principal
from tests import factories
from tests.support import entry_types, last_entry, sha256

pytestmark = pytest.mark.django_db


def _pem_private(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem_public(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def owner_in_person(org):
    membership = factories.MembershipFactory(organization=org, role="owner")
    client = APIClient()
    client.force_login(membership.user)
    return client, Principal.for_user(organization=org, user=membership.user, role="owner")


@pytest.fixture
def signing_key(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "signing-key.pem"
    path.write_bytes(_pem_private(key))
    return path, _pem_public(key)


def _sign(tmp_path: Path, model: bytes, config: signing.Config) -> dict:
    model_path = tmp_path / "model.json"
    model_path.write_bytes(model)
    signature_path = tmp_path / "model.sig"
    config.sign(model_path, signature_path)
    return json.loads(signature_path.read_text())


def _key_signed(tmp_path: Path, model: bytes, key_path: Path) -> dict:
    return _sign(tmp_path, model, signing.Config().use_elliptic_key_signer(private_key=key_path))


def _trust(client, name: str, kind: str, pem: str) -> dict:
    response = client.post(
        reverse("model-signer-list"), {"name": name, "kind": kind, "pem": pem}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def _register(post, model, artifact: bytes, signature, status: int = 201, label: str = "v1"):
    return post(
        "model-version-list",
        {
            "version": label,
            "artifact_sha256": sha256(artifact),
            "artifact_format": "xgboost-json",
            "framework": "xgboost",
            "framework_version": "2.1",
            "uploaded": True,
            "signature": signature,
        },
        status=status,
        model_pk=model.pk,
    )


@pytest.fixture
def model(org):
    return factories.ModelFactory(system__organization=org, name="scorer")


@pytest.fixture
def artifact():
    return factories.small_xgboost_model()


def test_a_key_signed_model_verifies_on_registration(
    org, post, upload, model, artifact, signing_key, owner_in_person, tmp_path
):
    key_path, public_pem = signing_key
    client, _ = owner_in_person
    signer = _trust(client, "release-ci", "key", public_pem)
    upload(artifact, name="model.json")

    version = _register(post, model, artifact, _key_signed(tmp_path, artifact, key_path))

    assert (version["signature_state"], version["signed_by"]) == ("verified", signer["id"])
    checked = last_entry(org, "model_version.signature_checked")["data"]
    assert checked["verified"] is True and checked["reason"] is None
    assert checked["signer"]["fingerprint_sha256"] == signer["fingerprint_sha256"]
    assert checked["sha256"] == sha256(artifact)
    assert entry_types(org)[-2:] == ["model_version.registered", "model_version.signature_checked"]


def test_one_changed_byte_fails_with_a_clear_reason(
    org, post, upload, model, artifact, signing_key, owner_in_person, tmp_path
):
    key_path, public_pem = signing_key
    _trust(owner_in_person[0], "release-ci", "key", public_pem)
    signature = _key_signed(tmp_path, artifact, key_path)
    changed = bytearray(artifact)
    middle = len(changed) // 2
    changed[middle] = ord("7") if changed[middle] != ord("7") else ord("8")
    changed = bytes(changed)
    upload(changed, name="model.json")

    version = _register(post, model, changed, signature)

    assert version["signature_state"] == "failed"
    assert "does not match its signature" in version["signature_reason"]
    assert sha256(artifact) in version["signature_reason"]
    assert sha256(changed) in version["signature_reason"]
    checked = last_entry(org, "model_version.signature_checked")["data"]
    assert (checked["verified"], checked["signer"]) == (False, None)


def test_a_signature_by_a_key_nobody_trusts_fails(
    post, upload, model, artifact, signing_key, owner_in_person, tmp_path
):
    key_path, _ = signing_key
    other = ec.generate_private_key(ec.SECP256R1())
    _trust(owner_in_person[0], "someone-else", "key", _pem_public(other))
    upload(artifact, name="model.json")

    version = _register(post, model, artifact, _key_signed(tmp_path, artifact, key_path))

    assert version["signature_state"] == "failed"
    assert "No trusted signer verifies the signature" in version["signature_reason"]


def test_a_certificate_signed_model_verifies_against_a_trusted_ca(
    post, upload, model, artifact, owner_in_person, tmp_path
):
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Model signing CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "release-ci")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "ca.pem").write_bytes(ca_pem)
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.key").write_bytes(_pem_private(leaf_key))
    signer = _trust(owner_in_person[0], "release CA", "certificate", ca_pem.decode())
    upload(artifact, name="model.json")
    signature = _sign(
        tmp_path,
        artifact,
        signing.Config().use_certificate_signer(
            private_key=tmp_path / "leaf.key",
            signing_certificate=tmp_path / "leaf.pem",
            certificate_chain=[tmp_path / "ca.pem"],
        ),
    )

    version = _register(post, model, artifact, signature)

    assert (version["signature_state"], version["signed_by"]) == ("verified", signer["id"])
    stored = ModelVersion.objects.get(pk=version["id"])
    assert stored.signature_certificate["subject"] == "CN=release-ci"


def test_a_signature_that_is_not_an_oms_bundle_is_refused(post, upload, model, artifact):
    upload(artifact, name="model.json")

    answer = _register(post, model, artifact, {"sig": "abc"}, status=400)

    assert "signature" in answer["error"]["fields"]
    assert "OMS signature" in answer["error"]["message"]


def test_an_api_key_cannot_add_a_trusted_signer(owner, signing_key):
    response = owner.post(
        reverse("model-signer-list"),
        {"name": "sneaky", "kind": "key", "pem": signing_key[1]},
        format="json",
    )

    assert response.status_code == 403
    assert "in person" in response.json()["error"]["message"]


def test_activation_refuses_an_unsigned_version_when_the_policy_requires_signatures(
    org, post, upload, model, artifact, signing_key, owner_in_person, tmp_path
):
    key_path, public_pem = signing_key
    client, person = owner_in_person
    _trust(client, "release-ci", "key", public_pem)
    upload(artifact, name="model.json")
    unsigned = factories.ModelVersionFactory(model=model, version="unsigned")
    signed = _register(
        post, model, artifact, _key_signed(tmp_path, artifact, key_path), label="signed"
    )
    deployment = factories.DeploymentFactory(system=model.system)
    factories.classify_unclassified(model.system)
    tenancy.organization_policy_update(organization=org, actor=person, require_model_signature=True)

    refused = post(
        "deployment-activate",
        {"model_version_id": unsigned.pk},
        status=409,
        pk=deployment.pk,
    )
    post("deployment-activate", {"model_version_id": signed["id"]}, status=200, pk=deployment.pk)

    assert "unsigned" in refused["error"]["message"]
    assert "require_model_signature" in refused["error"]["message"]
    # The CI gate (GET deployments/{id}/gate, audit-client gate) says the same.
    gate = client.get(
        reverse("deployment-gate", kwargs={"pk": deployment.pk}), {"model_version": unsigned.pk}
    ).json()
    signature = next(c for c in gate["conditions"] if c["code"] == "signature")
    assert not signature["met"] and "unsigned" in signature["message"]


def test_a_revoked_signer_no_longer_lets_what_it_signed_ship(
    org, owner, post, upload, model, artifact, signing_key, owner_in_person, tmp_path
):
    key_path, public_pem = signing_key
    client, person = owner_in_person
    signer = _trust(client, "release-ci", "key", public_pem)
    upload(artifact, name="model.json")
    signature = _key_signed(tmp_path, artifact, key_path)
    signed = _register(post, model, artifact, signature, label="signed")
    deployment = factories.DeploymentFactory(system=model.system)
    factories.classify_unclassified(model.system)
    tenancy.organization_policy_update(organization=org, actor=person, require_model_signature=True)
    gate_url = reverse("deployment-gate", kwargs={"pk": deployment.pk})
    revoke_url = reverse("model-signer-revoke", kwargs={"pk": signer["id"]})

    def signature_condition() -> dict:
        gate = client.get(gate_url, {"model_version": signed["id"]}).json()
        return next(c for c in gate["conditions"] if c["code"] == "signature")

    assert signature_condition()["met"]
    by_key = owner.post(revoke_url, {"reason": "key leaked"}, format="json")
    assert by_key.status_code == 403
    empty = client.post(revoke_url, {"reason": "  "}, format="json")
    assert empty.status_code == 400 and "reason" in empty.json()["error"]["fields"]

    revoked = client.post(revoke_url, {"reason": "key leaked in a CI log"}, format="json")

    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["revocation_reason"] == "key leaked in a CI log"
    entry = last_entry(org, "model_signer.revoked")
    assert entry["data"]["reason"] == "key leaked in a CI log"
    assert entry["data"]["fingerprint_sha256"] == signer["fingerprint_sha256"]
    condition = signature_condition()
    assert not condition["met"]
    assert "revoked" in condition["message"] and "key leaked in a CI log" in condition["message"]
    refused = post(
        "deployment-activate", {"model_version_id": signed["id"]}, status=409, pk=deployment.pk
    )
    assert "key leaked in a CI log" in refused["error"]["message"]
    # What the revoked key signs from now on does not verify.
    again = _register(post, model, artifact, signature, label="re-signed")
    assert again["signature_state"] == "failed"
    twice = client.post(revoke_url, {"reason": "again"}, format="json")
    assert twice.status_code == 409 and "already" in twice.json()["error"]["message"]
    assert entry_types(org).count("model_signer.revoked") == 1
