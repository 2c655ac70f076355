"""C2SP tlog-proof files: format, parsing and verification."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from apps.ledger.core.checkpoint import Checkpoint, sign_checkpoint
from apps.ledger.core.entry import build_entry
from apps.ledger.core.hashing import leaf_hash
from apps.ledger.core.merkle import inclusion_proof, tree_hash
from apps.ledger.core.note import NoteSigner
from apps.ledger.core.tlogproof import (
    TlogProof,
    TlogProofError,
    format_tlog_proof,
    parse_tlog_proof,
    verify_tlog_proof,
)

ORIGIN = "audit.example.eu/acme-bank"
SIZE = 13


@pytest.fixture(scope="module")
def log() -> dict:
    signer = NoteSigner.generate(ORIGIN)
    entries, leaves, prev = [], [], bytes(32)
    for seq in range(SIZE):
        body = build_entry(
            log=ORIGIN,
            seq=seq,
            time=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seq),
            type="model_version.registered",
            actor={"kind": "system", "id": "ledger", "name": ""},
            subject={"kind": "model_version", "id": f"mv_{seq}"},
            data={"sha256": f"{seq:064x}"},
            prev=prev,
        )
        prev = leaf_hash(body)
        entries.append(body)
        leaves.append(prev)
    note = sign_checkpoint(Checkpoint(ORIGIN, SIZE, tree_hash(leaves)), [signer])
    return {"signer": signer, "entries": entries, "leaves": leaves, "note": note}


def proof_text(log: dict, seq: int) -> str:
    return format_tlog_proof(
        entry_bytes=log["entries"][seq],
        index=seq,
        proof=inclusion_proof(seq, SIZE, log["leaves"]),
        checkpoint_note=log["note"],
    )


def test_format_matches_c2sp_layout(log: dict):
    text = proof_text(log, 5)
    lines = text.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert lines[1] == "extra " + base64.b64encode(log["entries"][5]).decode()
    assert lines[2] == "index 5"
    proof = inclusion_proof(5, SIZE, log["leaves"])
    assert lines[3 : 3 + len(proof)] == [base64.b64encode(h).decode() for h in proof]
    assert lines[3 + len(proof)] == ""
    assert text.endswith("\n\n" + log["note"])
    assert parse_tlog_proof(text) == TlogProof(
        extra=log["entries"][5], index=5, proof=tuple(proof), checkpoint_note=log["note"]
    )


def test_every_entry_verifies(log: dict):
    verifier = log["signer"].verifier()
    for seq in range(SIZE):
        checkpoint, entry = verify_tlog_proof(proof_text(log, seq), [verifier])
        assert checkpoint.size == SIZE
        assert entry["seq"] == seq and entry["log"] == ORIGIN


def test_single_entry_tree_has_no_proof_lines(log: dict):
    signer = log["signer"]
    note = sign_checkpoint(Checkpoint(ORIGIN, 1, log["leaves"][0]), [signer])
    text = format_tlog_proof(entry_bytes=log["entries"][0], index=0, proof=[], checkpoint_note=note)
    assert "index 0\n\n" + ORIGIN + "\n1\n" in text
    assert verify_tlog_proof(text, [signer.verifier()])[1]["seq"] == 0


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda t: t.replace("tlog-proof@v1", "tlog-proof@v2"), "first line"),
        (lambda t: t.replace("extra ", "extra  "), "extra"),
        (lambda t: t.replace("\nextra ", "\nxtra "), "second line"),
        (lambda t: t.replace("index 5", "index 05"), "third line"),
        (lambda t: t.replace("index 5", "index 6"), "inclusion proof"),
        (lambda t: t.replace("index 5", "index 99"), "inclusion proof"),
        (lambda t: t.split("\n\n")[0] + "\n", "missing empty line"),
        (lambda t: t.replace("\n\n", "\nAAAA\n\n", 1), "proof line 5"),
        (lambda t: t.replace(f"\n{SIZE}\n", f"\n{SIZE + 1}\n"), "checkpoint: invalid signature"),
        (lambda t: t.replace("— ", "- "), "checkpoint: malformed note"),
    ],
)
def test_broken_proofs_are_rejected(log: dict, mangle, message: str):
    text = mangle(proof_text(log, 5))
    with pytest.raises(TlogProofError, match=message):
        verify_tlog_proof(text, [log["signer"].verifier()])


def test_tampered_entry_or_proof_is_rejected(log: dict):
    verifier = log["signer"].verifier()
    parsed = parse_tlog_proof(proof_text(log, 5))
    other = format_tlog_proof(
        entry_bytes=log["entries"][6],
        index=5,
        proof=parsed.proof,
        checkpoint_note=parsed.checkpoint_note,
    )
    with pytest.raises(TlogProofError, match="inclusion proof"):
        verify_tlog_proof(other, [verifier])
    bad = list(parsed.proof)
    bad[0] = bytes([bad[0][0] ^ 0x80]) + bad[0][1:]
    with pytest.raises(TlogProofError, match="inclusion proof"):
        verify_tlog_proof(
            format_tlog_proof(
                entry_bytes=parsed.extra, index=5, proof=bad, checkpoint_note=parsed.checkpoint_note
            ),
            [verifier],
        )


def test_unknown_key_is_rejected(log: dict):
    with pytest.raises(TlogProofError, match="no valid signature by a known key"):
        verify_tlog_proof(proof_text(log, 5), [NoteSigner.generate(ORIGIN).verifier()])
