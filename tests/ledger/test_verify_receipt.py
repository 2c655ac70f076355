"""``python -m apps.ledger.offline_verifier receipt``: a row receipt checked offline, and every
way a tampered receipt fails."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
import rfc8785

from apps.ledger import selectors
from apps.ledger import services as ledger
from apps.ledger.core.hashing import leaf_hash
from apps.ledger.core.merkle import inclusion_proof, tree_hash
from apps.ledger.core.rows import row_input_sha256, row_leaf_bytes
from apps.ledger.offline_verifier import RECEIPT_FORMAT, main, verify_receipt
from apps.ledger.types import Actor, Subject

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
ROWS = [({"x": float(i), "name": f"r{i}"}, i / 10) for i in range(11)]


@pytest.fixture
def receipt_and_key(org):
    leaves = [
        row_leaf_bytes(row=i, input_sha256=row_input_sha256(row), output=out)
        for i, (row, out) in enumerate(ROWS)
    ]
    hashes = [leaf_hash(leaf) for leaf in leaves]
    receipt = ledger.entry_append(
        organization=org,
        actor=Actor(kind="system", id="tests", name="tests"),
        type="prediction_batch.completed",
        subject=Subject(kind="prediction_batch", id="1"),
        data={"rows": len(ROWS), "rows_root": tree_hash(hashes).hex()},
    )
    log = selectors.log_for(organization=org)
    n = 6
    document = {
        "format": RECEIPT_FORMAT,
        "row": n,
        "rows": len(ROWS),
        "leaf": base64.b64encode(leaves[n]).decode(),
        "inclusion_proof": [
            base64.b64encode(h).decode() for h in inclusion_proof(n, len(hashes), hashes)
        ],
        "tlog_proof": selectors.tlog_proof(log=log, seq=receipt.seq),
    }
    return document, selectors.verifier_keys(log=log)[0]


def test_receipt_verifies_and_checks_the_row_input(receipt_and_key):
    receipt, key = receipt_and_key
    lines = verify_receipt(receipt, [key], ROWS[6][0])
    assert lines[-1].startswith("ok: the given input is the row's input")


def test_cli_runs_without_django(receipt_and_key, tmp_path):
    receipt, key = receipt_and_key
    (tmp_path / "r.json").write_text(json.dumps(receipt))
    (tmp_path / "row.json").write_text(json.dumps(ROWS[6][0]))
    code = (
        "import sys; sys.modules['django'] = None; "
        "from apps.ledger.offline_verifier import main; sys.exit(main(sys.argv[1:]))"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "receipt",
            str(tmp_path / "r.json"),
            "--vkey",
            key,
            "--input",
            str(tmp_path / "row.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("verifies")


def _leaf(receipt):
    return json.loads(base64.b64decode(receipt["leaf"]))


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda r: r.update(row=5), "leaf is for row 6"),
        (
            lambda r: r.update(
                leaf=base64.b64encode(rfc8785.dumps({**_leaf(r), "output": 0.9})).decode()
            ),
            "row inclusion proof",
        ),
        (lambda r: r["inclusion_proof"].pop(), "row inclusion proof"),
        (lambda r: r.update(leaf=base64.b64encode(b'{"row":6}').decode()), "leaf: must be"),
        (lambda r: r.update(format="other"), "not a row receipt"),
        (lambda r: r.update(tlog_proof=r["tlog_proof"].replace("index", "index 1", 1)), "third"),
    ],
    ids=["row", "output", "proof", "leaf-shape", "format", "tlog-proof"],
)
def test_tampered_receipt_fails(receipt_and_key, tamper, message):
    receipt, key = receipt_and_key
    tamper(receipt)
    with pytest.raises(ValueError, match=message):
        verify_receipt(receipt, [key])


def test_wrong_input_and_wrong_key_fail(receipt_and_key, tmp_path, capsys):
    receipt, key = receipt_and_key
    with pytest.raises(ValueError, match="--input"):
        verify_receipt(receipt, [key], {**ROWS[6][0], "x": 7.0})
    other = "localhost/other+12345678+" + base64.b64encode(b"\x01" + b"\x00" * 32).decode()
    (tmp_path / "r.json").write_text(json.dumps(receipt))
    assert main(["receipt", str(tmp_path / "r.json"), "--vkey", other]) == 1
    assert "FAIL" in capsys.readouterr().out
