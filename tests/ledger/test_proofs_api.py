"""Checkpoints, keys, entries and proofs as the API serves them."""

from __future__ import annotations

import base64
import json

import pytest
from django.urls import reverse

from apps.ledger import selectors
from apps.ledger.core.checkpoint import open_checkpoint
from apps.ledger.core.hashing import leaf_hash
from apps.ledger.core.merkle import verify_consistency, verify_inclusion
from apps.ledger.core.note import NoteVerifier
from apps.ledger.core.tlogproof import verify_tlog_proof
from apps.ledger.models import Entry
from audit_platform.errors import InvalidInput
from tests.support import assert_nothing_written


@pytest.fixture
def auditor(org, client_for):
    return client_for(org, "auditor")


def _verifiers(client) -> list[NoteVerifier]:
    keys = client.get(reverse("ledger-keys"))
    assert keys["Content-Type"].startswith("text/plain")
    return [NoteVerifier.from_vkey(line) for line in keys.content.decode().splitlines()]


def test_stored_proofs_verify_for_every_index_and_size(org, append):
    append(37)
    log = selectors.log_for(organization=org)
    leaves = [
        bytes(h)
        for h in Entry.objects.filter(log=log).order_by("seq").values_list("leaf_hash", flat=True)
    ]
    roots = {size: selectors.root_at(log=log, size=size) for size in range(log.size + 1)}
    for size in range(1, log.size + 1):
        for index in range(size):
            proof = selectors.inclusion_proof(log=log, index=index, size=size)
            verify_inclusion(
                index=index, size=size, leaf_hash=leaves[index], proof=proof, root=roots[size]
            )
        for old in range(1, size + 1):
            proof = selectors.consistency_proof(log=log, old_size=old, new_size=size)
            verify_consistency(
                old_size=old, new_size=size, old_root=roots[old], new_root=roots[size], proof=proof
            )


def test_latest_checkpoint_is_a_signed_note_of_the_current_tree(org, append, auditor):
    append(4)
    response = auditor.get(reverse("ledger-checkpoint"))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    checkpoint, signed_by = open_checkpoint(response.content.decode(), _verifiers(auditor))
    assert checkpoint.origin == "localhost/acme" and checkpoint.size == 6
    assert len(signed_by) == 1
    at_size = auditor.get(reverse("ledger-checkpoint-at", kwargs={"size": 3})).content.decode()
    assert open_checkpoint(at_size, _verifiers(auditor))[0].size == 3


def test_inclusion_and_consistency_proofs_over_the_api(org, append, auditor):
    append(10)
    verifiers = _verifiers(auditor)
    new = open_checkpoint(auditor.get(reverse("ledger-checkpoint")).content.decode(), verifiers)[0]
    old = open_checkpoint(
        auditor.get(reverse("ledger-checkpoint-at", kwargs={"size": 5})).content.decode(), verifiers
    )[0]
    entries = auditor.get(reverse("ledger-entries"), {"start": 7, "end": 8}).json()["results"]
    leaf = leaf_hash(base64.b64decode(entries[0]["entry_b64"]))
    assert leaf.hex() == entries[0]["leaf_hash"]

    inclusion = auditor.get(
        reverse("ledger-inclusion-proof"), {"index": 7, "size": new.size}
    ).json()
    verify_inclusion(
        index=7,
        size=new.size,
        leaf_hash=leaf,
        proof=[base64.b64decode(h) for h in inclusion["proof"]],
        root=new.root,
    )
    consistency = auditor.get(
        reverse("ledger-consistency-proof"), {"old": 5, "new": new.size}
    ).json()
    verify_consistency(
        old_size=5,
        new_size=new.size,
        old_root=old.root,
        new_root=new.root,
        proof=[base64.b64decode(h) for h in consistency["proof"]],
    )


def test_entry_tlog_proof_verifies_on_its_own(org, append, auditor):
    append(6)
    text = auditor.get(reverse("ledger-entry-proof", kwargs={"seq": 4})).content.decode()
    assert text.startswith("c2sp.org/tlog-proof@v1\n")
    checkpoint, entry = verify_tlog_proof(text, _verifiers(auditor))
    assert entry["seq"] == 4 and checkpoint.size == 8  # the auditor's key was entry 1


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("ledger-inclusion-proof", {"index": 5, "size": 5}, "index"),
        ("ledger-inclusion-proof", {"index": 0, "size": 99}, "size"),
        ("ledger-inclusion-proof", {"index": "x", "size": 3}, "index"),
        ("ledger-inclusion-proof", {"size": 3}, "index"),
        ("ledger-consistency-proof", {"old": 4, "new": 3}, "old"),
        ("ledger-consistency-proof", {"old": 1, "new": 99}, "new"),
        ("ledger-consistency-proof", {"old": 0, "new": 3}, "old"),
        ("ledger-entries", {"start": 5, "end": 2}, "end"),
        ("ledger-entries", {"time_from": "yesterday"}, "time_from"),
    ],
)
def test_out_of_range_proof_requests_get_400_naming_the_field(
    org, append, auditor, name, params, field
):
    append(5)
    with assert_nothing_written():
        response = auditor.get(reverse(name), params)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_tlog_proof_of_missing_entry_is_404(org, auditor):
    with assert_nothing_written():
        response = auditor.get(reverse("ledger-entry-proof", kwargs={"seq": 50}))
    assert response.status_code == 404
    assert "seq 50" in response.json()["error"]["message"]


def test_selector_refuses_index_beyond_size(org, append):
    append(2)
    with assert_nothing_written(), pytest.raises(InvalidInput, match="index=3"):
        selectors.inclusion_proof(log=selectors.log_for(organization=org), index=3, size=3)


def test_entries_filter_by_type_subject_actor_and_time(org, append, auditor):
    append(3, type="training_run.started")
    append(2, type="training_run.completed")
    by_type = auditor.get(reverse("ledger-entries"), {"type": "training_run.completed"}).json()
    assert by_type["count"] == 2
    assert {e["entry"]["type"] for e in by_type["results"]} == {"training_run.completed"}
    by_subject = auditor.get(
        reverse("ledger-entries"), {"subject_kind": "dataset_version", "subject_id": "1"}
    ).json()
    assert [e["entry"]["type"] for e in by_subject["results"]] == [
        "training_run.started",
        "training_run.completed",
    ]
    by_actor = auditor.get(reverse("ledger-entries"), {"actor_kind": "system"}).json()
    assert [e["entry"]["type"] for e in by_actor["results"]] == ["organization.created"]
    # A key is created by a person answerable for it, never by the system.
    by_person = auditor.get(reverse("ledger-entries"), {"actor_kind": "user"}).json()
    assert "api_key.created" in [e["entry"]["type"] for e in by_person["results"]]
    first_time = by_subject["results"][1]["entry"]["time"]
    after = auditor.get(reverse("ledger-entries"), {"time_from": first_time}).json()
    assert all(e["entry"]["time"] >= first_time for e in after["results"])
    decoded = by_type["results"][0]
    assert json.loads(base64.b64decode(decoded["entry_b64"])) == decoded["entry"]
