"""Loading model artifacts safely, once per worker process.

Only formats that cannot run code on load are read: XGBoost JSON/UBJ, LightGBM
text, ONNX (through ONNX Runtime) and scikit-learn through skops with an
allow-list of trusted types. Pickle and joblib are refused before a byte is
interpreted. The artifact's SHA-256 is checked against the registered digest
before loading; a model is cached by that digest (bounded, MODEL_CACHE_SIZE).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from django.conf import settings

from apps.inference.devices import Device, cpu_device, xgboost_cuda_problem
from apps.inference.errors import IntegrityFailure, JobRefused
from apps.registry.model_formats import SAFE_FORMATS, format_mismatch, looks_like_pickle

# Types a skops file may contain beyond those skops trusts itself (numpy arrays and
# ufuncs, builtin containers): scikit-learn's own classes and scipy sparse matrices.
# Anything else (a custom class, a function such as eval) is refused.
SKOPS_TRUSTED_PREFIXES = ("sklearn.", "scipy.sparse.")
SKOPS_TRUSTED_BUILTINS = frozenset(
    {"builtins.dict", "builtins.list", "builtins.tuple", "builtins.slice", "builtins.set"}
)
TREE_ESTIMATORS = frozenset(
    {
        "DecisionTreeClassifier",
        "DecisionTreeRegressor",
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
        "GradientBoostingClassifier",
        "GradientBoostingRegressor",
    }
)
LINEAR_ESTIMATORS = frozenset(
    {"LinearRegression", "Ridge", "Lasso", "ElasticNet", "LogisticRegression", "SGDRegressor"}
)


@dataclass
class LoadedModel:
    """A model ready to score: ``predict`` takes a float32 matrix in feature order."""

    digest: str
    format: str
    framework: str
    kind: str  # "tree", "linear" or "other": which explainer fits
    device: Device
    native: Any
    n_features: int
    feature_names: list[str] | None
    predict: Callable[[np.ndarray], np.ndarray]
    notes: list[str] = field(default_factory=list)
    # The device the framework reports it used, given the one recorded so far.
    check_device: Callable[[Device], Device] = lambda device: device

    def confirm_device(self) -> Device:
        """The device the framework says it runs on now (after loading, after
        scoring); a silent fallback to the CPU replaces the recorded device, with
        the reason, for this job and every later one of this process."""
        self.device = self.check_device(self.device)
        return self.device

    def ran_on(self) -> dict[str, Any]:
        out = self.confirm_device().describe()
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def _refuse_pickle(data: bytes, declared: str) -> None:
    if looks_like_pickle(data[:2]) or data[:2] == b"\x80\x01":
        raise JobRefused(
            f"the model artifact is a pickle (or joblib) file, which can run code when "
            f"loaded; it was not loaded. Use one of: {SAFE_FORMATS}"
        )
    problem = format_mismatch(declared=declared, head=data[:64])
    if problem:
        raise JobRefused(f"model artifact refused: {problem}")


def _xgboost(data: bytes, fmt: str, device: Device, digest: str) -> LoadedModel:
    import xgboost as xgb

    suffix = ".json" if fmt == "xgboost-json" else ".ubj"
    booster = xgb.Booster()
    # XGBoost tells JSON from UBJSON by the file name; both begin with "{".
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as tmp:
        tmp.write(data)
    try:
        booster.load_model(tmp.name)
    except xgb.core.XGBoostError as exc:
        raise JobRefused(f"the model artifact does not load as {fmt}: {exc}") from None
    finally:
        os.unlink(tmp.name)
    if device.is_cuda:
        problem = xgboost_cuda_problem()
        if problem:
            device = cpu_device(problem)
        else:
            booster.set_param({"device": "cuda"})
            device = xgboost_device_check(booster, device)
    booster.set_param({"nthread": os.cpu_count() or 1})

    def predict(x: np.ndarray) -> np.ndarray:
        return np.asarray(booster.inplace_predict(x, validate_features=False))

    return LoadedModel(
        digest=digest,
        format=fmt,
        framework="xgboost",
        kind="tree",
        device=device,
        native=booster,
        n_features=booster.num_features(),
        feature_names=list(booster.feature_names) if booster.feature_names else None,
        predict=predict,
        check_device=lambda recorded: xgboost_device_check(booster, recorded),
    )


def xgboost_device_used(booster: Any) -> str:
    """The device a booster runs on by its own saved configuration: "cpu", "cuda"
    or "cuda:<n>". XGBoost changes it to "cpu" when CUDA cannot start, with only
    a warning (given when the configuration is next applied, as here)."""
    config = json.loads(booster.save_config())
    return str(config["learner"]["generic_param"].get("device", "cpu"))


def xgboost_device_check(booster: Any, recorded: Device) -> Device:
    """``recorded`` when the booster agrees, else the CPU with XGBoost's reason."""
    if not recorded.is_cuda:
        return recorded
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        used = xgboost_device_used(booster)
    if used.startswith("cuda"):
        return recorded
    said = "; ".join(str(w.message).strip() for w in caught)
    reason = f"XGBoost was asked for CUDA on {recorded.name} but its booster reports device={used}"
    return cpu_device(f"{reason}: {said}" if said else reason)


