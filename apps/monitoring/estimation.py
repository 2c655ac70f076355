"""Performance of a binary classifier, estimated before labels arrive and realized after.

Pure computation (numpy; no Django).

**Estimated** (confidence-based performance estimation, CBPE, as NannyML describes it):
when the model's scores are calibrated probabilities, the i-th row's label is 1 with
probability p_i. With predictions ŷ_i = [p_i ≥ threshold] the expected confusion
matrix is E[TP] = Σ ŷ p, E[FP] = Σ ŷ (1 - p), E[FN] = Σ (1 - ŷ) p,
E[TN] = Σ (1 - ŷ)(1 - p), and each metric is computed from those expected counts.
The interval is the 95% range of the realized metric that the same calibrated scores
imply: the correctness of each row is an independent Bernoulli draw, so accuracy has
the Poisson-binomial variance Σ q(1 - q) / n² (q the probability the row is right);
precision, recall and F1 take the delta method over the two independent sums they
are ratios of. It says how far the labels, once they land, can be from the estimate
by chance alone; it does not cover miscalibration.

ROC AUC is estimated from the curve of expected true- against expected false-positive
rates over every threshold (NannyML's construction), its interval from the realized AUCs
of 200 label sets drawn from the scores.

**Realized**: the metric on the labels, with the Wilson 95% interval of the proportion
(accuracy, precision, recall, specificity), the delta-method interval (F1) or the
Hanley-McNeil interval (ROC AUC).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

METRICS = ("accuracy", "precision", "recall", "specificity", "f1", "roc_auc")
AUC_DRAWS = 200  # label draws for the estimated ROC AUC's interval
AUC_BLOCK = 20_000_000  # draws x rows held at once
Z95 = 1.959963984540054


class PerformanceInputError(ValueError):
    """Scores or labels that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class PerformanceEstimate:
    """A metric with its 95% interval over ``rows`` rows; ``estimated`` is True for a
    CBPE estimate (no labels) and False for a realized figure."""

    metric: str
    value: float
    lower: float
    upper: float
    rows: int
    estimated: bool = True

    def to_dict(self) -> dict[str, Any]:
        """As JSON-ready values."""
        return asdict(self)


def _scores(scores: Any, name: str = "scores") -> np.ndarray:
    try:
        values = np.asarray(scores, dtype=np.float64).ravel()
    except (TypeError, ValueError) as error:
        raise PerformanceInputError(f"{name} must be numbers between 0 and 1 ({error})") from None
    if values.size == 0:
        raise PerformanceInputError(f"no {name}: the window has no rows")
    if not np.isfinite(values).all():
        raise PerformanceInputError(f"{name} contain missing or infinite values: drop those rows")
    if values.min() < 0 or values.max() > 1:
        raise PerformanceInputError(
            f"{name} must be probabilities between 0 and 1 (found {values.min():g} to "
            f"{values.max():g}): pass the positive class's calibrated probability"
        )
    return values


def _check(metric: str, threshold: float) -> None:
    if metric not in METRICS:
        raise PerformanceInputError(f"unknown metric {metric!r}: use one of {', '.join(METRICS)}")
    if not 0 < threshold < 1:
        raise PerformanceInputError(f"threshold must be between 0 and 1, got {threshold}")


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("nan")


def _delta_ratio(a: float, var_a: float, b: float, var_b: float, weight: float = 1.0) -> float:
    """Standard deviation of weight·a / (weight·a + b) for independent a and b."""
    total = weight * a + b
    if total <= 0:
        return float("nan")
    return float(np.sqrt(weight**2 * (b**2 * var_a + a**2 * var_b)) / total**2)


def estimate_binary_performance(
    *, scores: Any, threshold: float = 0.5, metric: str = "accuracy"
) -> PerformanceEstimate:
    """CBPE estimate of ``metric`` from calibrated positive-class probabilities (see the
    module docstring). A metric whose denominator is expected to be 0 (precision with
    no positive prediction) is NaN."""
    _check(metric, threshold)
    p = _scores(scores)
    predicted = p >= threshold
    n = p.size
    if metric == "roc_auc":
        return _estimated_auc(p)
    if metric == "accuracy":
        right = np.where(predicted, p, 1 - p)
        value = float(right.mean())
        sd = float(np.sqrt(np.sum(right * (1 - right)))) / n
        return _estimate(metric, value, sd, n)
    pos, neg = p[predicted], p[~predicted]
    tp, var_tp = float(pos.sum()), float(np.sum(pos * (1 - pos)))
    fn, var_fn = float(neg.sum()), float(np.sum(neg * (1 - neg)))
    fp = pos.size - tp
    tn = neg.size - fn
    if metric == "precision":
        value = _ratio(tp, pos.size)
        sd = np.sqrt(var_tp) / pos.size if pos.size else float("nan")
    elif metric == "recall":
        value = _ratio(tp, tp + fn)
        sd = _delta_ratio(tp, var_tp, fn, var_fn)
    elif metric == "specificity":
        value = _ratio(tn, neg.size - fn + fp)
        sd = _delta_ratio(tn, var_fn, fp, var_tp)
    else:
        value = _ratio(2 * tp, 2 * tp + fp + fn)
        # F1 = 2TP / (TP + P̂ + FN) with P̂ (predicted positives) fixed.
        sd = _delta_ratio(tp, var_tp, pos.size + fn, var_fn, weight=1.0) * 2
    return _estimate(metric, value, float(sd), n)


