"""Receipts, entry proofs and export bundles fetched from the live server verify
offline, with the network cut, by the ledger's own verifier."""

from __future__ import annotations

import json
import socket
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from audit_client import Conflict, VerificationFailed, offline, rows_root
from audit_client.client import write_rows_file
from tests.support import make_frame, parquet_bytes


def cut_network(monkeypatch) -> None:
    """Any connection attempt fails the test: what follows runs with no server."""

    def refuse(*args, **kwargs):
        raise AssertionError("an offline check tried to connect")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def no_network(monkeypatch):
    cut_network(monkeypatch)


@pytest.fixture
def evidence(api, served, run_batch, tmp_path):
    """A batch our workers scored, its row 5's receipt, the log's keys and an export
    bundle, all fetched from the live server and written to files."""
    ids = served()
    batch = run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(12, seed=3)))
    receipt = api.row_receipt(str(batch["id"]), 5)
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    (tmp_path / "keys.vkey").write_text("\n".join(api.verifier_keys()) + "\n")
    proof = api.entry_proof(batch["ledger_seq"])
    (tmp_path / "batch.tlog-proof").write_text(proof)
    api.export_bundle(tmp_path / "bundle.zip")
    return tmp_path


def test_a_receipt_and_a_bundle_verify_offline(evidence, cli, no_network):
    vkey = (evidence / "keys.vkey").read_text().split()[0]
    lines = offline.verify_receipt(evidence / "receipt.json", trusted_vkeys=[vkey])
    assert "ok: row 5 is leaf 5 of the 12-row tree" in "\n".join(lines)
    lines = offline.verify_bundle(evidence / "bundle.zip", trusted_vkeys=[vkey])
    assert lines[-1].startswith("OK bundle verifies")
    code, out, err = cli("verify", str(evidence / "bundle.zip"), "--vkey", vkey)
    assert (code, err) == (0, "")
    assert "OK bundle verifies" in out
    code, out, _ = cli(
        "verify", str(evidence / "receipt.json"), "--vkey-file", str(evidence / "keys.vkey")
    )
    assert code == 0 and "ok: row 5 is leaf 5" in out
    code, out, _ = cli("verify", str(evidence / "batch.tlog-proof"), "--vkey", vkey)
    assert code == 0 and "is included in that tree" in out


def test_a_changed_receipt_or_bundle_fails_with_one_line(evidence, cli, no_network):
    vkey = (evidence / "keys.vkey").read_text().split()[0]
    receipt = json.loads((evidence / "receipt.json").read_text())
    receipt["row"] = 6
    (evidence / "forged.json").write_text(json.dumps(receipt))
    with pytest.raises(VerificationFailed):
        offline.verify_receipt(evidence / "forged.json", trusted_vkeys=[vkey])
    code, out, err = cli("verify", str(evidence / "forged.json"), "--vkey", vkey)
    assert code == 1 and out == "" and err.count("\n") == 1
    with (
        zipfile.ZipFile(evidence / "bundle.zip") as src,
        zipfile.ZipFile(evidence / "tampered.zip", "w") as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("entries.jsonl"):
                data = data[:40] + bytes([data[40] ^ 1]) + data[41:]
            dst.writestr(info, data)
    code, out, err = cli("verify", str(evidence / "tampered.zip"), "--vkey", vkey)
    assert code == 1 and err.startswith("audit-client: ") and err.count("\n") == 1
    code, _, err = cli("verify", str(evidence / "receipt.json"))
    assert code == 2 and "--vkey" in err


def test_a_recorded_batch_carries_the_rows_root_computed_here(api, served, cli, tmp_path):
    ids = served()
    rows = [({"age": 30 + i, "income": 1000.5 * i}, 0.25 * i) for i in range(5)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r, _ in rows))
    (tmp_path / "out.jsonl").write_text("".join(json.dumps(o) + "\n" for _, o in rows))
    code, out, err = cli(
        "--json",
        "batch",
        "record",
        "--deployment",
        str(ids["deployment"]["id"]),
        "--inputs",
        str(tmp_path / "in.jsonl"),
        "--outputs",
        str(tmp_path / "out.jsonl"),
    )
    assert (code, err) == (0, "")
    batch = json.loads(out)
    assert (batch["row_count"], batch["rows_root"]) == rows_root(rows)
    assert batch["status"] == "recorded"
    # The rows file went with it: the service serves each decision's receipt, which
    # verifies offline against the row's own input.
    assert batch["rows_file_sha256"]
    (tmp_path / "keys.vkey").write_text("\n".join(api.verifier_keys()))
    code, _, err = cli("receipt", str(batch["id"]), "3", "-o", str(tmp_path / "r3.json"))
    assert (code, err) == (0, "")
    (tmp_path / "row3.json").write_text(json.dumps(rows[3][0]))
    code, out, err = cli(
        "verify",
        str(tmp_path / "r3.json"),
        "--vkey-file",
        str(tmp_path / "keys.vkey"),
        "--input",
        str(tmp_path / "row3.json"),
    )
    assert (code, err) == (0, "")
    assert "ok: row 3 is leaf 3 of the 5-row tree" in out


def test_a_rows_file_that_disagrees_with_the_batch_is_refused(api, served, cli, tmp_path):
    ids = served()
    rows = [({"age": 30 + i}, 0.5) for i in range(4)]
    batch = api.prediction_batch_record_rows(
        deployment_id=ids["deployment"]["id"],
        rows=rows,
        input_sha256="a" * 64,
        output_sha256="b" * 64,
        attach_rows=False,
    )
    count, root = write_rows_file([*rows[:3], (rows[3][0], 0.75)], tmp_path / "rows.jsonl")
    recorded = f"the batch recorded 4 rows with rows_root {batch['rows_root']}"
    with pytest.raises(Conflict, match=recorded):
        api.prediction_batch_rows_attach(
            batch["id"], tmp_path / "rows.jsonl", row_count=count, rows_root=root
        )
    assert api.prediction_batch_get(batch["id"])["rows_file_sha256"] is None


def test_a_report_pdf_verifies_offline_and_a_changed_byte_does_not(
    api, system, cli, tmp_path, monkeypatch
):
    now = datetime.now(UTC)
    pdf = tmp_path / "audit-trail.pdf"
    code, out, err = cli(
        "report",
        "audit_trail",
        "--field",
        f"system_id={system['id']}",
        "--field",
        f"time_from={(now - timedelta(days=1)).isoformat()}",
        "--field",
        f"time_to={(now + timedelta(minutes=5)).isoformat()}",
        "-o",
        str(pdf),
    )
    assert (code, err) == (0, "")
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert (tmp_path / "audit-trail.pdf.tlog-proof").is_file()
    vkey = api.verifier_keys()[0]
    cut_network(monkeypatch)
    code, out, err = cli("verify", str(pdf), "--vkey", vkey)
    assert (code, err) == (0, "")
    assert f"ok: {pdf.name} is report" in out
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 1
    (tmp_path / "changed.pdf").write_bytes(bytes(data))
    code, out, err = cli(
        "verify", str(tmp_path / "changed.pdf"), "--vkey", vkey, "--proof", str(pdf) + ".tlog-proof"
    )
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "not the generated file" in err
    code, _, err = cli("verify", str(pdf), "--vkey", "someone-else+01234567+AQID")
    assert code == 1 and err.count("\n") == 1