def _lightgbm(data: bytes, fmt: str, device: Device, digest: str) -> LoadedModel:
    import lightgbm as lgb

    try:
        booster = lgb.Booster(model_str=data.decode("utf-8"))
    except (lgb.basic.LightGBMError, UnicodeDecodeError) as exc:
        raise JobRefused(f"the model artifact does not load as {fmt}: {exc}") from None
    if device.is_cuda:
        device = cpu_device("LightGBM models are scored on the CPU")

    def predict(x: np.ndarray) -> np.ndarray:
        return np.asarray(booster.predict(x))

    return LoadedModel(
        digest=digest,
        format=fmt,
        framework="lightgbm",
        kind="tree",
        device=device,
        native=booster,
        n_features=booster.num_feature(),
        feature_names=booster.feature_name(),
        predict=predict,
    )


# CUDA as ONNX Runtime runs it for the record: TF32 off (float32 matrix products in full
# float32, as on the CPU) and no silent CPU fallback (a node the CUDA provider cannot run
# fails the session instead of running on the CPU), so "cuda" means every node ran on CUDA.
ONNX_CUDA_PROVIDER = ("CUDAExecutionProvider", {"device_id": 0, "use_tf32": 0})
ONNX_CUDA_SESSION_CONFIG = {"session.disable_cpu_ep_fallback": "1"}


def _onnx_session(ort: Any, data: bytes, fmt: str, device: Device) -> tuple[Any, Device]:
    """An ONNX Runtime session on CUDA with every node on CUDA, else on the CPU with
    the reason (no CUDA provider in this build, or a node CUDA cannot run)."""
    if device.is_cuda and "CUDAExecutionProvider" not in ort.get_available_providers():
        device = cpu_device(
            "onnxruntime here has no CUDAExecutionProvider (install onnxruntime-gpu "
            "instead of onnxruntime: the gpu extra, docs/benchmarks.md)"
        )
    if device.is_cuda:
        options = ort.SessionOptions()
        for key, value in ONNX_CUDA_SESSION_CONFIG.items():
            options.add_session_config_entry(key, value)
        try:
            return ort.InferenceSession(
                data, sess_options=options, providers=[ONNX_CUDA_PROVIDER]
            ), device
        except Exception as exc:
            device = cpu_device(
                f"ONNX Runtime could not run every node of the model on CUDA: {exc}"
            )
    try:
        return ort.InferenceSession(data, providers=["CPUExecutionProvider"]), device
    except Exception as exc:
        raise JobRefused(f"the model artifact does not load as {fmt}: {exc}") from None


def _onnx(data: bytes, fmt: str, device: Device, digest: str) -> LoadedModel:
    import onnxruntime as ort

    session, device = _onnx_session(ort, data, fmt, device)
    device = onnx_device_check(session, device)
    first = session.get_inputs()[0]
    shape = first.shape
    n_features = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else -1
    outputs = session.get_outputs()
    chosen = next(
        (o.name for o in outputs if "prob" in o.name.lower() and "tensor" in o.type), None
    ) or next((o.name for o in outputs if o.type == "tensor(float)"), outputs[0].name)

    def predict(x: np.ndarray) -> np.ndarray:
        # Explainers hand over float64 rows; the graph declares its input type.
        x = np.ascontiguousarray(x, dtype=np.float32)
        result = np.asarray(session.run([chosen], {first.name: x})[0])
        if result.ndim == 2 and result.shape[1] == 1:
            return result[:, 0]
        if result.ndim == 2 and result.shape[1] == 2 and "prob" in chosen.lower():
            return result[:, 1]
        return result

    return LoadedModel(
        digest=digest,
        format=fmt,
        framework="onnx",
        kind="other",
        device=device,
        native=session,
        n_features=n_features,
        feature_names=None,
        predict=predict,
        check_device=lambda recorded: onnx_device_check(session, recorded),
    )


