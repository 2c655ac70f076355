"""The reads other apps make of the ledger through its selectors: entries about
records, in bulk, and tlog-proofs of many entries at once."""

from __future__ import annotations

import pytest

from apps.ledger import selectors


@pytest.fixture
def log(org, append):
    append(23)
    return selectors.log_for(organization=org)


def test_batched_tlog_proofs_are_those_of_one_entry_at_a_time(log, monkeypatch):
    monkeypatch.setattr(selectors, "TLOG_PROOFS_CHUNK", 4)  # several chunks
    checkpoint = selectors.checkpoint_latest(log=log)
    wanted = [0, 3, 3, 7, 11, 24, checkpoint.size - 1, checkpoint.size, -1]
    proofs = dict(selectors.tlog_proofs(log=log, checkpoint=checkpoint, seqs=wanted))
    covered = sorted({seq for seq in wanted if 0 <= seq < checkpoint.size})
    assert list(proofs) == covered
    for seq in covered:
        assert proofs[seq] == selectors.tlog_proof(log=log, seq=seq, size=checkpoint.size)


def test_entries_about_records_in_seq_order(log):
    about = list(selectors.entry_seqs_about(log=log, subjects={"dataset_version": [3, "5"]}))
    assert [(e.subject_id, e.type) for e in about] == [
        ("3", "dataset_version.registered"),
        ("5", "dataset_version.registered"),
    ]
    assert [e.seq for e in about] == sorted(e.seq for e in about)
    assert not selectors.entries_about(log=log, subjects={"dataset_version": []}).exists()
    first = selectors.entry_seq_first(log=log, subject_kind="dataset_version", subject_id=5)
    assert first == about[1].seq
    assert (
        selectors.entry_seq_first(
            log=log, subject_kind="dataset_version", subject_id=5, type="dataset.created"
        )
        is None
    )


def test_entry_summaries_and_lines_carry_the_stored_entry(log):
    entry = selectors.entry_at(log=log, seq=4)
    (summary,) = selectors.entry_summaries(log=log, seqs=[4, 4])
    assert (summary.seq, summary.type, summary.leaf_hash) == (4, entry.type, bytes(entry.leaf_hash))
    lines = list(selectors.entry_lines(entries=selectors.entries_filtered(log=log, start=4, end=6)))
    assert [line.seq for line in lines] == [4, 5]
    assert lines[0].body == bytes(entry.body)
