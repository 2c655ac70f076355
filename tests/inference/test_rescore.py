"""An auditor re-scores a served batch and sees how far a re-run is from what was
served, within a stated tolerance (receipts prove what was served, not a re-run)."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from apps.inference import loading
from apps.registry.models import PredictionBatch
from tests.support import make_frame, parquet_bytes, train_xgboost, xgboost_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(served, run_batch, monkeypatch):
    monkeypatch.setattr(loading, "cache", loading.ModelCache())
    ids = served(xgboost_bytes(train_xgboost()))
    # Three scoring steps, so the check walks chunks of input and output in step.
    from django.conf import settings

    monkeypatch.setattr(settings, "INFERENCE_CHUNK_ROWS", 300)
    answer = run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(700, seed=5)))
    found = PredictionBatch.objects.get(pk=answer["id"])
    assert found.status == "completed", found.failure_reason
    return found


def _rescore(*args: str) -> dict:
    out = StringIO()
    call_command("batch_rescore", *args, stdout=out)
    return json.loads(out.getvalue())


def test_a_rerun_on_the_same_device_matches_the_served_outputs(batch):
    report = _rescore(str(batch.pk), "--device", "cpu")
    assert report["batch"] == str(batch.pk)
    assert report["rows"] == 700
    assert report["within_tolerance"] is True
    assert report["max_abs_deviation"] == 0.0
    assert (report["atol"], report["rtol"]) == (1e-5, 1e-5)
    assert report["served_on"] == "cpu" and report["rescored_on"]["device"] == "cpu"


def _shifted(model, by: float):
    """The model, scoring as another device would: each output off by ``by``."""
    original = model.predict

    def predict(x):
        return np.asarray(original(x)) + by

    model.predict = predict
    return model


def test_outputs_within_the_tolerance_pass_and_the_deviation_is_reported(batch, monkeypatch):
    real = loading.ModelCache.get_or_load
    monkeypatch.setattr(
        loading.ModelCache,
        "get_or_load",
        lambda self, **kw: _shifted(real(self, **kw), 2e-7),  # as a GPU differs
    )
    report = _rescore(str(batch.pk), "--device", "cpu")
    assert report["within_tolerance"] is True
    assert report["max_abs_deviation"] == pytest.approx(2e-7, rel=0.5)


def test_outputs_beyond_the_tolerance_fail_with_the_largest_deviation(batch, monkeypatch):
    real = loading.ModelCache.get_or_load
    monkeypatch.setattr(
        loading.ModelCache, "get_or_load", lambda self, **kw: _shifted(real(self, **kw), 1e-3)
    )
    with pytest.raises(CommandError) as failed:
        _rescore(str(batch.pk), "--device", "cpu")
    assert "700 of 700 rows differ from the served outputs" in str(failed.value)
    assert "largest deviation 0.001" in str(failed.value)
    # A wider tolerance, stated by the auditor, accepts them.
    assert _rescore(str(batch.pk), "--device", "cpu", "--atol", "0.01")["within_tolerance"]


def test_a_batch_that_is_not_completed_or_unknown_is_refused_with_the_reason(batch):
    PredictionBatch.objects.filter(pk=batch.pk).update(status="failed")
    with pytest.raises(CommandError, match="is failed, not completed: nothing was served"):
        _rescore(str(batch.pk))
    with pytest.raises(CommandError, match="no prediction batch 'nope'"):
        _rescore("nope")
    with pytest.raises(CommandError, match="give numbers >= 0"):
        _rescore(str(batch.pk), "--atol", "-1")
