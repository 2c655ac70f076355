"""Batch inference in-process (tasks run on commit, as on the embedded default)."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import xgboost as xgb
from django.urls import reverse

from apps.ledger.models import Entry
from apps.registry.models import Artifact, PredictionBatch
from apps.tasks.models import TaskRecord
from tests.support import (
    FEATURES,
    entry_types,
    make_frame,
    parquet_bytes,
    train_xgboost,
    xgboost_bytes,
)

pytestmark = pytest.mark.django_db


def test_run_scores_input_and_completes_with_one_entry(org, served, run_batch, pipeline):
    booster = train_xgboost()
    ids = served(xgboost_bytes(booster))
    frame = make_frame(3000, seed=3)
    data = parquet_bytes(frame)
    answer = run_batch(ids["deployment"]["id"], data)
    batch = PredictionBatch.objects.get(pk=answer["id"])
    assert batch.status == "completed", batch.failure_reason
    assert batch.row_count == 3000
    assert len(batch.rows_root) == 64
    expected = booster.inplace_predict(np.column_stack([frame[f] for f in FEATURES]).astype("f4"))
    with batch.output_artifact.file.open("rb") as f:
        out = pq.read_table(f)
    assert out.column_names == ["prediction"]
    np.testing.assert_allclose(out.column(0).to_numpy(), expected, rtol=0, atol=1e-7)
    assert batch.output_sha256 == batch.output_artifact.sha256
    assert batch.telemetry["device"] == "cpu"
    assert batch.telemetry["cpu_seconds"] >= 0
    assert "cpu_fallback_reason" in batch.ran_on
    types = entry_types(org)
    assert types.count("prediction_batch.requested") == 1
    assert types.count("prediction_batch.completed") == 1
    completed = Entry.objects.get(log__organization=org, type="prediction_batch.completed")
    data_ = json.loads(bytes(completed.body))["data"]
    assert data_["rows_root"] == batch.rows_root
    assert data_["output_sha256"] == batch.output_sha256
    assert data_["rows"] == 3000
    assert data_["telemetry"]["device"] == "cpu"
    task = TaskRecord.objects.get(pk=answer["task_id"])
    assert task.state == "succeeded" and task.percent == 100
    detail = pipeline.get(reverse("prediction-batch-detail", kwargs={"pk": batch.pk})).json()
    assert detail["output_artifact_sha256"] == batch.output_sha256
    assert detail["telemetry"]["device"] == "cpu"


def test_rows_root_matches_the_registry_file_check(served, run_batch):
    """The root our worker records is the one the registry recomputes from the files."""
    from apps.registry.tabular import batch_rows_root

    ids = served()
    data = parquet_bytes(make_frame(700, seed=5) | {"customer": np.arange(700)})
    batch = PredictionBatch.objects.get(pk=run_batch(ids["deployment"]["id"], data)["id"])
    with batch.input_artifact.file.open("rb") as i, batch.output_artifact.file.open("rb") as o:
        root, rows = batch_rows_root(input_stream=i, output_stream=o)
    assert (root, rows) == (batch.rows_root, 700)


@pytest.mark.parametrize(("interval_ms", "updates"), [(0, 10), (60_000, 0)])
def test_progress_updates_are_spaced_by_inference_progress_ms(
    served, run_batch, settings, monkeypatch, interval_ms, updates
):
    """Each update is a committed write: one per step only when asked for (0 ms)."""
    from apps.tasks import jobs

    settings.INFERENCE_CHUNK_ROWS = 100
    settings.INFERENCE_PROGRESS_MS = interval_ms
    messages: list[str] = []
    record = jobs.task_record_progress

    def spy(**kwargs):
        messages.append(kwargs["message"])
        record(**kwargs)

    monkeypatch.setattr(jobs, "task_record_progress", spy)
    ids = served()
    answer = run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(1000)))
    assert PredictionBatch.objects.get(pk=answer["id"]).status == "completed"
    assert sum(m.endswith("rows scored") for m in messages) == updates


def test_csv_input_is_scored_like_parquet(served, run_batch):
    ids = served()
    frame = make_frame(200, seed=9)
    csv = "age,income,debt,tenure\n" + "\n".join(
        ",".join(repr(float(frame[f][i])) for f in FEATURES) for i in range(200)
    )
    batch = PredictionBatch.objects.get(
        pk=run_batch(ids["deployment"]["id"], csv.encode(), name="in.csv")["id"]
    )
    assert batch.status == "completed", batch.failure_reason
    assert batch.row_count == 200


def test_output_can_be_downloaded(served, run_batch, pipeline):
    ids = served()
    batch = run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(50)))
    response = pipeline.get(reverse("prediction-batch-output", kwargs={"pk": batch["id"]}))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert pq.read_table(io.BytesIO(body)).num_rows == 50


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"age,income,debt,tenure\n", "no rows"),
        (b"\x00\x01garbage\xff\xfe", "not a readable"),
        (parquet_bytes({"age": [1.0], "income": [2.0]}), "lacks the model's feature columns"),
        (
            parquet_bytes({f: ["x"] for f in FEATURES}),
            "holds string values; the model needs numbers",
        ),
        (parquet_bytes({f: np.array([], dtype="f8") for f in FEATURES}), "no rows"),
    ],
    ids=["header-only-csv", "unreadable", "wrong-columns", "wrong-dtype", "no-rows"],
)
def test_bad_input_is_refused_up_front_and_nothing_is_written(
    org, served, run_batch, data, message
):
    ids = served()
    answer = run_batch(ids["deployment"]["id"], data, status=400)
    assert message in answer["error"]["message"]
    assert not PredictionBatch.objects.filter(status__in=["queued", "completed"]).exists()
    assert "prediction_batch.completed" not in entry_types(org)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (parquet_bytes({"age": [1.0], "income": [2.0]}), "lacks the model's feature columns"),
        (parquet_bytes({f: ["x"] for f in FEATURES}), "holds string values"),
        (b"\x00\x01garbage\xff\xfe", "not a readable"),
        (
            parquet_bytes({**make_frame(3), "customer_ref": np.array([1, 2**60, 3])}),
            "rows 0 to 2 hold a value that JSON (RFC 8785) cannot carry",
        ),
        (
            parquet_bytes({**make_frame(3), "credit_limit": np.array([1.0, np.inf, 2.0])}),
            "rows 0 to 2 hold a value that JSON (RFC 8785) cannot carry",
        ),
    ],
    ids=["wrong-columns", "wrong-dtype", "unreadable", "integer-beyond-2**53", "infinite"],
)
def test_bad_input_reaching_the_worker_fails_the_batch_with_its_reason(
    org, served, upload, data, message
):
    """Input that skipped the API's check (queued by another path) fails in the
    worker: the reason on the batch and its task, no output, no completion entry."""
    from apps.inference.tasks import prediction_batch_run_task
    from apps.registry import services as registry
    from apps.registry.models import Deployment
    from apps.tasks.services import task_record_create
    from audit_platform.principal import Principal

    ids = served()
    upload(data)
    artifact = Artifact.objects.get(sha256=__import__("hashlib").sha256(data).hexdigest())
    task = task_record_create(organization=org, kind="inference.prediction_batch")
    batch, _ = registry.prediction_batch_request(
        actor=Principal.system(organization=org, name="tests"),
        deployment=Deployment.objects.get(pk=ids["deployment"]["id"]),
        input_artifact=artifact,
        task=task,
    )
    prediction_batch_run_task.apply(args=[batch.pk])
    batch.refresh_from_db()
    task.refresh_from_db()
    assert batch.status == "failed"
    assert message in batch.failure_reason
    assert task.state == "failed" and message in task.message
    assert batch.output_artifact is None and batch.output_sha256 == ""
    types = entry_types(org)
    assert "prediction_batch.failed" in types
    assert "prediction_batch.completed" not in types


def test_pickle_model_is_refused_and_nothing_is_executed(org, upload, post, tmp_path):
    """A pickle that would create a file when loaded: refused at registration, and
    refused by the loader itself, which never unpickles."""
    import pickle

    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    payload = pickle.dumps(Exploit(), protocol=4)
    system = post("system-list", {"name": "S", "intended_purpose": "p", "role": "provider"})
    model = post("model-list", {"system_id": system["id"], "name": "m"})
    upload(payload, name="model.pkl")
    answer = post(
        "model-version-list",
        {
            "version": "1",
            "artifact_sha256": __import__("hashlib").sha256(payload).hexdigest(),
            "artifact_format": "xgboost-json",
            "framework": "xgboost",
            "framework_version": "1",
            "uploaded": True,
        },
        status=400,
        model_pk=model["id"],
    )
    assert "pickle" in answer["error"]["message"]
    from apps.inference.devices import cpu_device
    from apps.inference.errors import JobRefused
    from apps.inference.loading import load_bytes

    for fmt in ("xgboost-json", "sklearn-skops", "onnx"):
        with pytest.raises(JobRefused, match="pickle"):
            load_bytes(
                data=payload,
                fmt=fmt,
                expected_sha256=__import__("hashlib").sha256(payload).hexdigest(),
                device=cpu_device("test"),
            )
    assert not marker.exists()


def test_model_changed_at_rest_is_refused_and_recorded(org, served, run_batch):
    from apps.inference.loading import cache

    ids = served()
    version = ids["version"]
    artifact = Artifact.objects.get(sha256=ids["model_sha256"])
    cache.clear()
    with open(artifact.file.path, "ab") as f:
        f.write(b" ")
    answer = run_batch(
        ids["deployment"]["id"], parquet_bytes(make_frame(5)), status=409, refusal_recorded=True
    )
    assert "integrity check failed" in answer["error"]["message"]
    assert "artifact.integrity_failed" in entry_types(org)
    assert version["id"]
    assert not PredictionBatch.objects.exists()


def test_model_changed_after_queueing_fails_the_batch(org, served, pipeline, upload, post):
    """The worker checks the digest again before loading: failure with the reason,
    an integrity entry, no output and no completion entry."""
    from django.test.utils import CaptureQueriesContext  # noqa: F401

    from apps.inference import services
    from apps.inference.loading import cache
    from apps.inference.tasks import prediction_batch_run_task

    ids = served()
    data = parquet_bytes(make_frame(10))
    upload(data)
    artifact = Artifact.objects.get(sha256=__import__("hashlib").sha256(data).hexdigest())
    from apps.registry.models import Deployment
    from audit_platform.principal import Principal

    actor = Principal.system(organization=org, name="tests")
    deployment = Deployment.objects.get(pk=ids["deployment"]["id"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(prediction_batch_run_task, "delay", lambda *a: None)
        batch, _, _ = services.batch_run_request(
            actor=actor, deployment=deployment, input_artifact=artifact
        )
    cache.clear()
    model_artifact = Artifact.objects.get(sha256=ids["model_sha256"])
    with open(model_artifact.file.path, "ab") as f:
        f.write(b" ")
    prediction_batch_run_task.apply(args=[batch.pk])
    batch.refresh_from_db()
    assert batch.status == "failed"
    assert "integrity check failed" in batch.failure_reason
    assert batch.output_artifact is None
    types = entry_types(org)
    assert "artifact.integrity_failed" in types
    assert "prediction_batch.failed" in types
    assert "prediction_batch.completed" not in types


def test_redelivered_task_does_nothing_after_completion(org, served, run_batch):
    from apps.inference.tasks import prediction_batch_run_task

    ids = served()
    answer = run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(30)))
    prediction_batch_run_task.apply(args=[answer["id"]])
    assert entry_types(org).count("prediction_batch.completed") == 1
    assert PredictionBatch.objects.get(pk=answer["id"]).status == "completed"


def test_ubj_and_lightgbm_and_skops_models_are_scored(served, run_batch):
    import lightgbm as lgb
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    frame = make_frame(500, seed=1)
    x = np.column_stack([frame[f] for f in FEATURES])
    y = (x[:, 0] > 0).astype(int)
    booster = train_xgboost()
    lgbm = lgb.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 7},
        lgb.Dataset(x, label=y, feature_name=FEATURES),
        num_boost_round=5,
    )
    import pandas as pd

    logreg = LogisticRegression().fit(pd.DataFrame(x, columns=FEATURES), y)
    named = pd.DataFrame(x.astype("f4"), columns=FEATURES)
    cases = [
        (xgboost_bytes(booster, "ubj"), "xgboost-ubj", booster.inplace_predict(x.astype("f4"))),
        (lgbm.model_to_string().encode(), "lightgbm-txt", lgbm.predict(x.astype("f4"))),
        (sio.dumps(logreg), "sklearn-skops", logreg.predict_proba(named)[:, 1]),
    ]
    for i, (blob, fmt, expected) in enumerate(cases):
        ids = served(blob, fmt, name=f"m{i}")
        answer = run_batch(ids["deployment"]["id"], parquet_bytes(frame))
        batch = PredictionBatch.objects.get(pk=answer["id"])
        assert batch.status == "completed", (fmt, batch.failure_reason)
        with batch.output_artifact.file.open("rb") as f:
            got = pq.read_table(f).column(0).to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=fmt)


def test_skops_file_with_untrusted_type_is_refused():
    import skops.io as sio
    from sklearn.pipeline import FunctionTransformer

    from apps.inference.devices import cpu_device
    from apps.inference.errors import JobRefused
    from apps.inference.loading import load_bytes

    blob = sio.dumps(FunctionTransformer(func=eval))
    with pytest.raises(JobRefused, match="allow-list"):
        load_bytes(
            data=blob,
            fmt="sklearn-skops",
            expected_sha256=__import__("hashlib").sha256(blob).hexdigest(),
            device=cpu_device("test"),
        )


def test_xgboost_model_declared_as_lightgbm_text_is_refused():
    from apps.inference.devices import cpu_device
    from apps.inference.errors import JobRefused
    from apps.inference.loading import load_bytes

    blob = b"tree\nversion=v4\nnot really a model"
    with pytest.raises(JobRefused, match="does not load as lightgbm-txt"):
        load_bytes(
            data=blob,
            fmt="lightgbm-txt",
            expected_sha256=__import__("hashlib").sha256(blob).hexdigest(),
            device=cpu_device("test"),
        )
    blob = b'{"not": "an xgboost model"}'
    with pytest.raises(JobRefused, match="does not load as xgboost-json"):
        load_bytes(
            data=blob,
            fmt="xgboost-json",
            expected_sha256=__import__("hashlib").sha256(blob).hexdigest(),
            device=cpu_device("test"),
        )


def test_models_are_cached_per_process_by_digest(settings):
    from apps.inference.devices import cpu_device
    from apps.inference.loading import ModelCache

    settings.MODEL_CACHE_SIZE = 2
    cache = ModelCache()
    reads = []
    blobs = [xgboost_bytes(train_xgboost(trees=2, seed=s)) for s in range(3)]

    def loader(blob):
        def read():
            reads.append(1)
            return blob

        return read

    digests = [__import__("hashlib").sha256(b).hexdigest() for b in blobs]
    device = cpu_device("test")
    for _ in range(2):
        cache.get_or_load(
            digest=digests[0], fmt="xgboost-json", device=device, read=loader(blobs[0])
        )
    assert len(reads) == 1
    for d, b in zip(digests[1:], blobs[1:], strict=True):
        cache.get_or_load(digest=d, fmt="xgboost-json", device=device, read=loader(b))
    assert len(cache) == 2
    assert isinstance(
        cache.get_or_load(
            digest=digests[0], fmt="xgboost-json", device=device, read=loader(blobs[0])
        ).native,
        xgb.Booster,
    )
    assert len(reads) == 4  # the first was evicted and loaded again


def onnx_logistic_bytes(weights=(0.5, -1.0, 0.25, 2.0), bias=0.1) -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.array(weights, dtype=np.float32).reshape(-1, 1), "W")
    b = numpy_helper.from_array(np.array([bias], dtype=np.float32), "B")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["input", "W"], ["z0"]),
            helper.make_node("Add", ["z0", "B"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["probability"]),
        ],
        "logistic",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, len(weights)])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, [None, 1])],
        [w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def test_onnx_model_is_scored_and_explained_by_permutation(served, run_batch, post):
    from apps.explainability.models import Explanation

    frame = make_frame(40, seed=8)
    ids = served(onnx_logistic_bytes(), "onnx", name="onnx")
    answer = run_batch(ids["deployment"]["id"], parquet_bytes(frame))
    batch = PredictionBatch.objects.get(pk=answer["id"])
    assert batch.status == "completed", batch.failure_reason
    x = np.column_stack([frame[f] for f in FEATURES]).astype(np.float32)
    expected = 1 / (1 + np.exp(-(x @ np.array([0.5, -1.0, 0.25, 2.0], "f4") + 0.1)))
    with batch.output_artifact.file.open("rb") as f:
        got = pq.read_table(f).column(0).to_numpy()
    np.testing.assert_allclose(got, expected, atol=1e-6)
    explained = post(
        "explanation-list",
        {
            "model_version_id": ids["version"]["id"],
            "prediction_batch_id": batch.pk,
            "background_rows": 10,
        },
    )
    explanation = Explanation.objects.get(pk=explained["id"])
    assert explanation.method == "shap_permutation_explainer"
    assert explanation.status == "completed", explanation.failure_reason
    assert explanation.estimated_cost_seconds is not None
    assert explanation.additivity_max_error <= 1e-4
