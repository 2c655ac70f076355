"""On a CUDA machine: the frameworks really ran on the GPU (by their own account),
GPU and CPU agree within stated tolerances, and the memory and energy figures move
with the work. Skipped without CUDA; a failure under bin/gpu-check when skipped."""

from __future__ import annotations

import hashlib
import time

import numpy as np
import pytest

from tests.support import FEATURES, make_frame, parquet_bytes, train_xgboost, xgboost_bytes

pytestmark = pytest.mark.gpu

# Probabilities in [0, 1] from float32 trees: CUDA and the CPU sum the same leaves in
# another order, which moves the last bits (about 1e-7); 1e-5 leaves a hundredfold margin.
PREDICTION_ATOL = 1e-5
# SHAP values are sums of many path contributions on the margin scale: 1e-4 absolute.
SHAP_ATOL = 1e-4


def _models(trees: int = 100, depth: int = 6):
    from apps.inference.devices import cpu_device, select_device
    from apps.inference.loading import load_bytes

    raw = xgboost_bytes(train_xgboost(rows=5000, trees=trees, depth=depth))
    digest = hashlib.sha256(raw).hexdigest()
    gpu = load_bytes(data=raw, fmt="xgboost-json", expected_sha256=digest, device=select_device())
    cpu = load_bytes(data=raw, fmt="xgboost-json", expected_sha256=digest, device=cpu_device("t"))
    return gpu, cpu


def _rows(n: int, seed: int) -> np.ndarray:
    frame = make_frame(n, seed=seed)
    return np.column_stack([frame[f] for f in FEATURES]).astype(np.float32)


def _booster_device(model) -> str:
    from apps.inference.loading import xgboost_device_used

    return xgboost_device_used(model.native)


@pytest.fixture(autouse=True)
def _gpu_allowed(settings):
    settings.INFERENCE_DEVICE = "auto"


def test_xgboost_runs_on_cuda_by_its_own_configuration_after_loading_and_scoring():
    gpu, _ = _models()
    assert gpu.device.is_cuda, gpu.device.fallback_reason
    assert _booster_device(gpu).startswith("cuda")
    gpu.predict(_rows(50_000, seed=20))
    assert _booster_device(gpu).startswith("cuda")
    assert gpu.confirm_device().is_cuda, gpu.device.fallback_reason
    assert gpu.ran_on()["gpu_uuid"].startswith(("GPU-", "MIG-"))


def test_gpu_and_cpu_predictions_agree_within_the_stated_tolerance():
    gpu, cpu = _models()
    x = _rows(20_000, seed=21)
    on_gpu, on_cpu = gpu.predict(x), cpu.predict(x)
    assert gpu.confirm_device().is_cuda, gpu.device.fallback_reason
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=0, atol=PREDICTION_ATOL)


def test_gpu_and_cpu_shap_values_agree_within_the_stated_tolerance():
    from apps.explainability.engine import ADDITIVITY_TOLERANCE, Explainer

    gpu, cpu = _models()
    x = _rows(5_000, seed=22)
    on_gpu = Explainer(model=gpu, method="xgboost_pred_contribs", background=x[:10]).explain(x)
    on_cpu = Explainer(model=cpu, method="xgboost_pred_contribs", background=x[:10]).explain(x)
    assert gpu.confirm_device().is_cuda, gpu.device.fallback_reason
    np.testing.assert_allclose(on_gpu.values, on_cpu.values, rtol=0, atol=SHAP_ATOL)
    assert on_gpu.max_error <= ADDITIVITY_TOLERANCE


def test_memory_and_energy_figures_move_with_the_work():
    from apps.explainability.engine import Explainer
    from apps.inference.telemetry import Meter

    gpu, _ = _models(trees=300, depth=8)
    x = _rows(200_000, seed=24)
    explainer = Explainer(model=gpu, method="xgboost_pred_contribs", background=x[:10])
    explainer.explain(x[:1000])  # CUDA context and kernels loaded before either meter
    with Meter(gpu.device) as idle:
        time.sleep(2.0)
    with Meter(gpu.device) as busy:
        for start in range(0, len(x), 16_384):
            explainer.explain(x[start : start + 16_384])
    ran_on = gpu.confirm_device()
    quiet, worked = idle.result(ran_on=ran_on), busy.result(ran_on=ran_on)
    assert worked["device"] == "cuda", worked.get("cpu_fallback_reason")
    assert worked["gpu_peak_memory_bytes"] > quiet["gpu_peak_memory_bytes"] > 0
    assert worked["energy_method"] is not None, worked.get("telemetry_problems")
    assert "above_idle_baseline" in worked["energy_scope"]
    # Above its own idle baseline the busy job drew energy; the idle one next to none.
    assert worked["energy_joules"] > max(1.0, 5 * quiet["energy_joules"]), (quiet, worked)


@pytest.mark.django_db
def test_a_gpu_batch_records_the_device_it_ran_on_and_its_scoped_figures(served, run_batch):
    from apps.inference import loading
    from apps.registry.models import PredictionBatch

    loading.cache.clear()
    ids = served(xgboost_bytes(train_xgboost(trees=200, depth=6)))
    answer = run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(200_000, seed=23)))
    batch = PredictionBatch.objects.get(pk=answer["id"])
    assert batch.status == "completed", batch.failure_reason
    telemetry = batch.telemetry
    assert telemetry["device"] == "cuda", telemetry.get("cpu_fallback_reason")
    assert batch.ran_on["device"] == "cuda"
    assert telemetry["gpu_uuid"].startswith(("GPU-", "MIG-"))
    assert telemetry["driver"] and telemetry["device_name"]
    assert telemetry["gpu_peak_memory_bytes"] > 0
    assert telemetry["gpu_memory_scope"] in (
        "process_on_device",
        "process_on_mig_instance",
        "device",
        "mig_instance",
    )
    assert telemetry["energy_scope"].endswith("above_idle_baseline")
    assert 0 <= telemetry["energy_joules"] <= telemetry["energy_gross_joules"]
    assert batch.energy_joules == telemetry["energy_joules"]
    assert batch.ran_on["versions"]["xgboost_cuda_build"]
