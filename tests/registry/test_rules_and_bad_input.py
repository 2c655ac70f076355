"""Illegal transitions and bad input get a 4xx naming the field or rule, and leave
no row and no ledger entry behind."""

from __future__ import annotations

import pickle

import pytest
from django.test import override_settings
from django.urls import reverse

from apps.ledger.models import Entry
from apps.registry.models import (
    Artifact,
    DatasetVersion,
    ModelVersion,
    PredictionBatch,
    TrainingRun,
)
from tests.support import DATASHEET, assert_nothing_written, parquet_bytes, sha256


@pytest.fixture
def ledger_size(org):
    return lambda: Entry.objects.filter(log__organization=org).count()


@pytest.fixture
def run(post, system):
    return post("training-run-list", {"system_id": system["id"]})


def test_completing_a_failed_run_is_409(post, run, ledger_size):
    post("training-run-fail", {"reason": "OOM on epoch 3"}, status=200, pk=run["id"])
    before = ledger_size()
    error = post("training-run-complete", {"metrics": {"auc": 0.9}}, status=409, pk=run["id"])[
        "error"
    ]
    assert "is failed; only a running run can be marked completed" in error["message"]
    assert ledger_size() == before
    assert TrainingRun.objects.get(pk=run["id"]).metrics == {}


def test_a_run_that_never_reported_back_can_be_abandoned(post, run, org):
    abandoned = post(
        "training-run-abandon", {"reason": "no heartbeat for 48h"}, status=200, pk=run["id"]
    )
    assert abandoned["status"] == "abandoned" and abandoned["duration_seconds"] >= 0


def test_model_version_from_an_unfinished_run_is_409(post, run, system, ledger_size):
    model = post("model-list", {"system_id": system["id"], "name": "m"})
    before = ledger_size()
    error = post(
        "model-version-list",
        {
            "version": "1",
            "artifact_sha256": "ab" * 32,
            "artifact_format": "onnx",
            "framework": "onnx",
            "framework_version": "1",
            "uri": "s3://x",
            "training_run_id": run["id"],
        },
        status=409,
        model_pk=model["id"],
    )["error"]
    assert "only a completed run can produce a model version" in error["message"]
    assert ledger_size() == before and not ModelVersion.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"artifact_sha256": "ABC"}, "artifact_sha256"),
        ({"artifact_sha256": "g" * 64}, "artifact_sha256"),
        ({"artifact_format": "pickle"}, "artifact_format"),
        ({"artifact_format": "joblib"}, "artifact_format"),
        ({"version": ""}, "version"),
        ({"colour": "red"}, "colour"),
        ({"metrics": "high"}, "metrics"),
    ],
)
def test_bad_model_version_input_names_the_field(post, system, ledger_size, change, field):
    model = post("model-list", {"system_id": system["id"], "name": "m"})
    before = ledger_size()
    payload = {
        "version": "1",
        "artifact_sha256": "ab" * 32,
        "artifact_format": "onnx",
        "framework": "onnx",
        "framework_version": "1",
        "uri": "s3://x",
        **change,
    }
    error = post("model-version-list", payload, status=400, model_pk=model["id"])["error"]
    assert field in error["fields"]
    assert ledger_size() == before and not ModelVersion.objects.exists()


def test_pickle_uploaded_as_a_model_is_refused(post, upload, system, ledger_size):
    data = pickle.dumps({"looks": "like a model"})
    upload(data, "model.pkl")
    model = post("model-list", {"system_id": system["id"], "name": "m"})
    before = ledger_size()
    error = post(
        "model-version-list",
        {
            "version": "1",
            "artifact_sha256": sha256(data),
            "artifact_format": "xgboost-json",
            "framework": "xgboost",
            "framework_version": "2",
            "uploaded": True,
        },
        status=400,
        model_pk=model["id"],
    )["error"]
    assert "pickle" in error["message"] and "sklearn-skops" in error["message"]
    assert ledger_size() == before and not ModelVersion.objects.exists()


def _dataset_version_payload(data: bytes, **change) -> dict:
    return {
        "version": "1",
        "sha256": sha256(data),
        "size_bytes": len(data),
        "row_count": 2,
        "schema": [{"name": "age", "type": "integer"}, {"name": "city", "type": "string"}],
        "split": "train",
        "datasheet": DATASHEET,
        "contains_personal_data": False,
        "contains_special_category_data": False,
        "artifact_sha256": sha256(data),
        **change,
    }


@pytest.fixture
def dataset(post, system):
    return post("dataset-list", {"system_id": system["id"], "name": "d"})


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"schema": [{"name": "age", "type": "integer"}]},
            "schema",
            "the file has columns ['age', 'city']",
        ),
        (
            {"schema": [{"name": "age", "type": "string"}, {"name": "city", "type": "string"}]},
            "schema",
            "column 'age' holds integer values",
        ),
        ({"schema": [{"name": "age", "type": "int"}]}, "schema", "one of integer"),
        ({"sha256": "12" * 32}, "sha256", "declares other values"),
        ({"sha256": "xyz"}, "sha256", "64 lowercase hexadecimal"),
        ({"split": "holdout"}, "split", "valid choice"),
        ({"datasheet": {**DATASHEET, "bias_examination": None} | {}}, "datasheet", ""),
        (
            {"datasheet": {k: v for k, v in DATASHEET.items() if k != "data_gaps"}},
            "datasheet.data_gaps",
            "Art. 10(2)",
        ),
        (
            {
                "contains_personal_data": True,
                "datasheet": {k: v for k, v in DATASHEET.items() if k != "original_purpose"},
            },
            "datasheet.original_purpose",
            "original purpose",
        ),
        (
            {"artifact_sha256": "34" * 32},
            "artifact_sha256",
            "upload it to /api/v1/artifacts/ first",
        ),
    ],
)
def test_bad_dataset_version_gets_400_and_writes_nothing(
    post, upload, dataset, ledger_size, change, field, message
):
    data = parquet_bytes({"age": [31, 45], "city": ["Lyon", "Graz"]})
    upload(data, "d.parquet")
    before = ledger_size()
    payload = _dataset_version_payload(data, **change)
    if change.get("datasheet", {}).get("bias_examination", "") is None:
        payload["datasheet"] = {**DATASHEET, "colour": "red"}
        field, message = "datasheet.colour", "Unknown field"
    error = post("dataset-version-list", payload, status=400, dataset_pk=dataset["id"])["error"]
    assert any(name.startswith(field) for name in error["fields"]), error
    assert message in error["message"] + str(error["fields"])
    assert ledger_size() == before and not DatasetVersion.objects.exists()


