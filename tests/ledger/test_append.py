"""Appending: sequencing, chaining, time, checkpoints, receipts."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.ledger.core.checkpoint import open_checkpoint
from apps.ledger.core.hashing import leaf_hash
from apps.ledger.core.merkle import tree_hash
from apps.ledger.core.note import NoteVerifier
from apps.ledger.models import Checkpoint, Entry, Log
from apps.ledger.selectors import verifier_keys
from apps.ledger.services import entry_append
from apps.ledger.types import Subject
from audit_platform.errors import InvalidInput
from tests.ledger.conftest import PIPELINE
from tests.support import assert_nothing_written


def _entries(org) -> list[Entry]:
    return list(Entry.objects.filter(log__organization=org).order_by("seq"))


@pytest.mark.embedded
def test_appends_are_sequenced_chained_and_signed(org, append):
    receipts = append(5)
    entries = _entries(org)
    assert [e.seq for e in entries] == list(range(6))  # seq 0 is organization.created
    assert [r.seq for r in receipts] == [1, 2, 3, 4, 5]
    for previous, entry in itertools.pairwise(entries):
        assert json.loads(bytes(entry.body))["prev"] == bytes(previous.leaf_hash).hex()
        assert bytes(entry.leaf_hash) == leaf_hash(bytes(entry.body))
    verifiers = [NoteVerifier.from_vkey(v) for v in verifier_keys(log=org.ledger_log)]
    # Every append signed a checkpoint, and each matches the tree of its size.
    sizes = list(Checkpoint.objects.filter(log__organization=org).values_list("size", flat=True))
    assert sizes == [0, 1, 2, 3, 4, 5, 6]
    for stored in Checkpoint.objects.filter(log__organization=org):
        checkpoint, _ = open_checkpoint(stored.note, verifiers)
        assert checkpoint.root == tree_hash([bytes(e.leaf_hash) for e in entries[: stored.size]])
    assert receipts[-1].checkpoint_size == 6
    assert receipts[-1].leaf_hash == bytes(entries[-1].leaf_hash).hex()


def test_entry_bytes_follow_the_spec(org, append):
    append(1)
    entry = json.loads(bytes(_entries(org)[1].body))
    assert set(entry) == {"v", "log", "seq", "time", "type", "actor", "subject", "data", "prev"}
    assert entry["v"] == 1
    assert entry["log"] == "localhost/acme"
    assert entry["actor"] == {"kind": "api_key", "id": "ak_test", "name": "pipeline"}
    assert entry["time"].endswith("Z") and len(entry["time"]) == len("2026-11-23T09:15:02.123456Z")


def test_time_never_decreases_even_when_the_clock_does(org, append, monkeypatch):
    append(1)
    later = Log.objects.get(organization=org).last_time
    monkeypatch.setattr(timezone, "now", lambda: later - timedelta(hours=1))
    append(1)
    entries = _entries(org)
    assert entries[-1].time == later


def test_bulk_append_signs_one_checkpoint(org, bulk_append):
    receipts = bulk_append(250)
    assert [r.seq for r in receipts] == list(range(1, 251))
    assert {r.checkpoint_size for r in receipts} == {251}
    assert list(
        Checkpoint.objects.filter(log__organization=org).values_list("size", flat=True)
    ) == [0, 1, 251]


def test_append_rolls_back_with_the_callers_transaction(org, append):
    size_before = Log.objects.get(organization=org).size
    with pytest.raises(RuntimeError), transaction.atomic():
        append(3)
        raise RuntimeError("the domain write failed")
    assert Log.objects.get(organization=org).size == size_before
    assert Entry.objects.filter(log__organization=org).count() == size_before
    assert Checkpoint.objects.filter(log__organization=org).count() == size_before + 1


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"sha256": "not-hex"}, "sha256"),
        ({"count": 2**60}, "count"),
        ({"blob": "x" * 70_000}, "65535"),
    ],
)
def test_invalid_payload_is_refused_and_nothing_is_written(org, data, problem):
    size_before = Log.objects.get(organization=org).size
    with assert_nothing_written(), pytest.raises(InvalidInput, match=problem):
        entry_append(
            organization=org,
            actor=PIPELINE,
            type="x.recorded",
            subject=Subject(kind="x", id="1"),
            data=data,
        )
    assert Log.objects.get(organization=org).size == size_before


def test_organizations_have_separate_logs(org, other_org, append):
    append(3)
    assert Log.objects.get(organization=other_org).size == 1
    assert Entry.objects.filter(log__organization=other_org).count() == 1


def test_single_appends_reuse_one_prepared_generic_plan_on_postgresql(postgres, org, append):
    # Parsing and planning the append statement every time cost as much database CPU
    # as running it (docs/benchmarks.md): after a few appends it must run prepared.
    append(10)
    with postgres.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE %s",
            ["%INSERT INTO ledger_entry%"],
        )
        plans = cursor.fetchall()
    assert len(plans) == 1
    generic, custom = plans[0]
    assert generic >= 5
    assert custom == 0