def onnx_device_check(session: Any, recorded: Device) -> Device:
    """The device of the session's providers as ONNX Runtime reports them, with the
    providers recorded; CUDA that did not start is the CPU with the reason."""
    used = list(session.get_providers())
    if recorded.is_cuda and "CUDAExecutionProvider" not in used:
        recorded = cpu_device(
            f"ONNX Runtime was asked for CUDA but the session runs on {used}: "
            "the CUDA provider failed to start"
        )
    extra: dict[str, Any] = {**recorded.extra, "onnx_providers": used}
    if recorded.is_cuda:
        extra.update(onnx_tf32=False, onnx_cpu_fallback="disabled")
    return replace(recorded, extra=extra)


def skops_refused_types(untrusted: list[str]) -> list[str]:
    return sorted(
        t
        for t in untrusted
        if not t.startswith(SKOPS_TRUSTED_PREFIXES) and t not in SKOPS_TRUSTED_BUILTINS
    )


def _sklearn(data: bytes, fmt: str, device: Device, digest: str) -> LoadedModel:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:
        raise JobRefused(f"the model artifact does not load as {fmt}: {exc}") from None
    refused = skops_refused_types(untrusted)
    if refused:
        raise JobRefused(
            "the skops file holds types outside the allow-list (scikit-learn, "
            f"scipy.sparse): {', '.join(refused)}; it was not loaded"
        )
    try:
        estimator = sio.loads(data, trusted=untrusted)
    except Exception as exc:
        raise JobRefused(f"the model artifact does not load as {fmt}: {exc}") from None
    name = type(estimator).__name__
    kind = "tree" if name in TREE_ESTIMATORS else "linear" if name in LINEAR_ESTIMATORS else "other"
    if device.is_cuda:
        device = cpu_device("scikit-learn models are scored on the CPU")
    proba = hasattr(estimator, "predict_proba")
    names = getattr(estimator, "feature_names_in_", None)

    def predict(x: np.ndarray) -> np.ndarray:
        if names is not None:
            import pandas as pd

            x = pd.DataFrame(x, columns=list(names))
        if proba:
            p = np.asarray(estimator.predict_proba(x))
            return p[:, 1] if p.shape[1] == 2 else p
        return np.asarray(estimator.predict(x))

    return LoadedModel(
        digest=digest,
        format=fmt,
        framework="sklearn",
        kind=kind,
        device=device,
        native=estimator,
        n_features=int(getattr(estimator, "n_features_in_", -1)),
        feature_names=[str(n) for n in names] if names is not None else None,
        predict=predict,
    )


_LOADERS = {
    "xgboost-json": _xgboost,
    "xgboost-ubj": _xgboost,
    "lightgbm-txt": _lightgbm,
    "onnx": _onnx,
    "sklearn-skops": _sklearn,
}


def load_bytes(*, data: bytes, fmt: str, expected_sha256: str, device: Device) -> LoadedModel:
    """Checks the digest, refuses unsafe or mislabelled files, and loads the model."""
    found = hashlib.sha256(data).hexdigest()
    if found != expected_sha256:
        raise IntegrityFailure(what="model artifact", expected=expected_sha256, found=found)
    _refuse_pickle(data, fmt)
    if fmt not in _LOADERS:
        raise JobRefused(f"unknown model format {fmt!r}; use one of: {SAFE_FORMATS}")
    return _LOADERS[fmt](data, fmt, device, found)


class ModelCache:
    """Loaded models of this process, least recently used first out."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, str, str], LoadedModel] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_load(
        self, *, digest: str, fmt: str, device: Device, read: Callable[[], bytes]
    ) -> LoadedModel:
        key = (digest, fmt, device.kind)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        model = load_bytes(data=read(), fmt=fmt, expected_sha256=digest, device=device)
        with self._lock:
            self._items[key] = model
            while len(self._items) > settings.MODEL_CACHE_SIZE:
                self._items.popitem(last=False)
        return model

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


cache = ModelCache()


def reset_process_state(**_: Any) -> None:
    """Run in each new worker process: nothing loaded by a parent is reused."""
    cache.clear()
