"""Row receipts: one decision's proof, served by the API, checked offline."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from apps.ledger.core.rows import row_input_sha256
from apps.ledger.offline_verifier import main as verify_main
from apps.ledger.offline_verifier import verify_receipt
from apps.registry.models import PredictionBatch
from tests.support import assert_nothing_written, make_frame, parquet_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(served, run_batch):
    ids = served()
    data = parquet_bytes(make_frame(37, seed=2))
    return PredictionBatch.objects.get(pk=run_batch(ids["deployment"]["id"], data)["id"])


def vkey(client) -> str:
    return client.get(reverse("ledger-keys")).content.decode().split()[0]


def row_input(batch: PredictionBatch, n: int) -> dict:
    with batch.input_artifact.file.open("rb") as f:
        table = pq.read_table(f)
    return {name: table.column(name)[n].as_py() for name in table.column_names}


@pytest.mark.parametrize("n", [0, 1, 17, 36])
def test_receipt_of_every_position_verifies_offline(completed, pipeline, tmp_path, capsys, n):
    response = pipeline.get(
        reverse("prediction-batch-row-receipt", kwargs={"pk": completed.pk, "n": n})
    )
    assert response.status_code == 200, response.content
    receipt = response.json()
    assert receipt["leaf_json"]["row"] == n
    assert receipt["leaf_json"]["input_sha256"] == row_input_sha256(row_input(completed, n))
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    row_path = tmp_path / "row.json"
    row_path.write_text(json.dumps(row_input(completed, n)))
    key = vkey(pipeline)
    assert verify_main(["receipt", str(path), "--vkey", key, "--input", str(row_path)]) == 0
    out = capsys.readouterr().out
    assert f"ok: row {n} is leaf {n}" in out
    assert "ok: the given input is the row's input" in out


def test_receipt_with_another_rows_input_fails(completed, pipeline):
    receipt = pipeline.get(
        reverse("prediction-batch-row-receipt", kwargs={"pk": completed.pk, "n": 3})
    ).json()
    with pytest.raises(ValueError, match="--input"):
        verify_receipt(receipt, [vkey(pipeline)], row_input(completed, 4))


def test_receipt_out_of_range_is_400_and_queued_batch_is_409(completed, pipeline):
    url = reverse("prediction-batch-row-receipt", kwargs={"pk": completed.pk, "n": 37})
    with assert_nothing_written():
        assert pipeline.get(url).status_code == 400
    PredictionBatch.objects.filter(pk=completed.pk).update(status="queued")
    url = reverse("prediction-batch-row-receipt", kwargs={"pk": completed.pk, "n": 0})
    with assert_nothing_written():
        assert pipeline.get(url).status_code == 409
