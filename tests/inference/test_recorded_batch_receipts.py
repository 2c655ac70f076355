"""Row receipts for a batch a pipeline ran itself and recorded through the API: once it
uploads the batch's input and output, or its own rows file, the receipts are served
exactly as for our workers' batches and verify offline; a rows file that does not give
the recorded rows_root is refused with the reason and nothing is written."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from apps.ledger.core.rows import row_input_sha256, row_leaf_bytes, rows_root
from apps.ledger.offline_verifier import main as verify_main
from apps.registry.models import PredictionBatch
from tests.support import assert_nothing_written, entry_types, make_frame, parquet_bytes, sha256

pytestmark = pytest.mark.django_db

INCOMES = [40000.0, 80000.0, 55000.0, 61000.5, 12000.0]
SCORES = [0.31, 0.07, 0.12, 0.5, 0.93]


def _inputs(i: int) -> dict:
    return {"income": INCOMES[i], "region": "north"}


def _leaves(scores=SCORES) -> list[bytes]:
    """The batch's leaves as a pipeline computes them (docs/formats.md, section 7)."""
    return [
        row_leaf_bytes(row=i, input_sha256=row_input_sha256(_inputs(i)), output=score)
        for i, score in enumerate(scores)
    ]


@pytest.fixture
def recorded(served, post):
    """A batch scored elsewhere, recorded with its digests, row count and rows root."""
    ids = served()
    inputs = parquet_bytes({"income": INCOMES, "region": ["north"] * len(INCOMES)})
    outputs = parquet_bytes({"score": SCORES})
    batch = post(
        "prediction-batch-list",
        {
            "deployment_id": ids["deployment"]["id"],
            "input_sha256": sha256(inputs),
            "output_sha256": sha256(outputs),
            "row_count": len(INCOMES),
            "rows_root": rows_root((_inputs(i), s) for i, s in enumerate(SCORES)),
        },
    )
    return {"batch": batch, "inputs": inputs, "outputs": outputs, **ids}


def _receipt(client, batch_id: int, n: int):
    return client.get(reverse("prediction-batch-row-receipt", kwargs={"pk": batch_id, "n": n}))


def _verifies(client, receipt: dict, n: int, tmp_path, capsys) -> None:
    """The bundled verifier accepts it offline, the row's input included."""
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    (tmp_path / "row.json").write_text(json.dumps(_inputs(n)))
    key = client.get(reverse("ledger-keys")).content.decode().split()[0]
    args = ["receipt", str(tmp_path / "receipt.json"), "--vkey", key]
    assert verify_main([*args, "--input", str(tmp_path / "row.json")]) == 0
    out = capsys.readouterr().out
    assert f"ok: row {n} is leaf {n} of the {len(INCOMES)}-row tree" in out
    assert "ok: the given input is the row's input" in out


def test_a_recorded_batch_without_its_rows_says_how_to_get_receipts(recorded, pipeline):
    with assert_nothing_written():
        response = _receipt(pipeline, recorded["batch"]["id"], 0)
    assert response.status_code == 409
    message = response.json()["error"]["message"]
    assert f"/prediction-batches/{recorded['batch']['id']}/rows" in message


def test_uploaded_input_and_output_give_receipts_like_our_workers(
    recorded, pipeline, post, upload, run_batch, tmp_path, capsys
):
    batch_id = recorded["batch"]["id"]
    upload(recorded["inputs"], "in.parquet")
    upload(recorded["outputs"], "out.parquet")
    answer = post(
        "prediction-batch-files",
        {"input_sha256": sha256(recorded["inputs"]), "output_sha256": sha256(recorded["outputs"])},
        status=200,
        pk=batch_id,
    )
    assert answer["rows_file_sha256"]
    for n in (0, len(INCOMES) - 1):
        response = _receipt(pipeline, batch_id, n)
        assert response.status_code == 200, response.content
        receipt = response.json()
        assert receipt["entry"]["type"] == "prediction_batch.recorded"
        assert receipt["leaf"] == _b64(_leaves()[n])
        _verifies(pipeline, receipt, n, tmp_path, capsys)
    # The same receipt format as a batch one of our workers ran.
    worker = run_batch(recorded["deployment"]["id"], parquet_bytes(make_frame(3, seed=1)))
    theirs = _receipt(pipeline, worker["id"], 0).json()
    assert set(theirs) == set(receipt) and theirs["format"] == receipt["format"]


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _jsonl(leaves: list[bytes]) -> bytes:
    return b"".join(leaf + b"\n" for leaf in leaves)


def _parquet(leaves: list[bytes]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"leaf": pa.array(leaves, pa.binary())}), sink)
    return sink.getvalue()


@pytest.mark.parametrize("encode", [_jsonl, _parquet], ids=["json-lines", "parquet"])
def test_the_pipelines_own_rows_file_gives_receipts(
    encode, org, recorded, pipeline, post, upload, tmp_path, capsys
):
    batch_id = recorded["batch"]["id"]
    rows_file = encode(_leaves())
    upload(rows_file, "rows")
    answer = post(
        "prediction-batch-rows", {"rows_sha256": sha256(rows_file)}, status=200, pk=batch_id
    )
    assert answer["rows_file_sha256"]
    assert entry_types(org)[-1] == "prediction_batch.rows_verified"
    for n in range(len(INCOMES)):
        response = _receipt(pipeline, batch_id, n)
        assert response.status_code == 200, response.content
        _verifies(pipeline, response.json(), n, tmp_path, capsys)
    # Once only.
    post("prediction-batch-rows", {"rows_sha256": sha256(rows_file)}, status=409, pk=batch_id)


BAD_ROWS = {
    # Another output in row 3: a valid file, but not the batch recorded.
    "another-output": (_jsonl(_leaves([*SCORES[:3], 0.51, SCORES[4]])), 409, "rows_root"),
    "a-row-missing": (_jsonl(_leaves()[:-1]), 409, "hold 4 rows"),
    "out-of-order": (_jsonl([_leaves()[1], _leaves()[0], *_leaves()[2:]]), 400, "row order"),
    "not-canonical": (
        _jsonl([json.dumps(json.loads(_leaves()[0]), indent=1).replace("\n", "").encode()]),
        400,
        "canonical",
    ),
    "not-json": (b"hello\n", 400, "not JSON"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_a_rows_file_that_is_not_the_batchs_is_refused_with_the_reason(
    case, recorded, pipeline, post, upload
):
    data, status, reason = BAD_ROWS[case]
    upload(data, "rows.jsonl")
    # ``post`` checks that the refusal wrote nothing.
    answer = post(
        "prediction-batch-rows",
        {"rows_sha256": sha256(data)},
        status=status,
        pk=recorded["batch"]["id"],
    )
    assert reason in json.dumps(answer), answer
    batch = PredictionBatch.objects.get(pk=recorded["batch"]["id"])
    assert batch.rows_artifact is None
    assert _receipt(pipeline, batch.pk, 0).status_code == 409


def test_a_rows_file_not_uploaded_is_400_and_a_worker_batch_takes_none(
    recorded, post, run_batch, upload
):
    missing = "0" * 64
    answer = post(
        "prediction-batch-rows", {"rows_sha256": missing}, status=400, pk=recorded["batch"]["id"]
    )
    assert "rows_sha256" in answer["error"]["fields"]
    worker = run_batch(recorded["deployment"]["id"], parquet_bytes(make_frame(3, seed=1)))
    rows_file = _jsonl(_leaves())
    upload(rows_file, "rows")
    post("prediction-batch-rows", {"rows_sha256": sha256(rows_file)}, status=409, pk=worker["id"])
