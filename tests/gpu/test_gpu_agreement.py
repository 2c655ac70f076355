"""On a CUDA machine: GPU and CPU agree (predictions within 1e-5, SHAP within 1e-4)
and the GPU jobs record their device and energy. Skipped without CUDA."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from tests.support import (
    FEATURES,
    make_frame,
    parquet_bytes,
    train_xgboost,
    xgboost_bytes,
)

pytestmark = pytest.mark.gpu


def _models():
    from apps.inference.devices import cpu_device, select_device
    from apps.inference.loading import load_bytes

    raw = xgboost_bytes(train_xgboost(rows=5000, trees=100, depth=6))
    digest = hashlib.sha256(raw).hexdigest()
    gpu = load_bytes(data=raw, fmt="xgboost-json", expected_sha256=digest, device=select_device())
    cpu = load_bytes(data=raw, fmt="xgboost-json", expected_sha256=digest, device=cpu_device("t"))
    return gpu, cpu


@pytest.mark.django_db
def test_gpu_and_cpu_predictions_agree(settings):
    settings.INFERENCE_DEVICE = "auto"
    gpu, cpu = _models()
    assert gpu.device.is_cuda, gpu.device.fallback_reason
    frame = make_frame(20_000, seed=21)
    x = np.column_stack([frame[f] for f in FEATURES]).astype(np.float32)
    np.testing.assert_allclose(gpu.predict(x), cpu.predict(x), rtol=0, atol=1e-5)


@pytest.mark.django_db
def test_gpu_and_cpu_shap_values_agree(settings):
    from apps.explainability.engine import Explainer

    settings.INFERENCE_DEVICE = "auto"
    gpu, cpu = _models()
    x = np.column_stack([make_frame(5_000, seed=22)[f] for f in FEATURES]).astype(np.float32)
    on_gpu = Explainer(model=gpu, method="xgboost_pred_contribs", background=x[:10]).explain(x)
    on_cpu = Explainer(model=cpu, method="xgboost_pred_contribs", background=x[:10]).explain(x)
    np.testing.assert_allclose(on_gpu.values, on_cpu.values, rtol=0, atol=1e-4)
    assert on_gpu.max_error <= 1e-4


@pytest.mark.django_db
def test_gpu_batch_records_device_and_energy(served, run_batch, settings):
    from apps.registry.models import PredictionBatch

    settings.INFERENCE_DEVICE = "auto"
    ids = served(xgboost_bytes(train_xgboost(trees=200, depth=6)))
    answer = run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(200_000, seed=23)))
    batch = PredictionBatch.objects.get(pk=answer["id"])
    assert batch.status == "completed", batch.failure_reason
    telemetry = batch.telemetry
    assert telemetry["device"] == "cuda"
    assert telemetry["gpu_uuid"].startswith(("GPU-", "MIG-"))
    assert telemetry["driver"] and telemetry["device_name"]
    assert telemetry["gpu_peak_memory_bytes"] > 0
    assert telemetry["energy_joules"] is not None and telemetry["energy_joules"] >= 0
    assert batch.energy_joules == telemetry["energy_joules"]
