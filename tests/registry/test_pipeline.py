"""A whole pipeline, played through the API, ends up on the ledger in order, with
digests matching the uploaded files, and the export verifies offline."""

from __future__ import annotations

import json

from django.urls import reverse

from apps.ledger.core.rows import rows_root
from apps.ledger.offline_verifier import verify_bundle
from apps.registry.models import DatasetVersion
from tests.support import DATASHEET, entry_data, entry_types, parquet_bytes, sha256

XGBOOST_JSON = json.dumps(
    {"learner": {"gradient_booster": {"name": "gbtree"}}, "version": [2, 1, 0]}
).encode()


def _batch_files(incomes: list[float], scores: list[float]) -> tuple[bytes, bytes, str]:
    inputs = parquet_bytes({"income": incomes, "region": ["north"] * len(incomes)})
    outputs = parquet_bytes({"score": scores})
    root = rows_root(
        ({"income": income, "region": "north"}, score)
        for income, score in zip(incomes, scores, strict=True)
    )
    return inputs, outputs, root


def test_whole_pipeline_is_on_the_record_in_order(
    org, pipeline, upload, post, system, tmp_path, client_for
):
    first_seq = len(entry_types(org))
    # Dataset version, from an uploaded Parquet file.
    data = parquet_bytes({"income": [52000.0, 61000.0, 38000.0], "defaulted": [0, 1, 0]})
    stored = upload(data, "train.parquet", sha256=sha256(data))
    assert stored["sha256"] == sha256(data)
    dataset = post("dataset-list", {"system_id": system["id"], "name": "applications"})
    version = post(
        "dataset-version-list",
        {
            "version": "2025-q1",
            "sha256": sha256(data),
            "size_bytes": len(data),
            "row_count": 3,
            "schema": [
                {"name": "income", "type": "number"},
                {"name": "defaulted", "type": "integer"},
            ],
            "split": "train",
            "datasheet": DATASHEET,
            "contains_personal_data": True,
            "contains_special_category_data": False,
            "artifact_sha256": sha256(data),
        },
        dataset_pk=dataset["id"],
    )
    # Statistics were computed by the (in-process) worker from the file.
    statistics = DatasetVersion.objects.get(pk=version["id"]).statistics
    assert statistics["rows"] == 3 and statistics["columns"]["income"]["max"] == 61000.0

    # Training run, then a model version it produced.
    run = post(
        "training-run-list",
        {
            "system_id": system["id"],
            "params": {"max_depth": 6},
            "dataset_version_ids": [version["id"]],
            "code_revision": "9f3c2ab",
            "environment": {"python": "3.11.7", "xgboost": "2.1.0"},
            "hardware": {"cpu": "x86_64", "gpu": None},
        },
    )
    post(
        "training-run-complete",
        {"metrics": {"auc": 0.81}, "energy_joules": 5400.0},
        status=200,
        pk=run["id"],
    )
    model = post("model-list", {"system_id": system["id"], "name": "scorer"})
    upload(XGBOOST_JSON, "model.json")
    versions = [
        post(
            "model-version-list",
            {
                "version": label,
                "artifact_sha256": sha256(XGBOOST_JSON) if label == "1.0" else "ab" * 32,
                "artifact_format": "xgboost-json",
                "framework": "xgboost",
                "framework_version": "2.1.0",
                "training_run_id": run["id"],
                "dataset_version_ids": [version["id"]],
                "metrics": {"auc": 0.81},
                **(
                    {"uploaded": True} if label == "1.0" else {"uri": "s3://models/scorer/1.1.json"}
                ),
            },
            model_pk=model["id"],
        )
        for label in ("1.0", "1.1")
    ]

    # Deployment serving 1.0, two recorded batches with their files checked.
    deployment = post(
        "deployment-list",
        {
            "system_id": system["id"],
            "environment": "production",
            "resources": {"cpu": "2", "memory": "4Gi", "gpu": 0},
        },
    )
    post(
        "deployment-activate",
        {"model_version_id": versions[0]["id"]},
        status=200,
        pk=deployment["id"],
    )
    batch_digests = []
    for incomes, scores in (([40000.0, 80000.0], [0.31, 0.07]), ([55000.0], [0.12])):
        inputs, outputs, root = _batch_files(incomes, scores)
        batch = post(
            "prediction-batch-list",
            {
                "deployment_id": deployment["id"],
                "input_sha256": sha256(inputs),
                "output_sha256": sha256(outputs),
                "row_count": len(incomes),
                "rows_root": root,
            },
        )
        assert batch["model_version"] == versions[0]["id"]
        upload(inputs, "in.parquet")
        upload(outputs, "out.parquet")
        post(
            "prediction-batch-files",
            {"input_sha256": sha256(inputs), "output_sha256": sha256(outputs)},
            status=200,
            pk=batch["id"],
        )
        batch_digests.append((sha256(inputs), sha256(outputs), root))

    # A new version, then a rollback to the one before.
    post(
        "deployment-activate",
        {"model_version_id": versions[1]["id"]},
        status=200,
        pk=deployment["id"],
    )
    rolled = post(
        "deployment-rollback",
        {"reason": "AUC dropped in shadow traffic"},
        status=200,
        pk=deployment["id"],
    )
    assert rolled["ledger"]["seq"] == len(entry_types(org)) - 1
    assert rolled["model_version"] == versions[0]["id"]

    assert entry_types(org)[first_seq:] == [
        "artifact.stored",
        "dataset.created",
        "dataset_version.registered",
        "dataset_version.statistics_computed",
        "training_run.started",
        "training_run.completed",
        "model.created",
        "artifact.stored",
        "model_version.registered",
        "model_version.registered",
        "deployment.created",
        "deployment.activated",
        "prediction_batch.recorded",
        "artifact.stored",
        "artifact.stored",
        "artifact.stored",  # the batch's rows file, built from them for row receipts
        "prediction_batch.files_verified",
        "prediction_batch.recorded",
        "artifact.stored",
        "artifact.stored",
        "artifact.stored",  # the batch's rows file, built from them for row receipts
        "prediction_batch.files_verified",
        "deployment.activated",
        "deployment.rolled_back",
    ]
    types = entry_types(org)
    registered = entry_data(org, types.index("dataset_version.registered"))
    assert registered["sha256"] == sha256(data) and registered["rows"] == 3
    model_registered = entry_data(org, types.index("model_version.registered"))
    assert model_registered["sha256"] == sha256(XGBOOST_JSON)
    recorded = [
        entry_data(org, seq) for seq, t in enumerate(types) if t == "prediction_batch.recorded"
    ]
    assert [
        (r["input_sha256"], r["output_sha256"], r["rows_root"]) for r in recorded
    ] == batch_digests
    rollback = entry_data(org, len(types) - 1)
    assert rollback["reason"] == "AUC dropped in shadow traffic"
    assert rollback["model_version"] == {"kind": "model_version", "id": str(versions[0]["id"])}

    # The export of this log verifies offline.
    auditor = client_for(org, "auditor")
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(b"".join(auditor.get(reverse("ledger-export")).streaming_content))
    report = verify_bundle(str(bundle), trusted_checkpoint=None, trusted_vkeys=())
    assert report.ok, report
    # History answers what served when.
    history = pipeline.get(reverse("deployment-history", kwargs={"pk": deployment["id"]})).json()
    assert [(h["kind"], h["model_version"]) for h in history] == [
        ("activated", versions[0]["id"]),
        ("activated", versions[1]["id"]),
        ("rolled_back", versions[0]["id"]),
    ]
