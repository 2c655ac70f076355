"""Computing SHAP values with the cheapest exact method the model allows.

- XGBoost: the booster's own ``pred_contribs`` (TreeSHAP; GPUTreeShap when the
  booster runs on CUDA);
- LightGBM: ``pred_contrib``;
- scikit-learn trees: ``shap.TreeExplainer``; linear models: ``shap.LinearExplainer``;
- anything else (ONNX, other estimators): ``shap.PermutationExplainer`` over a
  background sample, after a cost estimate. KernelExplainer is never used (its
  default ``l1_reg`` selects features silently).

Values are returned as float32 ``[rows, features + 1]`` with the base value in the
last column (``[rows, outputs, features + 1]`` for models with several outputs), and
checked for additivity against the model's own output in the same space, with a
relative tolerance: the error of a row is |sum of values - output| divided by
max(1, |output|) (absolute for outputs under 1). The same values summed in another
order (GPUTreeShap, float32 on the GPU) differ in the last digits, by an amount that
grows with the output, so an absolute tolerance would fail large outputs on a GPU.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.inference.errors import JobRefused
from apps.inference.loading import LoadedModel

ADDITIVITY_TOLERANCE = 1e-4  # relative to max(1, |output|)
COST_SAMPLE_ROWS = 256


def method_for(model: LoadedModel) -> str:
    if model.framework == "xgboost":
        return "xgboost_pred_contribs"
    if model.framework == "lightgbm":
        return "lightgbm_pred_contrib"
    if model.framework == "sklearn" and model.kind == "tree":
        return "shap_tree_explainer"
    if model.framework == "sklearn" and model.kind == "linear":
        return "shap_linear_explainer"
    return "shap_permutation_explainer"


def permutation_evals(n_features: int) -> int:
    # One antithetic permutation: the fewest evaluations that are still exact in sum.
    return 2 * n_features + 1


def estimate_permutation_seconds(
    *, model: LoadedModel, sample: np.ndarray, rows: int, background_rows: int
) -> float:
    """Model rows the permutation explainer evaluates, times the measured cost of one."""
    sample = sample[:COST_SAMPLE_ROWS]
    start = time.perf_counter()
    model.predict(sample)
    per_row = (time.perf_counter() - start) / max(len(sample), 1)
    evaluated_rows = rows * permutation_evals(sample.shape[1]) * max(background_rows, 1)
    return evaluated_rows * per_row


@dataclass
class Explained:
    values: np.ndarray  # float32 [n, f + 1] or [n, k, f + 1]
    max_error: float  # largest additivity error, relative to max(1, |output|)


def additivity_error(total: np.ndarray, output: np.ndarray) -> float:
    """The largest |total - output| / max(1, |output|) over rows (and outputs)."""
    if not total.size:
        return 0.0
    scale = np.maximum(1.0, np.abs(output))
    return float(np.max(np.abs(total - output) / scale))


def _with_base(contribs: np.ndarray, base: np.ndarray) -> np.ndarray:
    """[n, f] / [n, f, k] contributions and base values -> [n, f+1] / [n, k, f+1]."""
    n = contribs.shape[0]
    if contribs.ndim == 2:
        base = np.broadcast_to(np.asarray(base, dtype=np.float64).reshape(-1), (n,))
        return np.concatenate([contribs, base[:, None]], axis=1)
    per_output = np.transpose(contribs, (0, 2, 1))  # [n, k, f]
    k = per_output.shape[1]
    base = np.asarray(base, dtype=np.float64)
    base = np.broadcast_to(base.reshape(-1, k) if base.size != k else base.reshape(1, k), (n, k))
    return np.concatenate([per_output, base[:, :, None]], axis=2)


def _named(estimator: Any, x: np.ndarray) -> Any:
    """The rows as the estimator was fitted: a DataFrame with its feature names when it
    has them (the columns are in that order already), so scikit-learn has nothing to
    warn about once per chunk."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return x
    import pandas as pd

    return pd.DataFrame(x, columns=list(names))


