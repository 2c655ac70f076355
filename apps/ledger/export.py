"""Writing a log's export bundle (spec §5)."""

from __future__ import annotations

from typing import BinaryIO

from django.conf import settings
from django.utils import timezone

from apps.ledger import selectors
from apps.ledger.core.bundle import verifier_sources, write_bundle
from apps.ledger.models import Log

VERIFY_MD_PATH = settings.BASE_DIR / "docs" / "VERIFY.md"
FORMATS_MD_PATH = settings.BASE_DIR / "docs" / "formats.md"


def verify_md() -> str:
    """The bundle's ``VERIFY.md``: how to run the verifier and what each check means,
    then the format document in full, so that the bundle describes itself. (A
    ``ledger-export/v1`` bundle has no other place for it: verifiers reject a file at a
    path the format does not define.)"""
    return (
        VERIFY_MD_PATH.read_text(encoding="utf-8").rstrip("\n")
        + "\n\n---\n\n"
        + FORMATS_MD_PATH.read_text(encoding="utf-8")
    )


def bundle_write(
    *, log: Log, fileobj: BinaryIO, size: int | None = None, every_checkpoint: bool = False
) -> int:
    """Writes the bundle of the log up to the checkpoint of ``size`` (the latest by
    default) and returns the tree size it covers."""
    checkpoint = (
        selectors.checkpoint_latest(log=log)
        if size is None
        else selectors.checkpoint_at(log=log, size=size)
    )
    checkpoints = {
        c.size: c.note
        for c in selectors.checkpoints_for_export(
            log=log, size=checkpoint.size, every=every_checkpoint
        )
    }
    entries = (
        bytes(body)
        for body in selectors.entries_filtered(log=log, end=checkpoint.size)
        .values_list("body", flat=True)
        .iterator(chunk_size=5000)
    )
    write_bundle(
        fileobj,
        origin=log.origin,
        tree_size=checkpoint.size,
        root=bytes(checkpoint.root),
        entries=entries,
        checkpoints=checkpoints,
        vkeys=selectors.verifier_keys(log=log),
        created=timezone.now(),
        verify_md=verify_md(),
        verifier_sources=verifier_sources(),
    )
    return checkpoint.size
