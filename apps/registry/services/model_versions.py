"""Models and their versions (artifact digest and format, framework, lineage)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.ledger.digests import json_sha256
from apps.ledger.types import Receipt
from apps.registry import events, signatures
from apps.registry.artifacts import local_copy
from apps.registry.model_formats import format_mismatch
from apps.registry.models import (
    AISystem,
    Artifact,
    DatasetVersion,
    Model,
    ModelSigner,
    ModelVersion,
    TrainingRun,
)
from apps.registry.services._common import (
    named_under_system_create,
    require_sha256,
    same_system,
    uploaded_artifact,
)
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import Forbidden, InvalidInput, RuleViolation
from audit_platform.principal import Principal
from audit_platform.roles import Capability


def model_create(
    *, actor: Principal, system: AISystem, name: str, description: str = ""
) -> tuple[Model, Receipt]:
    return named_under_system_create(
        model_class=Model,
        event=events.MODEL_CREATED,
        actor=actor,
        system=system,
        name=name,
        description=description,
    )


def model_version_register(
    *,
    actor: Principal,
    model: Model,
    version: str,
    artifact_sha256: str,
    artifact_format: str,
    framework: str,
    framework_version: str,
    training_run: TrainingRun | None = None,
    metrics: dict[str, Any] | None = None,
    dataset_versions: Sequence[DatasetVersion] = (),
    uri: str = "",
    uploaded: bool = False,
    signature: dict[str, Any] | None = None,
) -> tuple[ModelVersion, Receipt]:
    """Registers a version of a model: its artifact by digest and format (an uploaded
    file, checked to be in that format, or a uri), the completed run that trained it
    and the dataset versions of its own system it learned from. With ``signature`` (an
    OpenSSF Model Signing signature over the uploaded artifact), the signature is
    verified offline against the organization's trusted signers and the outcome, good
    or bad, is recorded with the version (``model_version.signature_checked``)."""
    require_sha256(artifact_sha256, "artifact_sha256")
    _training_run_check(model=model, training_run=training_run)
    same_system(dataset_versions, model.system, "dataset_version_ids", "Dataset version")
    artifact = _model_file(
        actor=actor,
        artifact_sha256=artifact_sha256,
        artifact_format=artifact_format,
        uri=uri,
        uploaded=uploaded,
    )
    check = (
        _signature_check(actor=actor, artifact=artifact, signature=signature)
        if signature is not None
        else None
    )
    model_version = ModelVersion(
        model=model,
        version=version,
        artifact_sha256=artifact_sha256,
        artifact_format=artifact_format,
        artifact=artifact,
        uri=uri,
        framework=framework,
        framework_version=framework_version,
        training_run=training_run,
        metrics=metrics or {},
    )
    if check is not None:
        _signature_keep(model_version=model_version, signature=signature, check=check)
    receipt = _model_version_write(
        actor=actor, model_version=model_version, dataset_versions=dataset_versions
    )
    return model_version, receipt


def _signature_keep(
    *, model_version: ModelVersion, signature: Any, check: signatures.SignatureCheck
) -> None:
    model_version.signature = signature
    model_version.signature_sha256 = json_sha256(signature)
    model_version.signature_state = (
        ModelVersion.SignatureState.VERIFIED
        if check.verified
        else ModelVersion.SignatureState.FAILED
    )
    model_version.signed_by_id = check.signer.id if check.signer else None
    model_version.signature_certificate = check.certificate
    model_version.signature_reason = check.reason


def _training_run_check(*, model: Model, training_run: TrainingRun | None) -> None:
    if training_run is not None:
        if training_run.system_id != model.system_id:
            raise RuleViolation(f"Training run {training_run.pk} belongs to another AI system.")
        if training_run.status != TrainingRun.Status.COMPLETED:
            raise RuleViolation(
                f"Training run {training_run.pk} is {training_run.status}; "
                "only a completed run can produce a model version."
            )


def _model_file(
    *, actor: Principal, artifact_sha256: str, artifact_format: str, uri: str, uploaded: bool
) -> Artifact | None:
    """The uploaded artifact of a model version, once its first bytes are found to be
    in the declared format; None for an artifact that lives at ``uri``."""
    if not uploaded:
        if not uri:
            raise InvalidInput(
                "Give uri, or upload the artifact and set uploaded=true.",
                fields={"uri": ["Required unless the artifact is uploaded."]},
            )
        return None
    artifact = uploaded_artifact(
        organization=actor.organization, sha256=artifact_sha256, field="artifact_sha256"
    )
    with artifact.file.open("rb") as stream:
        problem = format_mismatch(declared=artifact_format, head=stream.read(64))
    if problem:
        raise InvalidInput(f"Artifact refused: {problem}.", fields={"artifact_format": [problem]})
    return artifact


def _model_version_write(
    *,
    actor: Principal,
    model_version: ModelVersion,
    dataset_versions: Sequence[DatasetVersion],
) -> Receipt:
    """Inserts the version with its lineage and appends its ledger entry in one
    transaction."""
    try:
        with transaction.atomic():
            model_version.save(force_insert=True)
            model_version.dataset_versions.set(dataset_versions)
            receipt = _model_version_entry(
                actor=actor, model_version=model_version, dataset_versions=dataset_versions
            )
            if model_version.signature is not None:
                # The registration's receipt is the one answered; the check's entry
                # follows it in the same transaction.
                _signature_entry(actor=actor, model_version=model_version)
            return receipt
    except IntegrityError:
        raise RuleViolation(
            f"Model {model_version.model.pk} already has a version labelled "
            f"{model_version.version!r}."
        ) from None


def _model_version_entry(
    *,
    actor: Principal,
    model_version: ModelVersion,
    dataset_versions: Sequence[DatasetVersion],
) -> Receipt:
    return record_event(
        actor=actor,
        event=events.MODEL_VERSION_REGISTERED,
        id=model_version.pk,
        data={
            "version": model_version.version,
            "sha256": model_version.artifact_sha256,
            "format": model_version.artifact_format,
            "framework": model_version.framework,
            "framework_version": model_version.framework_version,
            "uri": model_version.uri or None,
            "metrics": model_version.metrics,
            "training_run": record_ref("training_run", model_version.training_run),
            "dataset_versions": [str(v.pk) for v in dataset_versions],
            "parent": record_ref("model", model_version.model),
        },
    )


def model_signer_trust(
    *, actor: Principal, name: str, kind: str, pem: str
) -> tuple[ModelSigner, Receipt]:
    """Adds a signer whose OMS signatures the organization accepts: an elliptic-curve
    public key, or a CA's certificate chain. Decided by an owner in person, since a
    key alone could otherwise vouch for its own pipeline's models."""
    if not actor.in_person or not actor.can(Capability.ADMINISTER):
        raise Forbidden(
            "Trusted model signers are added by an owner in person (signed in), never by "
            "an API key alone."
        )
    if kind not in ModelSigner.Kind.values:
        raise InvalidInput("kind must be key or certificate.", fields={"kind": ["Invalid."]})
    try:
        fingerprint = signatures.signer_fingerprint(kind=kind, pem=pem)
    except ValueError as exc:
        raise InvalidInput(str(exc), fields={"pem": [str(exc)]}) from None
    try:
        with transaction.atomic():
            signer = ModelSigner.objects.create(
                organization=actor.organization,
                name=name,
                kind=kind,
                pem=pem,
                fingerprint_sha256=fingerprint,
            )
            receipt = record_event(
                actor=actor,
                event=events.MODEL_SIGNER_TRUSTED,
                id=signer.pk,
                data={"name": name, "kind": kind, "fingerprint_sha256": fingerprint},
            )
    except IntegrityError:
        raise RuleViolation(
            f"A trusted signer is named {name!r} already, or has this {kind} already."
        ) from None
    return signer, receipt


