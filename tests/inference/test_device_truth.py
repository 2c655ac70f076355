"""The record says the device the framework really used, never the one asked for.

XGBoost's wheel here is a CUDA build (``build_info()["USE_CUDA"]``) on a machine
without a GPU: asked for CUDA, it warns and runs on the CPU. With a fake NVML that
reports a GPU, that is exactly the silent fallback of a GPU machine whose CUDA
cannot start.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys

import numpy as np
import pytest
import xgboost as xgb

from apps.inference import devices, loading, services
from apps.inference.telemetry import Meter
from apps.ledger.models import Entry
from apps.registry.models import PredictionBatch
from tests.inference.test_devices_and_telemetry import FakeNvml
from tests.support import make_frame, parquet_bytes, sha256, train_xgboost, xgboost_bytes

GPU = devices.Device(kind="cuda", name="NVIDIA Test GPU", uuid="GPU-1234", driver="550.1")


@pytest.fixture
def fake_gpu(monkeypatch, settings):
    """NVML reports one GPU; the models load afresh (not from earlier tests' cache)."""
    settings.INFERENCE_DEVICE = "auto"
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(energy_counter=True))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(loading, "cache", loading.ModelCache())
    if not xgb.build_info().get("USE_CUDA"):
        pytest.skip("this XGBoost build has no CUDA: it never tries the GPU")


def _cpu_config_after(booster: xgb.Booster) -> None:
    """Makes the booster's saved configuration report the CPU from now on, as
    XGBoost's does after it gave up on CUDA during a prediction."""
    config = json.loads(booster.save_config())
    config["learner"]["generic_param"]["device"] = "cpu"
    saved = json.dumps(config)
    booster.save_config = lambda: saved  # type: ignore[method-assign]


@pytest.mark.django_db
def test_cuda_build_falling_back_is_recorded_as_cpu_with_the_reason(
    org, served, run_batch, fake_gpu
):
    assert devices.select_device().kind == "cuda"  # what the old code recorded
    ids = served(xgboost_bytes(train_xgboost()))
    answer = run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(500, seed=1)))
    batch = PredictionBatch.objects.get(pk=answer["id"])
    assert batch.status == "completed", batch.failure_reason
    assert batch.telemetry["device"] == "cpu"
    assert batch.ran_on["device"] == "cpu"
    reason = batch.ran_on["cpu_fallback_reason"]
    assert "XGBoost was asked for CUDA on NVIDIA Test GPU" in reason
    assert "booster reports device=cpu" in reason
    assert "WARNING" in reason  # XGBoost's own words follow
    assert "gpu_uuid" not in batch.ran_on and "gpu_peak_memory_bytes" not in batch.telemetry
    assert batch.telemetry["energy_joules"] is None
    completed = Entry.objects.get(log__organization=org, type="prediction_batch.completed")
    data = json.loads(bytes(completed.body))["data"]
    assert data["telemetry"]["device"] == "cpu"
    assert data["ran_on"]["cpu_fallback_reason"] == reason


def test_fallback_during_scoring_replaces_the_device_and_drops_gpu_figures(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(energy_counter=True))
    booster = train_xgboost()
    model = loading.load_bytes(
        data=(blob := xgboost_bytes(booster)),
        fmt="xgboost-json",
        expected_sha256=sha256(blob),
        device=devices.cpu_device("test"),
    )
    # As if CUDA had started at load time: the booster agreed, the device is CUDA.
    model.device = GPU
    model.native.set_param({"device": "cpu"})
    monkeypatch.setattr(loading, "xgboost_device_used", lambda b: "cuda:0")
    assert model.confirm_device() == GPU
    with Meter(model.device) as meter:
        model.predict(np.zeros((4, model.n_features), dtype=np.float32))
    monkeypatch.undo()  # the real configuration again, which reports the CPU
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(energy_counter=True))
    _cpu_config_after(model.native)
    used = model.confirm_device()
    assert used.kind == "cpu" and "booster reports device=cpu" in used.fallback_reason
    result = meter.result(ran_on=used)
    assert result["device"] == "cpu"
    assert result["cpu_fallback_reason"] == used.fallback_reason
    assert result["energy_joules"] is None and "gpu_peak_memory_bytes" not in result
    assert "the GPU was metered but the work ran on the CPU" in result["telemetry_problems"][0]
    # Every later job of this process records the CPU too.
    assert model.ran_on()["device"] == "cpu"


def test_a_booster_that_really_runs_on_cuda_keeps_the_gpu(monkeypatch):
    booster = train_xgboost()
    monkeypatch.setattr(loading, "xgboost_device_used", lambda b: "cuda:0")
    assert loading.xgboost_device_check(booster, GPU) == GPU
    assert loading.xgboost_device_check(booster, devices.cpu_device("x")).kind == "cpu"


class FakeSession:
    def __init__(self, providers):
        self._providers = providers

    def get_providers(self):
        return self._providers


def test_onnx_device_is_the_providers_the_session_uses():
    fell_back = loading.onnx_device_check(FakeSession(["CPUExecutionProvider"]), GPU)
    assert fell_back.kind == "cpu"
    assert "the session runs on ['CPUExecutionProvider']" in fell_back.fallback_reason
    assert fell_back.describe()["onnx_providers"] == ["CPUExecutionProvider"]
    on_gpu = loading.onnx_device_check(
        FakeSession(["CUDAExecutionProvider", "CPUExecutionProvider"]), GPU
    )
    assert on_gpu.kind == "cuda" and on_gpu.describe()["gpu_uuid"] == "GPU-1234"
    assert on_gpu.describe()["onnx_providers"][0] == "CUDAExecutionProvider"


