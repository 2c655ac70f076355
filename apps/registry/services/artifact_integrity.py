"""Artifacts found changed at rest: the record that a job refused to load one, or
that a download was refused."""

from __future__ import annotations

from typing import IO

from django.db import transaction

from apps.ledger.digests import stream_sha256
from apps.ledger.types import Receipt
from apps.registry import events
from apps.registry.models import Artifact
from apps.tenancy.records import record_event
from audit_platform.errors import RuleViolation
from audit_platform.principal import Principal


def artifact_integrity_failed(
    *, artifact: Artifact, expected_sha256: str, found_sha256: str, used_by: dict[str, str]
) -> Receipt:
    """Records that a stored file no longer has the digest it was stored under (it
    was changed at rest), so the job that wanted it refused to load it."""
    actor = Principal.system(organization=artifact.organization, name="integrity_check")
    with transaction.atomic():
        return record_event(
            actor=actor,
            event=events.ARTIFACT_INTEGRITY_FAILED,
            id=artifact.sha256,
            data={
                "expected_sha256": expected_sha256,
                "found_sha256": found_sha256,
                "used_by": used_by,
            },
        )


def artifact_open_checked(*, artifact: Artifact, used_by: dict[str, str]) -> IO[bytes]:
    """The stored file, opened at its start, once its bytes are found to still have
    the SHA-256 they were stored under; a file changed at rest is refused (409) and
    ``artifact.integrity_failed`` recorded, so nobody downloads it as the original."""
    stream = artifact.file.open("rb")
    found, _ = stream_sha256(stream, rewind=True)
    if found != artifact.sha256:
        stream.close()
        artifact_integrity_failed(
            artifact=artifact, expected_sha256=artifact.sha256, found_sha256=found, used_by=used_by
        )
        raise RuleViolation(
            f"The stored file {artifact.sha256} now has SHA-256 {found}: it was changed at rest "
            "and is not served (recorded as artifact.integrity_failed)."
        )
    return stream
