"""SHAP explanations: methods per model kind, stored values, additivity, cost refusal."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.urls import reverse

from apps.explainability.models import Explanation
from apps.registry.models import PredictionBatch
from tests.support import (
    FEATURES,
    entry_types,
    make_frame,
    parquet_bytes,
    train_xgboost,
    xgboost_bytes,
)

pytestmark = pytest.mark.django_db


def explain(post, version_id: int, batch_id: int, status: int = 201, **extra):
    return post(
        "explanation-list",
        {"model_version_id": version_id, "prediction_batch_id": batch_id, **extra},
        status=status,
    )


def values_of(explanation: Explanation) -> np.ndarray:
    with explanation.values_artifact.file.open("rb") as f:
        return np.load(io.BytesIO(f.read()), allow_pickle=False)


def test_xgboost_batch_is_explained_with_pred_contribs(org, served, run_batch, post, pipeline):
    import xgboost as xgb

    booster = train_xgboost()
    ids = served(xgboost_bytes(booster))
    frame = make_frame(400, seed=4)
    batch = run_batch(ids["deployment"]["id"], parquet_bytes(frame))
    answer = explain(post, ids["version"]["id"], batch["id"])
    explanation = Explanation.objects.get(pk=answer["id"])
    assert explanation.status == "completed", explanation.failure_reason
    assert explanation.method == "xgboost_pred_contribs"
    values = values_of(explanation)
    assert values.shape == (400, len(FEATURES) + 1)
    x = np.column_stack([frame[f] for f in FEATURES]).astype(np.float32)
    direct = booster.predict(xgb.DMatrix(x, feature_names=FEATURES), pred_contribs=True)
    np.testing.assert_allclose(values, direct, atol=1e-6)
    assert explanation.additivity_ok is True and explanation.additivity_max_error < 1e-4
    assert set(explanation.global_importance) == set(FEATURES)
    assert explanation.global_importance["age"] == pytest.approx(
        float(np.abs(direct[:, 0]).mean()), rel=1e-5
    )
    assert explanation.values_sha256 == explanation.values_artifact.sha256
    assert explanation.telemetry["device"] == "cpu"
    assert entry_types(org).count("explanation.completed") == 1
    detail = pipeline.get(reverse("explanation-detail", kwargs={"pk": explanation.pk})).json()
    assert detail["status"] == "completed" and detail["global_importance"]
    response = pipeline.get(reverse("explanation-values", kwargs={"pk": explanation.pk}))
    assert response.status_code == 200
    assert np.load(io.BytesIO(b"".join(response.streaming_content))).shape == values.shape


def _sklearn_served(served, estimator, frame):
    import pandas as pd
    import skops.io as sio

    x = pd.DataFrame(np.column_stack([frame[f] for f in FEATURES]), columns=FEATURES)
    y = x["age"] + 0.3 * x["income"] > 0
    estimator.fit(x, y.astype(int) if hasattr(estimator, "predict_proba") else y * 1.0)
    return served(sio.dumps(estimator), "sklearn-skops", name=type(estimator).__name__)


@pytest.mark.parametrize(
    ("estimator", "method"),
    [
        ("RandomForestRegressor", "shap_tree_explainer"),
        ("GradientBoostingClassifier", "shap_tree_explainer"),
        ("LogisticRegression", "shap_linear_explainer"),
        ("KNeighborsRegressor", "shap_permutation_explainer"),
    ],
)
def test_sklearn_models_get_the_right_explainer_and_pass_additivity(
    served, run_batch, post, estimator, method
):
    import sklearn.ensemble
    import sklearn.linear_model
    import sklearn.neighbors

    cls = next(
        getattr(m, estimator)
        for m in (sklearn.ensemble, sklearn.linear_model, sklearn.neighbors)
        if hasattr(m, estimator)
    )
    kwargs = {"n_estimators": 5, "max_depth": 3} if "Forest" in estimator else {}
    if "Gradient" in estimator:
        kwargs = {"n_estimators": 5}
    frame = make_frame(60, seed=6)
    ids = _sklearn_served(served, cls(**kwargs), frame)
    batch = run_batch(ids["deployment"]["id"], parquet_bytes(frame))
    assert PredictionBatch.objects.get(pk=batch["id"]).status == "completed"
    answer = explain(post, ids["version"]["id"], batch["id"], background_rows=20)
    explanation = Explanation.objects.get(pk=answer["id"])
    assert explanation.method == method
    assert explanation.status == "completed", explanation.failure_reason
    assert explanation.additivity_max_error <= 1e-4
    assert values_of(explanation).shape[0] == 60


def test_permutation_job_above_the_budget_is_refused_with_the_estimate(
    served, run_batch, post, settings
):
    from sklearn.neighbors import KNeighborsRegressor

    frame = make_frame(200, seed=7)
    ids = _sklearn_served(served, KNeighborsRegressor(), frame)
    batch = run_batch(ids["deployment"]["id"], parquet_bytes(frame))
    settings.SHAP_MAX_COST_SECONDS = 1
    PredictionBatch.objects.filter(pk=batch["id"]).update(row_count=10_000_000)
    answer = explain(post, ids["version"]["id"], batch["id"], status=400, background_rows=500)
    assert "permutation explainer would need about" in answer["error"]["message"]
    assert "SHAP_MAX_COST_SECONDS=1" in answer["error"]["message"]
    assert not Explanation.objects.exists()


def test_failed_additivity_fails_the_job(org, served, run_batch, post, monkeypatch):
    from apps.explainability import engine

    ids = served()
    batch = run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(20)))
    original = engine.Explainer._xgboost_pred_contribs

    def off_by_one(self, x):
        values, margin = original(self, x)
        return values, margin + 1.0

    monkeypatch.setattr(engine.Explainer, "_xgboost_pred_contribs", off_by_one)
    answer = explain(post, ids["version"]["id"], batch["id"])
    explanation = Explanation.objects.get(pk=answer["id"])
    assert explanation.status == "failed"
    assert "additivity check failed" in explanation.failure_reason
    assert explanation.additivity_ok is False
    assert explanation.values_artifact is None
    types = entry_types(org)
    assert "explanation.failed" in types and "explanation.completed" not in types


def test_dataset_version_can_be_explained(served, post, upload):
    from tests.support import DATASHEET, sha256

    ids = served()
    data = parquet_bytes(make_frame(30))
    upload(data)
    dataset = post("dataset-list", {"system_id": ids["system"]["id"], "name": "ref"})
    version = post(
        "dataset-version-list",
        {
            "version": "1",
            "sha256": sha256(data),
            "size_bytes": len(data),
            "row_count": 30,
            "schema": [{"name": f, "type": "number"} for f in FEATURES],
            "split": "reference",
            "datasheet": DATASHEET,
            "contains_personal_data": False,
            "contains_special_category_data": False,
            "artifact_sha256": sha256(data),
        },
        dataset_pk=dataset["id"],
    )
    answer = post(
        "explanation-list",
        {"model_version_id": ids["version"]["id"], "dataset_version_id": version["id"]},
    )
    assert Explanation.objects.get(pk=answer["id"]).status == "completed"


def test_explanation_needs_exactly_one_source(served, post):
    ids = served()
    answer = post("explanation-list", {"model_version_id": ids["version"]["id"]}, status=400)
    assert "exactly one" in answer["error"]["message"]


def test_additivity_is_checked_relative_to_the_output(org, served, run_batch, post, monkeypatch):
    # GPUTreeShap sums the same values in another order, in float32: for large
    # outputs the sums differ from the output in the last digits (here 1e-6 of it,
    # up to 0.03 absolute), which is agreement, not failure.
    from apps.explainability import engine

    ids = served()
    batch = run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(20)))
    original = engine.Explainer._xgboost_pred_contribs

    def large_and_reordered(self, x):
        values, margin = original(self, x)
        return values * 1e4, margin * 1e4 * (1 + 1e-6)

    monkeypatch.setattr(engine.Explainer, "_xgboost_pred_contribs", large_and_reordered)
    answer = explain(post, ids["version"]["id"], batch["id"])
    explanation = Explanation.objects.get(pk=answer["id"])
    assert explanation.status == "completed", explanation.failure_reason
    assert explanation.additivity_ok is True
    assert 1e-7 < explanation.additivity_max_error < 1e-5  # relative; 1e-2 absolute


def test_additivity_error_is_absolute_below_an_output_of_one():
    from apps.explainability import engine
    from apps.inference.errors import JobRefused

    small = engine.additivity_error(np.array([0.5 + 5e-4]), np.array([0.5]))
    assert small == pytest.approx(5e-4)
    large = engine.additivity_error(np.array([1000.5]), np.array([1000.0]))
    assert large == pytest.approx(5e-4)
    engine.check_additivity(engine.additivity_error(np.array([1000.05]), np.array([1000.0])))
    with pytest.raises(JobRefused, match="of max\\(1, \\|output\\|\\)"):
        engine.check_additivity(small)