def test_lightgbm_asked_for_cuda_records_the_cpu_and_why():
    import lightgbm as lgb

    data = np.random.default_rng(0).random((200, 3))
    model = lgb.train({"verbose": -1}, lgb.Dataset(data, label=data[:, 0]), 2)
    text = model.model_to_string().encode()
    loaded = loading.load_bytes(
        data=text, fmt="lightgbm-txt", expected_sha256=sha256(text), device=GPU
    )
    assert loaded.ran_on()["device"] == "cpu"
    assert loaded.ran_on()["cpu_fallback_reason"] == "LightGBM models are scored on the CPU"


def _no_distribution(name: str) -> str:
    raise importlib.metadata.PackageNotFoundError(name)


def test_versions_come_from_the_modules_under_any_distribution_name(monkeypatch):
    # Under xgboost-cu12 or onnxruntime-gpu no distribution is called xgboost or
    # onnxruntime: a look-up by distribution name would fail every batch.
    monkeypatch.setattr(importlib.metadata, "version", _no_distribution)
    monkeypatch.setattr(xgb, "build_info", lambda: {"USE_CUDA": True, "CUDA_VERSION": [13, 0]})
    model = loading.LoadedModel(
        digest="d", format="xgboost-json", framework="xgboost", kind="tree",
        device=devices.cpu_device("t"), native=None, n_features=1, feature_names=None,
        predict=lambda x: x,
    )  # fmt: skip
    versions = services.runtime_versions(model)
    assert versions["xgboost"] == xgb.__version__
    assert versions["xgboost_cuda_build"] == "13.0"
    import onnxruntime
    import sklearn

    model.framework = "onnx"
    assert services.runtime_versions(model)["onnxruntime"] == onnxruntime.__version__
    model.framework = "sklearn"
    assert services.runtime_versions(model)["scikit-learn"] == sklearn.__version__


def test_compute_capability_is_recorded_with_the_gpu(monkeypatch, settings):
    settings.INFERENCE_DEVICE = "auto"
    fake = FakeNvml(energy_counter=True)
    fake.nvmlDeviceGetCudaComputeCapability = lambda handle: (9, 0)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert devices.select_device().describe()["compute_capability"] == "9.0"


def test_tests_outside_tests_gpu_run_on_the_cpu_on_a_gpu_machine(settings, monkeypatch):
    # The root conftest pins them: a GPU that NVML finds is not used.
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(energy_counter=True))
    assert settings.INFERENCE_DEVICE == "cpu" and os.environ["INFERENCE_DEVICE"] == "cpu"
    assert devices.select_device().describe() == {
        "device": "cpu",
        "device_name": devices.cpu_name(),
        "cpu_fallback_reason": "INFERENCE_DEVICE=cpu",
    }


class FakeOrt:
    """onnxruntime-gpu as the loader sees it: a CUDA provider is available; a session
    with it fails when ``unsupported`` names a node CUDA cannot run (CPU fallback
    disabled), and says which providers and options it was given."""

    class SessionOptions:
        def __init__(self):
            self.config = {}

        def add_session_config_entry(self, key, value):
            self.config[key] = value

    def __init__(self, unsupported: str | None = None):
        self.unsupported = unsupported
        self.sessions = []

    def get_available_providers(self):
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]

    def InferenceSession(self, data, sess_options=None, providers=()):
        names = [p[0] if isinstance(p, tuple) else p for p in providers]
        self.sessions.append((sess_options, list(providers)))
        if "CUDAExecutionProvider" in names and self.unsupported:
            raise RuntimeError(
                f"This session contains graph nodes ({self.unsupported}) that are assigned "
                "to the default CPU EP, but fallback to CPU EP has been explicitly disabled"
            )
        return FakeSession(names)


def test_onnx_on_cuda_runs_every_node_on_cuda_in_float32():
    ort = FakeOrt()
    session, device = loading._onnx_session(ort, b"model", "onnx", GPU)
    options, providers = ort.sessions[0]
    assert providers == [("CUDAExecutionProvider", {"device_id": 0, "use_tf32": 0})]
    assert options.config == {"session.disable_cpu_ep_fallback": "1"}
    described = loading.onnx_device_check(session, device).describe()
    assert described["device"] == "cuda" and described["onnx_providers"] == [
        "CUDAExecutionProvider"
    ]
    assert (described["onnx_tf32"], described["onnx_cpu_fallback"]) == (False, "disabled")


def test_onnx_model_with_a_node_cuda_cannot_run_is_scored_on_the_cpu_with_the_reason():
    ort = FakeOrt(unsupported="TreeEnsembleClassifier")
    session, device = loading._onnx_session(ort, b"model", "onnx", GPU)
    assert ort.sessions[-1][1] == ["CPUExecutionProvider"]
    described = loading.onnx_device_check(session, device).describe()
    assert described["device"] == "cpu"
    assert "could not run every node of the model on CUDA" in described["cpu_fallback_reason"]
    assert "TreeEnsembleClassifier" in described["cpu_fallback_reason"]
    assert "onnx_tf32" not in described


def test_onnxruntime_without_cuda_names_the_package_that_has_it(monkeypatch):
    ort = FakeOrt()
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    _, device = loading._onnx_session(ort, b"model", "onnx", GPU)
    assert device.kind == "cpu" and "install onnxruntime-gpu" in device.fallback_reason
    assert [p for _, p in ort.sessions] == [["CPUExecutionProvider"]]
