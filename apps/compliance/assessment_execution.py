"""Executing an assessment: loads its dataset file and computes its metrics
(apps/compliance/metrics.py). Run by the worker task in apps/compliance/tasks.py."""

from __future__ import annotations

from typing import Any

import pandas as pd

from apps.compliance import metrics
from apps.compliance.models import Assessment
from apps.registry.tabular import TabularError, iter_batches


class AssessmentDataError(ValueError):
    """The dataset cannot be assessed as configured; retrying will not help."""


def load_frame(assessment: Assessment, columns: list[str]) -> pd.DataFrame:
    import pyarrow as pa

    artifact = assessment.dataset_version.artifact
    try:
        with artifact.file.open("rb") as stream:
            batches = list(iter_batches(stream))
    except TabularError as exc:
        raise AssessmentDataError(str(exc)) from None
    if not batches:
        raise AssessmentDataError("the dataset file has no rows")
    table = pa.Table.from_batches(batches)
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise AssessmentDataError(f"the dataset file has no column(s) {', '.join(missing)}")
    frame = table.select(columns).to_pandas()
    if frame.isna().any().any():
        empty = [c for c in columns if frame[c].isna().any()]
        raise AssessmentDataError(f"column(s) {', '.join(empty)} have missing values")
    return frame


def _binary(frame: pd.DataFrame, column: str) -> None:
    values = set(pd.unique(frame[column]))
    if not values <= {0, 1}:
        raise AssessmentDataError(
            f"column {column!r} must hold binary 0/1 values for a classification assessment"
        )


def assessment_execute(*, assessment: Assessment) -> tuple[dict[str, Any], bool, dict[str, Any]]:
    """The results, whether they pass the thresholds, and the outcome per metric.
    Raises AssessmentDataError for data the assessment cannot use."""
    config = assessment.config
    label, prediction, score = (
        config["label_column"],
        config["prediction_column"],
        config["score_column"],
    )
    resamples, seed = config["bootstrap_resamples"], config["seed"]
    if assessment.kind == Assessment.Kind.ROBUSTNESS:
        numeric, categorical = config["numeric_features"], config["categorical_features"]
        frame = load_frame(assessment, list(dict.fromkeys([*numeric, *categorical, score])))
        results = metrics.robustness(
            frame,
            task=assessment.learning_task,
            score=score,
            numeric=numeric,
            categorical=categorical,
            decision_threshold=config["decision_threshold"],
            noise_scale=config["noise_scale"],
            flip_probability=config["flip_probability"],
            resamples=resamples,
            seed=seed,
        )
    else:
        attributes = config["protected_attributes"]
        wanted = [label, prediction, *([score] if score else []), *attributes]
        frame = load_frame(assessment, list(dict.fromkeys(wanted)))
        if assessment.learning_task == Assessment.Task.CLASSIFICATION:
            _binary(frame, label)
            _binary(frame, prediction)
        if assessment.kind == Assessment.Kind.FAIRNESS:
            results = metrics.fairness(
                frame,
                label=label,
                prediction=prediction,
                attributes=attributes,
                resamples=resamples,
                seed=seed,
            )
        else:
            results = metrics.performance(
                frame,
                task=assessment.learning_task,
                label=label,
                prediction=prediction,
                score=score,
                resamples=resamples,
                seed=seed,
            )
    passed, outcomes = metrics.judge(results, assessment.thresholds)
    return results, passed, outcomes
