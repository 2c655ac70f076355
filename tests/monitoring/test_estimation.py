"""Confidence-based performance estimation (CBPE) before labels arrive, and the realized
figure once they do."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from apps.monitoring.estimation import (
    PerformanceInputError,
    estimate_binary_performance,
    realized_binary_performance,
)

WEIGHTS = np.array([1.5, -2.0, 0.8])
WINDOWS = 20
ROWS = 4000


def labelled(rng, rows, shift, scale=1.0):
    """Covariate shift: the features' distribution moves, P(y | x) stays."""
    x = rng.normal(loc=shift, scale=scale, size=(rows, 3))
    y = rng.random(rows) < 1 / (1 + np.exp(-(x @ WEIGHTS - 0.3)))
    return x, y


def windows():
    """A calibrated classifier (logistic regression, the right model family, fitted on
    the reference) scored on 20 windows whose features drift further each time; the
    labels of each window are held back, as they arrive later."""
    rng = np.random.default_rng(72)
    x, y = labelled(rng, 20_000, np.zeros(3))
    model = LogisticRegression().fit(x, y)
    for t in range(WINDOWS):
        # Along the decision boundary (WEIGHTS · shift = 0) and closer to it: the
        # windows get harder, accuracy falls.
        shift = t / WINDOWS * np.array([0.8, 0.6, 0.0])
        x, y = labelled(rng, ROWS, shift, scale=1.0 - 0.6 * t / WINDOWS)
        yield model.predict_proba(x)[:, 1], y


def test_estimated_accuracy_is_within_003_of_the_realized_on_average_under_covariate_shift():
    estimated, realized, covered = [], [], 0
    for scores, labels in windows():
        estimate = estimate_binary_performance(scores=scores)
        actual = realized_binary_performance(scores_or_predictions=scores, labels=labels)
        estimated.append(estimate.value)
        realized.append(actual.value)
        covered += estimate.lower <= actual.value <= estimate.upper
        assert estimate.estimated and not actual.estimated and estimate.rows == ROWS
    error = np.abs(np.array(estimated) - np.array(realized))
    print(
        f"CBPE accuracy over {WINDOWS} windows of {ROWS} rows: mean |estimated - realized| "
        f"= {error.mean():.4f}, max {error.max():.4f}; realized from {min(realized):.3f} "
        f"to {max(realized):.3f}; 95% interval covered the realized in {covered}/{WINDOWS}"
    )
    assert max(realized) - min(realized) > 0.08  # the shift does move accuracy
    assert error.mean() <= 0.03
    assert covered >= 0.8 * WINDOWS


@pytest.mark.parametrize("metric", ["precision", "recall", "f1", "specificity", "roc_auc"])
def test_other_metrics_are_estimated_close_to_the_realized(metric):
    errors = [
        estimate_binary_performance(scores=scores, metric=metric).value
        - realized_binary_performance(
            scores_or_predictions=scores, labels=labels, metric=metric
        ).value
        for scores, labels in windows()
    ]
    assert np.mean(np.abs(errors)) <= 0.03


def test_realized_metrics_are_sklearns():
    rng = np.random.default_rng(3)
    scores = rng.random(5000)
    labels = rng.random(5000) < scores
    predicted = scores >= 0.4
    for metric, reference in [
        ("accuracy", accuracy_score),
        ("precision", precision_score),
        ("recall", recall_score),
        ("f1", f1_score),
    ]:
        realized = realized_binary_performance(
            scores_or_predictions=scores, labels=labels.astype(int), threshold=0.4, metric=metric
        )
        assert realized.value == pytest.approx(reference(labels, predicted), abs=1e-12)
        assert realized.lower < realized.value < realized.upper
    auc = realized_binary_performance(scores_or_predictions=scores, labels=labels, metric="roc_auc")
    assert auc.value == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert auc.lower < auc.value < auc.upper


def test_estimated_roc_auc_interval_holds_the_realized_figure():
    held = 0
    for scores, labels in windows():
        estimate = estimate_binary_performance(scores=scores, metric="roc_auc")
        actual = realized_binary_performance(
            scores_or_predictions=scores, labels=labels, metric="roc_auc"
        )
        held += estimate.lower <= actual.value <= estimate.upper
        assert estimate.lower < estimate.value < estimate.upper
    assert held >= 0.8 * WINDOWS


def test_an_estimate_of_perfectly_confident_scores_has_no_uncertainty():
    estimate = estimate_binary_performance(scores=np.array([0.0, 1.0, 1.0, 0.0]))
    assert (estimate.value, estimate.lower, estimate.upper) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: estimate_binary_performance(scores=[]), "no scores"),
        (lambda: estimate_binary_performance(scores=[0.2, 1.4]), "between 0 and 1"),
        (lambda: estimate_binary_performance(scores=[0.2, np.nan]), "missing"),
        (lambda: estimate_binary_performance(scores=["a"]), "numbers"),
        (lambda: estimate_binary_performance(scores=[0.2], metric="auc"), "unknown metric"),
        (lambda: estimate_binary_performance(scores=[0.2], threshold=1), "threshold"),
        (
            lambda: realized_binary_performance(scores_or_predictions=[0.2, 0.7], labels=[1]),
            "1 labels for 2 predictions",
        ),
        (
            lambda: realized_binary_performance(scores_or_predictions=[0.2, 0.7], labels=[1, 2]),
            "0 or 1 .* found 2",
        ),
        (
            lambda: realized_binary_performance(
                scores_or_predictions=[0.2, 0.7], labels=["yes", "no"]
            ),
            "0 or 1",
        ),
    ],
)
def test_bad_scores_and_labels_are_refused_with_what_to_fix(call, message):
    with pytest.raises(PerformanceInputError, match=message):
        call()