def _sklearn_output(estimator: Any, x: np.ndarray) -> np.ndarray:
    x = _named(estimator, x)
    name = type(estimator).__name__
    if name.startswith("GradientBoosting") and hasattr(estimator, "decision_function"):
        return np.asarray(estimator.decision_function(x))
    if hasattr(estimator, "predict_proba"):
        return np.asarray(estimator.predict_proba(x))
    return np.asarray(estimator.predict(x))


class Explainer:
    """Prepared once per job (background, explainer objects), then fed chunks."""

    def __init__(self, *, model: LoadedModel, method: str, background: np.ndarray) -> None:
        self.model, self.method = model, method
        self.background = background
        self._shap: Any = None
        if method == "shap_tree_explainer":
            import shap

            self._shap = shap.TreeExplainer(model.native)
        elif method == "shap_linear_explainer":
            import shap

            self._shap = shap.LinearExplainer(model.native, background)
        elif method == "shap_permutation_explainer":
            import shap

            masker = shap.maskers.Independent(background, max_samples=len(background))
            self._shap = shap.PermutationExplainer(model.predict, masker)

    def explain(self, x: np.ndarray) -> Explained:
        values, output = getattr(self, f"_{self.method}")(x)
        total = values.astype(np.float64).sum(axis=-1)
        output = np.asarray(output, dtype=np.float64).reshape(total.shape)
        return Explained(
            values=values.astype(np.float32), max_error=additivity_error(total, output)
        )

    def _xgboost_pred_contribs(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import xgboost as xgb

        booster = self.model.native
        matrix = xgb.DMatrix(x)
        contribs = booster.predict(matrix, pred_contribs=True, validate_features=False)
        margin = booster.predict(matrix, output_margin=True, validate_features=False)
        return np.asarray(contribs), np.asarray(margin)

    def _lightgbm_pred_contrib(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        booster = self.model.native
        contribs = np.asarray(booster.predict(x, pred_contrib=True))
        raw = np.asarray(booster.predict(x, raw_score=True))
        f = x.shape[1]
        if contribs.shape[1] != f + 1:  # several outputs, side by side
            contribs = contribs.reshape(len(x), -1, f + 1)
        return contribs, raw

    def _shap_tree_explainer(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sv = self._shap.shap_values(x, check_additivity=False)
        if isinstance(sv, list):
            sv = np.stack(sv, axis=-1)
        values = _with_base(np.asarray(sv, dtype=np.float64), self._shap.expected_value)
        return values, _sklearn_output(self.model.native, x)

    def _shap_linear_explainer(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sv = np.asarray(self._shap.shap_values(x), dtype=np.float64)
        estimator = self.model.native
        if hasattr(estimator, "decision_function"):
            output = np.asarray(estimator.decision_function(_named(estimator, x)))
        else:
            output = np.asarray(estimator.predict(_named(estimator, x)))
        return _with_base(sv, self._shap.expected_value), output

    def _shap_permutation_explainer(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        result = self._shap(x, max_evals=permutation_evals(x.shape[1]), silent=True)
        values = _with_base(np.asarray(result.values, dtype=np.float64), result.base_values)
        return values, self.model.predict(x)


def global_importance(values: np.ndarray, feature_names: list[str]) -> dict[str, float]:
    """Mean |SHAP| per feature over rows (and outputs)."""
    contribs = np.abs(values[..., :-1].astype(np.float64))
    means = contribs.reshape(-1, contribs.shape[-1]).mean(axis=0)
    return {name: float(m) for name, m in zip(feature_names, means, strict=True)}


def check_additivity(max_error: float) -> None:
    if max_error > ADDITIVITY_TOLERANCE:
        raise JobRefused(
            f"additivity check failed: SHAP values plus base value differ from the model "
            f"output by up to {max_error:.3g} of max(1, |output|) (tolerance "
            f"{ADDITIVITY_TOLERANCE})"
        )
