"""Storing uploaded files: streamed to Django's storage while their SHA-256 is
computed, never read whole into memory, and kept once per content. A file whose
Artifact row rolled back does not stay behind in storage."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from django.conf import settings
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.db import IntegrityError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from apps.ledger.digests import CHUNK_BYTES, upload_sha256
from apps.ledger.types import Receipt
from apps.registry import events
from apps.registry.models import Artifact
from apps.tenancy.records import record_event
from audit_platform.errors import InvalidInput
from audit_platform.principal import Principal

logger = logging.getLogger(__name__)


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


def artifact_store(
    *, organization: Any, uploaded: UploadedFile, declared_sha256: str | None, actor: Principal
) -> tuple[Artifact, Receipt | None]:
    """Stores the file unless identical content is stored already. Returns the
    artifact and the ledger receipt of the storing (None when it was a duplicate).

    A file whose row rolls back is removed: at once when the transaction (or
    savepoint) opened here rolls back, or once the request or task is over when a
    transaction of the caller's rolls back afterwards (``artifact_orphans_remove``)."""
    sha256 = _upload_sha256_checked(uploaded=uploaded, declared_sha256=declared_sha256)
    existing = Artifact.objects.filter(organization=organization, sha256=sha256).first()
    if existing is not None:
        return existing, None
    written: str | None = None
    try:
        with transaction.atomic():
            try:
                # The row claims the content before a byte is written. A concurrent upload
                # of the same content waits on the unique index until this transaction
                # ends, then finds this row (commit) or claims the content in turn
                # (rollback). Only the holder of the claim writes a file, so removing
                # the file after a rollback never takes one another upload uses.
                with transaction.atomic():
                    artifact = Artifact.objects.create(
                        organization=organization,
                        sha256=sha256,
                        size_bytes=uploaded.size,
                        original_name=(uploaded.name or "")[:255],
                        content_type=(uploaded.content_type or "")[:100],
                    )
            except IntegrityError:
                # Stored by a concurrent upload of the same content a moment ago.
                return Artifact.objects.get(organization=organization, sha256=sha256), None
            # Content-addressed name: the same bytes land on the same path, or (when a
            # file from a rolled-back upload is still there) on a fresh name beside it.
            artifact.file.save(f"{organization.slug}/{sha256[:2]}/{sha256}", uploaded, save=False)
            written = artifact.file.name
            artifact.save(update_fields=["file"])
            receipt = record_event(
                actor=actor,
                event=events.ARTIFACT_STORED,
                id=sha256,
                data={"sha256": sha256, "size_bytes": uploaded.size},
            )
    except BaseException:
        if written is not None:
            # The claim went with the rollback, so no row refers to this file.
            _storage().delete(written)
        raise
    if transaction.get_connection().in_atomic_block:
        _track_until_commit(artifact.file.name)
    return artifact, receipt


def _upload_sha256_checked(*, uploaded: UploadedFile, declared_sha256: str | None) -> str:
    """The upload's SHA-256, once the file is found within the size limit and, when
    the caller declared a digest, to have that one."""
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
    return sha256


# Files that artifact_store wrote inside a transaction its caller opened and that has
# not committed yet, per database connection (a transaction belongs to one). A commit
# takes its names off; artifact_orphans_remove() deletes what a rollback left.
_uncommitted: WeakKeyDictionary[BaseDatabaseWrapper, set[str]] = WeakKeyDictionary()


def _storage() -> Storage:
    return Artifact._meta.get_field("file").storage


def _track_until_commit(name: str) -> None:
    # Django calls nothing when a transaction rolls back, only when one commits.
    connection = transaction.get_connection()
    names = _uncommitted.setdefault(connection, set())
    names.add(name)
    transaction.on_commit(lambda: names.discard(name))


def artifact_orphans_remove() -> int:
    """Deletes the files that artifact_store wrote in transactions that have since
    rolled back, and returns how many. Runs after each request and each task (see
    ``RegistryConfig.ready``); while a transaction is open on this connection its
    outcome is not known yet, and it does nothing."""
    connection = transaction.get_connection()
    if connection.in_atomic_block or not _uncommitted.get(connection):
        return 0
    names = _uncommitted.pop(connection)
    # A committed row keeps its file even when its on-commit callback never ran (an
    # earlier callback of the same commit raised, which skips the rest).
    kept = set(Artifact.objects.filter(file__in=names).values_list("file", flat=True))
    orphans = names - kept
    storage = _storage()
    for name in orphans:
        storage.delete(name)
    return len(orphans)


def remove_orphans_after_work(**_: Any) -> None:
    """Receiver of ``request_finished`` and Celery's ``task_postrun``: by then the
    transactions of the request or task have ended."""
    try:
        removed = artifact_orphans_remove()
    except Exception:
        # The request or task is over; a leftover file costs disk, not correctness.
        logger.exception("could not remove files left by rolled-back uploads")
        return
    if removed:
        logger.info("removed %d file(s) left by rolled-back uploads", removed)


@contextmanager
def local_copy(artifact: Artifact) -> Iterator[Path]:
    """The artifact's bytes in a temporary local file (whatever the storage), for tools
    that read a path; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="artifact-") as folder:
        path = Path(folder) / "artifact"
        with artifact.file.open("rb") as source, path.open("wb") as target:
            shutil.copyfileobj(source, target, CHUNK_BYTES)
        yield path