def model_signer_revoke(
    *, actor: Principal, signer: ModelSigner, reason: str
) -> tuple[ModelSigner, Receipt]:
    """Stops trusting a signer, with the reason on the ledger: signatures it makes no
    longer verify, and versions it signed no longer satisfy ``require_model_signature``
    at the deployment gate. Decided by an owner in person, as trusting it was."""
    if not actor.in_person or not actor.can(Capability.ADMINISTER):
        raise Forbidden(
            "Trusted model signers are revoked by an owner in person (signed in), never by "
            "an API key alone."
        )
    reason = reason.strip()
    if not reason:
        raise InvalidInput(
            "Say why the signer is revoked (a leaked key, a retired CA...).",
            fields={"reason": ["Required."]},
        )
    with transaction.atomic():
        signer = ModelSigner.objects.select_for_update().get(pk=signer.pk)
        if signer.revoked_at is not None:
            raise RuleViolation(
                f"Signer {signer.name!r} was revoked on {signer.revoked_at:%Y-%m-%d %H:%M} UTC "
                f"already ({signer.revocation_reason})."
            )
        signer.revoked_at = timezone.now()
        signer.revocation_reason = reason
        signer.save(update_fields=["revoked_at", "revocation_reason"])
        receipt = record_event(
            actor=actor,
            event=events.MODEL_SIGNER_REVOKED,
            id=signer.pk,
            data={
                "name": signer.name,
                "fingerprint_sha256": signer.fingerprint_sha256,
                "reason": reason,
            },
        )
    return signer, receipt


def _signature_check(
    *, actor: Principal, artifact: Artifact | None, signature: dict[str, Any]
) -> signatures.SignatureCheck:
    """The outcome of checking ``signature`` over the uploaded ``artifact``; a
    signature that is no OMS signature, or one without an uploaded artifact to check
    it against, is refused (InvalidInput)."""
    try:
        signatures.bundle_kind(signature)
    except signatures.SignatureUnreadable as exc:
        raise InvalidInput(str(exc), fields={"signature": [str(exc)]}) from None
    if artifact is None:
        raise InvalidInput(
            "A signature is verified against the artifact itself: upload it and set uploaded=true.",
            fields={"signature": ["Needs an uploaded artifact."]},
        )
    trusted = [
        signatures.TrustedSigner(
            id=s.pk, name=s.name, kind=s.kind, pem=s.pem, fingerprint_sha256=s.fingerprint_sha256
        )
        # A revoked signer vouches for nothing new.
        for s in ModelSigner.objects.filter(organization=actor.organization, revoked_at=None)
    ]
    with local_copy(artifact) as path:
        return signatures.verify(
            bundle=signature, model_path=path, model_sha256=artifact.sha256, signers=trusted
        )


def _signature_entry(*, actor: Principal, model_version: ModelVersion) -> Receipt:
    signer = model_version.signed_by
    return record_event(
        actor=actor,
        event=events.MODEL_VERSION_SIGNATURE_CHECKED,
        id=model_version.pk,
        data={
            "signature_sha256": model_version.signature_sha256,
            "sha256": model_version.artifact_sha256,
            "verified": model_version.signature_state == ModelVersion.SignatureState.VERIFIED,
            "signer": None
            if signer is None
            else {
                **record_ref("model_signer", signer),
                "name": signer.name,
                "fingerprint_sha256": signer.fingerprint_sha256,
            },
            **(
                {"certificate_sha256": model_version.signature_certificate["sha256"]}
                if model_version.signature_certificate
                else {}
            ),
            "reason": model_version.signature_reason or None,
        },
    )
