"""The numbers behind assessments: performance, fairness (Fairlearn's MetricFrame) and
robustness, each with seeded bootstrap confidence intervals. Pure functions over a
pandas DataFrame; no Django, no model loading.

Scores come from a prediction column of the dataset: the assessed model's outputs,
recorded next to features and labels. Robustness cannot re-score perturbed inputs
without the model, so it fits a seeded surrogate of the recorded scores and measures
how the surrogate's scores and decisions move under seeded perturbations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

CI_QUANTILES = (0.025, 0.975)

# Metric name -> (kind, task, lowest possible value, highest possible value).
METRICS: dict[str, tuple[str, str, float, float]] = {
    "accuracy": ("performance", "classification", 0.0, 1.0),
    "precision": ("performance", "classification", 0.0, 1.0),
    "recall": ("performance", "classification", 0.0, 1.0),
    "f1": ("performance", "classification", 0.0, 1.0),
    "roc_auc": ("performance", "classification", 0.0, 1.0),
    "mae": ("performance", "regression", 0.0, float("inf")),
    "rmse": ("performance", "regression", 0.0, float("inf")),
    "demographic_parity_difference": ("fairness", "classification", 0.0, 1.0),
    "demographic_parity_ratio": ("fairness", "classification", 0.0, 1.0),
    "equalized_odds_difference": ("fairness", "classification", 0.0, 1.0),
    "mean_abs_score_change": ("robustness", "any", 0.0, float("inf")),
    "decision_flip_rate": ("robustness", "classification", 0.0, 1.0),
}


def _finite(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def bootstrap(
    statistic: Callable[[np.ndarray], float], n: int, *, resamples: int, seed: int
) -> list[float | None]:
    """Percentile interval of ``statistic(indices)`` over seeded resamples of n rows."""
    if resamples <= 0:
        return [None, None]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        value = statistic(rng.integers(0, n, size=n))
        if value is not None and np.isfinite(value):
            values.append(value)
    if not values:
        return [None, None]
    low, high = np.quantile(values, CI_QUANTILES)
    return [float(low), float(high)]


def performance(
    frame: pd.DataFrame,
    *,
    task: str,
    label: str,
    prediction: str,
    score: str | None,
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    from sklearn import metrics as skm

    y = frame[label].to_numpy()
    p = frame[prediction].to_numpy()
    s = frame[score].to_numpy(dtype=float) if score else None
    functions: dict[str, Callable[[np.ndarray], float | None]]
    if task == "regression":
        y, p = y.astype(float), p.astype(float)
        functions = {
            "mae": lambda i: skm.mean_absolute_error(y[i], p[i]),
            "rmse": lambda i: float(np.sqrt(skm.mean_squared_error(y[i], p[i]))),
        }
    else:
        functions = {
            "accuracy": lambda i: skm.accuracy_score(y[i], p[i]),
            "precision": lambda i: skm.precision_score(y[i], p[i], zero_division=0),
            "recall": lambda i: skm.recall_score(y[i], p[i], zero_division=0),
            "f1": lambda i: skm.f1_score(y[i], p[i], zero_division=0),
        }
        if s is not None:
            functions["roc_auc"] = lambda i: (
                skm.roc_auc_score(y[i], s[i]) if len(np.unique(y[i])) == 2 else None
            )
    everything = np.arange(len(frame))
    out: dict[str, Any] = {}
    for offset, (name, function) in enumerate(functions.items()):
        out[name] = {
            "value": _finite(function(everything)),
            "ci": bootstrap(function, len(frame), resamples=resamples, seed=seed + offset),
        }
    return {"rows": len(frame), "metrics": out}


def _group_rates(y: np.ndarray, p: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Selection rate, true- and false-positive rate per group (rows: groups)."""
    positive = p == 1
    count = np.bincount(codes, minlength=k).astype(float)
    selected = np.bincount(codes, weights=positive, minlength=k)
    actual_pos = np.bincount(codes, weights=(y == 1), minlength=k)
    actual_neg = np.bincount(codes, weights=(y != 1), minlength=k)
    true_pos = np.bincount(codes, weights=positive & (y == 1), minlength=k)
    false_pos = np.bincount(codes, weights=positive & (y != 1), minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.stack([selected / count, true_pos / actual_pos, false_pos / actual_neg], axis=1)


def _summaries(rates: np.ndarray) -> dict[str, float]:
    """Fairlearn's definitions (between groups, worst case), for the bootstrap, where
    calling Fairlearn a thousand times would take minutes."""
    present = rates[~np.isnan(rates[:, 0])]
    selection, tpr, fpr = present[:, 0], present[:, 1], present[:, 2]
    high = selection.max()
    return {
        "demographic_parity_difference": float(high - selection.min()),
        "demographic_parity_ratio": float(selection.min() / high) if high > 0 else float("nan"),
        "equalized_odds_difference": float(
            max(np.nanmax(tpr) - np.nanmin(tpr), np.nanmax(fpr) - np.nanmin(fpr))
        ),
    }


def fairness(
    frame: pd.DataFrame,
    *,
    label: str,
    prediction: str,
    attributes: list[str],
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    """Per protected attribute: per-group metrics (Fairlearn's MetricFrame), demographic
    parity difference and ratio and equalized odds difference (Fairlearn's functions),
    each with a seeded bootstrap interval."""
    y = frame[label].to_numpy().astype(int)
    p = frame[prediction].to_numpy().astype(int)
    per_attribute: dict[str, Any] = {}
    for position, attribute in enumerate(attributes):
        groups = frame[attribute].astype(str).to_numpy()
        per_attribute[attribute] = _attribute_fairness(
            y, p, groups, resamples=resamples, seed=seed + position
        )
    return {"rows": len(frame), "attributes": per_attribute}


def _attribute_fairness(
    y: np.ndarray, p: np.ndarray, groups: np.ndarray, *, resamples: int, seed: int
) -> dict[str, Any]:
    """One protected attribute: its groups' metrics and the between-group summaries."""
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        demographic_parity_ratio,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    metric_frame = MetricFrame(
        metrics={
            "selection_rate": selection_rate,
            "accuracy": accuracy_score,
            "true_positive_rate": true_positive_rate,
            "false_positive_rate": false_positive_rate,
        },
        y_true=y,
        y_pred=p,
        sensitive_features=groups,
    )
    levels, codes = np.unique(groups, return_inverse=True)
    point = {
        "demographic_parity_difference": demographic_parity_difference(
            y, p, sensitive_features=groups
        ),
        "demographic_parity_ratio": demographic_parity_ratio(y, p, sensitive_features=groups),
        "equalized_odds_difference": equalized_odds_difference(y, p, sensitive_features=groups),
    }
    samples, group_samples = _fairness_resamples(
        y, p, codes, len(levels), names=list(point), resamples=resamples, seed=seed
    )
    metrics = {
        name: {
            "value": _finite(value),
            "ci": _interval(samples[name]) if resamples > 0 else [None, None],
        }
        for name, value in point.items()
    }
    return {
        "groups": _group_rows(levels, codes, metric_frame.by_group, group_samples),
        "metrics": metrics,
    }


def _fairness_resamples(
    y: np.ndarray,
    p: np.ndarray,
    codes: np.ndarray,
    k: int,
    *,
    names: list[str],
    resamples: int,
    seed: int,
) -> tuple[dict[str, list[float]], list[np.ndarray]]:
    """Seeded bootstrap: the finite between-group summaries by name, and every
    resample's per-group rates."""
    samples: dict[str, list[float]] = {name: [] for name in names}
    group_samples: list[np.ndarray] = []
    rng = np.random.default_rng(seed)
    for _ in range(max(resamples, 0)):
        i = rng.integers(0, len(y), size=len(y))
        rates = _group_rates(y[i], p[i], codes[i], k)
        group_samples.append(rates)
        for name, value in _summaries(rates).items():
            if np.isfinite(value):
                samples[name].append(value)
    return samples, group_samples


def _interval(values: Any) -> list[float | None]:
    """Percentile interval of the finite values; [None, None] when there are none."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return [None, None]
    return [float(v) for v in np.quantile(values, CI_QUANTILES)]


def _group_rows(
    levels: np.ndarray, codes: np.ndarray, by_group: pd.DataFrame, group_samples: list[np.ndarray]
) -> dict[str, Any]:
    """Per group: its rows, its metrics, and intervals of its rates when resampled."""
    counts = np.bincount(codes, minlength=len(levels))
    group_rows: dict[str, Any] = {}
    stacked = np.stack(group_samples) if group_samples else None
    for index, level in enumerate(levels):
        row: dict[str, Any] = {"rows": int(counts[index])}
        row.update({name: _finite(by_group.loc[level, name]) for name in by_group.columns})
        if stacked is not None:
            row["ci"] = {
                name: _interval(stacked[:, index, column])
                for column, name in enumerate(
                    ["selection_rate", "true_positive_rate", "false_positive_rate"]
                )
            }
        group_rows[str(level)] = row
    return group_rows


def _perturb(
    features: pd.DataFrame,
    *,
    numeric: list[str],
    categorical: list[str],
    noise_scale: float,
    flip_probability: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    perturbed = features.copy()
    for column in numeric:
        values = perturbed[column].astype(float)
        std = float(values.std(ddof=0)) or 1.0
        perturbed[column] = values + rng.normal(0.0, noise_scale * std, size=len(values))
    for column in categorical:
        values = perturbed[column].astype(str).to_numpy().copy()
        levels = np.unique(values)
        if len(levels) < 2:
            continue
        flip = rng.random(len(values)) < flip_probability
        for index in np.flatnonzero(flip):
            others = levels[levels != values[index]]
            values[index] = others[rng.integers(0, len(others))]
        perturbed[column] = values
    return perturbed


def robustness(
    frame: pd.DataFrame,
    *,
    task: str,
    score: str,
    numeric: list[str],
    categorical: list[str],
    decision_threshold: float,
    noise_scale: float,
    flip_probability: float,
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    """How a seeded surrogate of the recorded scores moves under seeded perturbations:
    mean absolute score change and, for classifiers, the decision flip rate."""
    features = frame[numeric + categorical].copy()
    for column in categorical:
        features[column] = features[column].astype(str)
    target = frame[score].to_numpy(dtype=float)
    surrogate = _surrogate(numeric=numeric, categorical=categorical, seed=seed)
    surrogate.fit(features, target)
    base = surrogate.predict(features)
    perturbed = _perturb(
        features,
        numeric=numeric,
        categorical=categorical,
        noise_scale=noise_scale,
        flip_probability=flip_probability,
        rng=np.random.default_rng(seed),
    )
    moved = surrogate.predict(perturbed)
    fidelity = float(np.corrcoef(base, target)[0, 1]) if np.std(target) > 0 else None
    return {
        "rows": len(frame),
        "surrogate": {"model": "RandomForestRegressor", "fidelity_r": _finite(fidelity)},
        "perturbation": {
            "numeric": numeric,
            "categorical": categorical,
            "noise_scale": noise_scale,
            "flip_probability": flip_probability,
        },
        "metrics": _robustness_metrics(
            base,
            moved,
            task=task,
            decision_threshold=decision_threshold,
            resamples=resamples,
            seed=seed,
        ),
    }


def _surrogate(*, numeric: list[str], categorical: list[str], seed: int) -> Any:
    """A seeded random forest over the features, categorical ones one-hot encoded."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    return make_pipeline(
        ColumnTransformer(
            [
                ("numeric", "passthrough", numeric),
                (
                    "categorical",
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                    categorical,
                ),
            ]
        ),
        RandomForestRegressor(n_estimators=50, min_samples_leaf=5, random_state=seed, n_jobs=1),
    )


def _robustness_metrics(
    base: np.ndarray,
    moved: np.ndarray,
    *,
    task: str,
    decision_threshold: float,
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    """The surrogate's scores before (``base``) and after (``moved``) perturbation,
    compared row by row, each metric with a seeded bootstrap interval."""
    n = len(base)
    change = np.abs(moved - base)
    metrics: dict[str, Any] = {
        "mean_abs_score_change": {
            "value": float(change.mean()),
            "ci": bootstrap(
                lambda i: float(change[i].mean()), n, resamples=resamples, seed=seed + 1
            ),
        }
    }
    if task == "classification":
        flips = (base >= decision_threshold) != (moved >= decision_threshold)
        metrics["decision_flip_rate"] = {
            "value": float(flips.mean()),
            "ci": bootstrap(
                lambda i: float(flips[i].mean()), n, resamples=resamples, seed=seed + 2
            ),
        }
    return metrics


def judge(
    results: Mapping[str, Any], thresholds: Mapping[str, Mapping[str, float]]
) -> tuple[bool, dict[str, Any]]:
    """Pass or fail per metric against thresholds fixed before the run. A fairness
    metric is judged per protected attribute. A value that could not be computed fails."""
    outcomes: dict[str, Any] = {}
    scopes: list[tuple[str, Mapping[str, Any]]]
    if "attributes" in results:
        scopes = [(f"{a}.", r["metrics"]) for a, r in results["attributes"].items()]
    else:
        scopes = [("", results["metrics"])]
    for prefix, metrics in scopes:
        for name, bounds in thresholds.items():
            value = metrics.get(name, {}).get("value")
            ok = value is not None
            if ok and "min" in bounds:
                ok = value >= bounds["min"]
            if ok and "max" in bounds:
                ok = value <= bounds["max"]
            outcomes[prefix + name] = {"value": value, **bounds, "passed": bool(ok)}
    return all(o["passed"] for o in outcomes.values()), outcomes