def _estimated_auc(p: np.ndarray) -> PerformanceEstimate:
    """ROC AUC as NannyML's CBPE estimates it (the curve of expected TPR against expected
    FPR over every threshold), with the 2.5% and 97.5% quantiles of the realized AUC over
    AUC_DRAWS sets of labels drawn from the scores (seeded: the same scores give the same
    interval)."""
    ordered = np.sort(p)[::-1]
    last = np.concatenate((ordered[1:] != ordered[:-1], [True]))  # end of each tie run
    tp, fp = np.cumsum(ordered)[last], np.cumsum(1 - ordered)[last]
    if tp[-1] <= 0 or fp[-1] <= 0:
        nan = float("nan")
        return PerformanceEstimate("roc_auc", nan, nan, nan, p.size)
    tpr = np.concatenate(([0.0], tp / tp[-1]))
    fpr = np.concatenate(([0.0], fp / fp[-1]))
    value = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    ranks = stats.rankdata(p)
    rng = np.random.default_rng(0)
    draws = []
    step = max(1, AUC_BLOCK // p.size)
    for start in range(0, AUC_DRAWS, step):
        labels = rng.random((min(step, AUC_DRAWS - start), p.size)) < p
        positives = labels.sum(axis=1)
        negatives = p.size - positives
        rank_sums = labels.astype(np.float64) @ ranks
        with np.errstate(divide="ignore", invalid="ignore"):
            draws.append((rank_sums - positives * (positives + 1) / 2) / (positives * negatives))
    found = np.concatenate(draws)
    found = found[np.isfinite(found)]
    lower, upper = np.quantile(found, [0.025, 0.975]) if found.size else (value, value)
    return PerformanceEstimate("roc_auc", value, float(lower), float(upper), p.size)


def _realized_auc(scores: np.ndarray, actual: np.ndarray) -> PerformanceEstimate:
    """ROC AUC from the ranks of the scores (ties averaged), with the Hanley-McNeil
    (1982) 95% interval."""
    positives = int(actual.sum())
    negatives = actual.size - positives
    if positives == 0 or negatives == 0:
        nan = float("nan")
        return PerformanceEstimate("roc_auc", nan, nan, nan, actual.size, False)
    ranks = stats.rankdata(scores)
    auc = float((ranks[actual].sum() - positives * (positives + 1) / 2) / (positives * negatives))
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    ) / (positives * negatives)
    return _estimate(
        "roc_auc", auc, float(np.sqrt(max(variance, 0.0))), actual.size, estimated=False
    )


def _estimate(
    metric: str, value: float, sd: float, rows: int, *, estimated: bool = True
) -> PerformanceEstimate:
    if not np.isfinite(value):
        return PerformanceEstimate(metric, value, value, value, rows, estimated)
    lower = max(0.0, value - Z95 * sd)
    upper = min(1.0, value + Z95 * sd)
    return PerformanceEstimate(metric, value, lower, upper, rows, estimated)


def _labels(labels: Any, rows: int) -> np.ndarray:
    values = np.asarray(labels).ravel()
    if values.size != rows:
        raise PerformanceInputError(
            f"{values.size} labels for {rows} predictions: give one label per row"
        )
    if values.dtype == np.bool_:
        return values
    try:
        numbers = values.astype(np.float64)
    except (TypeError, ValueError):
        raise PerformanceInputError(
            "labels must be 0 or 1 (or true/false) for a binary classifier"
        ) from None
    if not np.isin(numbers, (0.0, 1.0)).all():
        found = sorted({str(v) for v in values[~np.isin(numbers, (0.0, 1.0))][:5]})
        raise PerformanceInputError(
            f"labels must be 0 or 1 for a binary classifier, found {', '.join(found)}"
        )
    return numbers == 1.0


def _wilson(successes: float, trials: float) -> tuple[float, float]:
    if trials == 0:
        return float("nan"), float("nan")
    share = successes / trials
    z2 = Z95**2
    centre = (share + z2 / (2 * trials)) / (1 + z2 / trials)
    half = Z95 * np.sqrt(share * (1 - share) / trials + z2 / (4 * trials**2)) / (1 + z2 / trials)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def realized_binary_performance(
    *, scores_or_predictions: Any, labels: Any, threshold: float = 0.5, metric: str = "accuracy"
) -> PerformanceEstimate:
    """``metric`` on the labels. Predictions are the scores thresholded at
    ``threshold`` (0/1 or boolean predictions stay as they are); ROC AUC ranks the
    scores themselves (from 0/1 predictions it is the balanced accuracy)."""
    _check(metric, threshold)
    scores = _scores(scores_or_predictions, "scores or predictions")
    predicted = scores >= threshold
    actual = _labels(labels, predicted.size)
    if metric == "roc_auc":
        return _realized_auc(scores, actual)
    tp = float(np.count_nonzero(predicted & actual))
    fp = float(np.count_nonzero(predicted & ~actual))
    fn = float(np.count_nonzero(~predicted & actual))
    tn = float(predicted.size) - tp - fp - fn
    successes, trials = {
        "accuracy": (tp + tn, predicted.size),
        "precision": (tp, tp + fp),
        "recall": (tp, tp + fn),
        "specificity": (tn, tn + fp),
    }.get(metric, (2 * tp, 2 * tp + fp + fn))
    value = _ratio(successes, trials)
    if metric == "f1":
        # F1 = 2TP / (2TP + FP + FN), delta method with TP and FP + FN as binomial
        # counts (their negative covariance left out, which widens the interval).
        n = predicted.size
        wrong = fp + fn
        sd = _delta_ratio(tp, tp * (1 - tp / n), wrong, wrong * (1 - wrong / n), weight=2.0)
        return _estimate(metric, value, sd, predicted.size, estimated=False)
    lower, upper = _wilson(successes, trials)
    return PerformanceEstimate(metric, value, lower, upper, int(predicted.size), False)
