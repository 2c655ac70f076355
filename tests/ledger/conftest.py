from __future__ import annotations

import pytest

from apps.ledger.services import entries_append, entry_append
from apps.ledger.types import Actor, EntryDraft, Subject

PIPELINE = Actor(kind="api_key", id="ak_test", name="pipeline")


@pytest.fixture
def append(org):
    """``append(n)`` puts n events on org's log, one transaction each; returns receipts."""

    def run(count: int = 1, *, type: str = "dataset_version.registered", organization=None):
        return [
            entry_append(
                organization=organization or org,
                actor=PIPELINE,
                type=type,
                subject=Subject(kind="dataset_version", id=str(i)),
                data={"sha256": f"{i:064x}", "size_bytes": i},
            )
            for i in range(count)
        ]

    return run


@pytest.fixture
def bulk_append(org):
    def run(count: int, *, organization=None):
        drafts = [
            EntryDraft(
                type="prediction_batch.recorded",
                actor=PIPELINE,
                subject=Subject(kind="prediction_batch", id=str(i)),
                data={"rows": i},
            )
            for i in range(count)
        ]
        return entries_append(organization=organization or org, drafts=drafts)

    return run
