"""Storing uploaded files: streamed to Django's storage while their SHA-256 is
computed, never read whole into memory, and kept once per content."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.db import IntegrityError, transaction

from apps.ledger import services as ledger
from apps.ledger.types import Receipt, Subject
from apps.registry.models import Artifact
from apps.tenancy.principal import Principal
from audit_platform.errors import InvalidInput


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Spools every upload to a temporary file (bounded memory, whatever the size),
    computes its SHA-256 on the way, and stops at ``ARTIFACT_MAX_BYTES``."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self._digest = hashlib.sha256()
        self._received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self._received += len(raw_data)
        if self._received > settings.ARTIFACT_MAX_BYTES:
            self.file.close()
            self.request.artifact_too_large = True
            raise StopUpload(connection_reset=False)
        self._digest.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> UploadedFile:
        uploaded = super().file_complete(file_size)
        uploaded.sha256 = self._digest.hexdigest()
        return uploaded


def upload_sha256(uploaded: UploadedFile) -> str:
    """The digest computed while receiving, or (for files not received through the
    handler, e.g. in-process callers) one streamed pass over the file."""
    digest = getattr(uploaded, "sha256", None)
    if digest:
        return digest
    hasher = hashlib.sha256()
    for chunk in uploaded.chunks():
        hasher.update(chunk)
    uploaded.seek(0)
    return hasher.hexdigest()


def artifact_store(
    *, organization: Any, uploaded: UploadedFile, declared_sha256: str | None, actor: Principal
) -> tuple[Artifact, Receipt | None]:
    """Stores the file unless identical content is stored already. Returns the
    artifact and the ledger receipt of the storing (None when it was a duplicate)."""
    if uploaded.size > settings.ARTIFACT_MAX_BYTES:
        raise InvalidInput(
            f"The file is {uploaded.size} bytes; the limit is {settings.ARTIFACT_MAX_BYTES} "
            "(ARTIFACT_MAX_BYTES).",
            fields={"file": ["Too large."]},
        )
    sha256 = upload_sha256(uploaded)
    if declared_sha256 is not None and declared_sha256 != sha256:
        raise InvalidInput(
            f"The uploaded file's SHA-256 is {sha256}, not the declared {declared_sha256}.",
            fields={"sha256": ["Does not match the uploaded file."]},
        )
    existing = Artifact.objects.filter(organization=organization, sha256=sha256).first()
    if existing is not None:
        return existing, None
    try:
        with transaction.atomic():
            artifact = Artifact(
                organization=organization,
                sha256=sha256,
                size_bytes=uploaded.size,
                original_name=(uploaded.name or "")[:255],
                content_type=(uploaded.content_type or "")[:100],
            )
            # Content-addressed name: the same bytes always land on the same path.
            artifact.file.save(f"{organization.slug}/{sha256[:2]}/{sha256}", uploaded, save=False)
            artifact.save()
            receipt = ledger.entry_append(
                organization=organization,
                actor=actor.ledger_actor,
                type="artifact.stored",
                subject=Subject(kind="artifact", id=sha256),
                data={"sha256": sha256, "size_bytes": uploaded.size},
            )
    except IntegrityError:
        # Stored by a concurrent upload of the same content a moment ago.
        return Artifact.objects.get(organization=organization, sha256=sha256), None
    return artifact, receipt
