"""Fixtures for running batches: a registered XGBoost model served by a deployment,
and input files made on the spot (synthetic data only)."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.registry import conftest as registry_fixtures
from tests.registry.conftest import sha256

# The registry's fixtures, shared: a pipeline client, ``post`` and ``upload``.
pipeline = registry_fixtures.pipeline
post = registry_fixtures.post
upload = registry_fixtures.upload

FEATURES = ["age", "income", "debt", "tenure"]


def make_frame(rows: int, seed: int = 0, features=FEATURES) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.normal(size=rows).round(4) for name in features}


def parquet_bytes(columns: dict, row_group_size: int | None = None) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink, row_group_size=row_group_size)
    return sink.getvalue()


def train_xgboost(
    rows: int = 2000, trees: int = 20, depth: int = 4, seed: int = 0, features=FEATURES
):
    import xgboost as xgb

    frame = make_frame(rows, seed, features)
    x = np.column_stack([frame[f] for f in features]).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] - x[:, 2] > 0).astype(np.float32)
    dtrain = xgb.DMatrix(x, label=y, feature_names=list(features))
    return xgb.train(
        {"objective": "binary:logistic", "max_depth": depth, "nthread": 2, "seed": seed},
        dtrain,
        num_boost_round=trees,
    )


def xgboost_bytes(booster, fmt: str = "json") -> bytes:
    return bytes(booster.save_raw(raw_format=fmt))


@pytest.fixture
def served(post, upload):
    """``served(model_bytes, fmt)`` registers the model and a deployment serving it;
    returns ids."""

    def make(model_bytes: bytes | None = None, fmt: str = "xgboost-json", name: str = "scorer"):
        if model_bytes is None:
            model_bytes = xgboost_bytes(train_xgboost())
        system = post(
            "system-list",
            {"name": f"System {name}", "intended_purpose": "Credit scoring", "role": "provider"},
        )
        model = post("model-list", {"system_id": system["id"], "name": name})
        upload(model_bytes, name="model.bin")
        version = post(
            "model-version-list",
            {
                "version": "1",
                "artifact_sha256": sha256(model_bytes),
                "artifact_format": fmt,
                "framework": fmt.split("-")[0],
                "framework_version": "1",
                "uploaded": True,
            },
            model_pk=model["id"],
        )
        deployment = post(
            "deployment-list", {"system_id": system["id"], "environment": "production"}
        )
        post(
            "deployment-activate",
            {"model_version_id": version["id"]},
            status=200,
            pk=deployment["id"],
        )
        return {
            "system": system,
            "model": model,
            "version": version,
            "deployment": deployment,
            "model_sha256": sha256(model_bytes),
        }

    return make


@pytest.fixture
def run_batch(post, upload):
    """Uploads input bytes and asks for a run; returns the response JSON."""

    def run(deployment_id: int, data: bytes, status: int = 201, name: str = "input.parquet"):
        upload(data, name=name)
        return post(
            "prediction-batch-run",
            {"deployment_id": deployment_id, "input_sha256": sha256(data)},
            status=status,
        )

    return run
