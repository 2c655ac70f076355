"""Artifacts found changed at rest: the record that a job refused to load one."""

from __future__ import annotations

from django.db import transaction

from apps.ledger.types import Receipt
from apps.registry import events
from apps.registry.models import Artifact
from apps.tenancy.records import record_event
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