def test_row_count_that_the_file_contradicts_fails_the_statistics(post, upload, dataset, org):
    data = parquet_bytes({"age": [31, 45], "city": ["Lyon", "Graz"]})
    upload(data, "d.parquet")
    version = post(
        "dataset-version-list",
        _dataset_version_payload(data, row_count=5),
        dataset_pk=dataset["id"],
    )
    stored = DatasetVersion.objects.get(pk=version["id"])
    assert stored.statistics_state == "failed"
    assert stored.statistics_message == "the file has 2 rows; the registration declares 5"
    assert (
        Entry.objects.filter(
            log__organization=org, type="dataset_version.statistics_failed"
        ).count()
        == 1
    )


def test_uploaded_artifact_is_stored_once_and_digest_is_checked(pipeline, upload, org):
    data = b"a,b\n1,2\n"
    first = upload(data, "x.csv", sha256=sha256(data))
    again = upload(data, "y.csv")
    assert first["id"] == again["id"] and again["duplicate"] is True and again["ledger"] is None
    assert Artifact.objects.count() == 1
    with assert_nothing_written():
        response = pipeline.post(
            reverse("artifact-list"),
            {"file": __import__("io").BytesIO(b"other"), "sha256": "00" * 32},
            format="multipart",
        )
    assert response.status_code == 400
    assert "sha256" in response.json()["error"]["fields"]
    assert Artifact.objects.count() == 1


@override_settings(ARTIFACT_MAX_BYTES=1000)
def test_oversize_upload_is_refused(pipeline, org):
    before = Entry.objects.filter(log__organization=org).count()
    from django.core.files.uploadedfile import SimpleUploadedFile

    with assert_nothing_written():
        response = pipeline.post(
            reverse("artifact-list"),
            {"file": SimpleUploadedFile("big.bin", b"x" * 5000)},
            format="multipart",
        )
    assert response.status_code == 400
    assert "limit" in response.json()["error"]["message"]
    assert not Artifact.objects.exists()
    assert Entry.objects.filter(log__organization=org).count() == before


def test_batch_files_that_differ_from_the_record_are_refused(post, upload, system):
    model = post("model-list", {"system_id": system["id"], "name": "m"})
    mv = post(
        "model-version-list",
        {
            "version": "1",
            "artifact_sha256": "ab" * 32,
            "artifact_format": "onnx",
            "framework": "onnx",
            "framework_version": "1",
            "uri": "s3://x",
        },
        model_pk=model["id"],
    )
    deployment = post("deployment-list", {"system_id": system["id"], "environment": "prod"})
    post("deployment-activate", {"model_version_id": mv["id"]}, status=200, pk=deployment["id"])
    inputs = parquet_bytes({"x": [1.0, 2.0]})
    outputs = parquet_bytes({"y": [0.5, 0.25]})
    batch = post(
        "prediction-batch-list",
        {
            "deployment_id": deployment["id"],
            "input_sha256": sha256(inputs),
            "output_sha256": sha256(outputs),
            "row_count": 2,
            "rows_root": "00" * 32,
        },
    )
    upload(inputs, "i.parquet")
    upload(outputs, "o.parquet")
    error = post(
        "prediction-batch-files",
        {"input_sha256": sha256(inputs), "output_sha256": sha256(outputs)},
        status=409,
        pk=batch["id"],
    )["error"]
    assert "rows_root" in error["message"]
    assert PredictionBatch.objects.get(pk=batch["id"]).files_verified_at is None


def test_batch_for_a_deployment_that_serves_nothing_is_409(post, system):
    deployment = post("deployment-list", {"system_id": system["id"], "environment": "prod"})
    error = post(
        "prediction-batch-list",
        {
            "deployment_id": deployment["id"],
            "input_sha256": "ab" * 32,
            "output_sha256": "cd" * 32,
            "row_count": 2,
            "rows_root": "ef" * 32,
        },
        status=409,
    )["error"]
    assert "served no model version" in error["message"]
    assert not PredictionBatch.objects.exists()


@pytest.mark.parametrize(("route", "kind"), [("dataset-list", "dataset"), ("model-list", "model")])
def test_a_second_dataset_or_model_of_the_same_name_in_a_system_is_409(
    post, system, ledger_size, route, kind
):
    post(route, {"system_id": system["id"], "name": "credit-v1"})
    before = ledger_size()
    error = post(route, {"system_id": system["id"], "name": "credit-v1"}, status=409)["error"]
    assert f"System {system['id']} already has a {kind} named 'credit-v1'." in error["message"]
    assert ledger_size() == before
    # Another name in the same system is fine.
    post(route, {"system_id": system["id"], "name": "credit-v2"})
    assert ledger_size() == before + 1
