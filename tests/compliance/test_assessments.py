"""Assessments run on the workers against thresholds fixed before the run: fairness
with a planted disparity fails and on balanced data passes; performance and
robustness report intervals; impossible thresholds and unknown attributes are 4xx."""

from __future__ import annotations

import numpy as np
import pytest

from apps.compliance.models import Assessment
from apps.tasks.models import TaskRecord
from tests.support import entry_types, last_entry

N = 2000
FAIRNESS_THRESHOLDS = {
    "demographic_parity_difference": {"max": 0.1},
    "demographic_parity_ratio": {"min": 0.8},
    "equalized_odds_difference": {"max": 0.1},
}


def synthetic(*, planted: bool, seed: int = 7) -> dict[str, list]:
    """Applicants with a label and a score that tracks it; with ``planted``, the
    decisions for women use a stricter cut-off."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m"], N)
    income = rng.normal(50, 15, N)
    region = rng.choice(["north", "south", "east"], N)
    label = rng.integers(0, 2, N)
    score = np.clip(0.5 * label + 0.25 + rng.normal(0, 0.15, N), 0, 1)
    cutoff = np.where((sex == "f") & planted, 0.75, 0.5)
    decision = (score >= cutoff).astype(int)
    return {
        "income": income.tolist(),
        "region": region.tolist(),
        "sex": sex.tolist(),
        "label": label.tolist(),
        "score": score.tolist(),
        "decision": decision.tolist(),
    }


@pytest.fixture
def system(make_system):
    return make_system(annex_iii_area="essential_services", profiling=True)


def fairness_request(system_id: int, dataset_version_id: int, **overrides) -> dict:
    return {
        "system_id": system_id,
        "dataset_version_id": dataset_version_id,
        "kind": "fairness",
        "task": "classification",
        "label_column": "label",
        "prediction_column": "decision",
        "protected_attributes": ["sex"],
        "thresholds": FAIRNESS_THRESHOLDS,
        "bootstrap_resamples": 50,
        "seed": 3,
        **overrides,
    }


def test_fairness_with_a_planted_disparity_fails_its_thresholds(call, system, dataset_version, org):
    data = dataset_version(system["id"], synthetic(planted=True))
    queued = call("post", "assessment-list", fairness_request(system["id"], data["id"]))
    result = call("get", "assessment-detail", status=200, pk=queued["id"])
    assert result["status"] == "failed"
    outcome = result["outcomes"]["sex.demographic_parity_difference"]
    assert outcome["passed"] is False and outcome["value"] > 0.1
    metrics = result["results"]["attributes"]["sex"]["metrics"]
    low, high = metrics["demographic_parity_difference"]["ci"]
    assert low <= metrics["demographic_parity_difference"]["value"] <= high
    groups = result["results"]["attributes"]["sex"]["groups"]
    assert groups["f"]["selection_rate"] < groups["m"]["selection_rate"]
    assert set(groups["f"]["ci"]) == {"selection_rate", "true_positive_rate", "false_positive_rate"}
    completed = last_entry(org, "assessment.completed")["data"]
    assert completed["passed"] is False
    assert entry_types(org)[-2:] == ["assessment.requested", "assessment.completed"]
    task = TaskRecord.objects.get(pk=result["task_id"])
    assert (task.state, task.percent) == ("succeeded", 100)


def test_fairness_on_balanced_data_passes(call, system, dataset_version):
    data = dataset_version(system["id"], synthetic(planted=False))
    queued = call("post", "assessment-list", fairness_request(system["id"], data["id"]))
    result = call("get", "assessment-detail", status=200, pk=queued["id"])
    assert result["status"] == "passed", result["outcomes"]
    assert all(o["passed"] for o in result["outcomes"].values())


def test_performance_reports_metrics_with_bootstrap_intervals(call, system, dataset_version):
    data = dataset_version(system["id"], synthetic(planted=False))
    queued = call(
        "post",
        "assessment-list",
        {
            "system_id": system["id"],
            "dataset_version_id": data["id"],
            "kind": "performance",
            "task": "classification",
            "label_column": "label",
            "prediction_column": "decision",
            "score_column": "score",
            "thresholds": {"accuracy": {"min": 0.8}, "precision": {"min": 1.0}},
            "bootstrap_resamples": 40,
        },
    )
    result = call("get", "assessment-detail", status=200, pk=queued["id"])
    metrics = result["results"]["metrics"]
    assert set(metrics) == {"accuracy", "precision", "recall", "f1", "roc_auc"}
    for value in metrics.values():
        assert value["ci"][0] <= value["value"] <= value["ci"][1]
    assert result["outcomes"]["accuracy"]["passed"] is True
    assert result["outcomes"]["precision"]["passed"] is False
    assert result["status"] == "failed"


def test_regression_performance_uses_mae_and_rmse(call, system, dataset_version):
    rng = np.random.default_rng(1)
    truth = rng.normal(100, 10, 300)
    data = dataset_version(
        system["id"], {"y": truth.tolist(), "yhat": (truth + rng.normal(0, 2, 300)).tolist()}
    )
    queued = call(
        "post",
        "assessment-list",
        {
            "system_id": system["id"],
            "dataset_version_id": data["id"],
            "kind": "performance",
            "task": "regression",
            "label_column": "y",
            "prediction_column": "yhat",
            "thresholds": {"mae": {"max": 3}, "rmse": {"max": 3}},
            "bootstrap_resamples": 20,
        },
    )
    result = call("get", "assessment-detail", status=200, pk=queued["id"])
    assert result["status"] == "passed"
    assert 1.0 < result["results"]["metrics"]["mae"]["value"] < 2.5


def test_robustness_measures_score_change_and_decision_flips(call, system, dataset_version):
    data = dataset_version(system["id"], synthetic(planted=False))
    body = {
        "system_id": system["id"],
        "dataset_version_id": data["id"],
        "kind": "robustness",
        "task": "classification",
        "score_column": "score",
        "numeric_features": ["income"],
        "categorical_features": ["region"],
        "thresholds": {"decision_flip_rate": {"max": 1.0}, "mean_abs_score_change": {"max": 1}},
        "bootstrap_resamples": 20,
        "seed": 11,
    }
    first = call(
        "get", "assessment-detail", status=200, pk=call("post", "assessment-list", body)["id"]
    )
    again = call(
        "get", "assessment-detail", status=200, pk=call("post", "assessment-list", body)["id"]
    )
    metrics = first["results"]["metrics"]
    assert 0 <= metrics["decision_flip_rate"]["value"] <= 1
    assert metrics["mean_abs_score_change"]["value"] > 0
    # Seeded: the same request gives the same numbers.
    assert again["results"] == first["results"]
    assert first["status"] == "passed"


@pytest.mark.parametrize(
    ("thresholds", "field"),
    [
        ({"demographic_parity_ratio": {"min": 1.5}}, "thresholds.demographic_parity_ratio"),
        (
            {"demographic_parity_difference": {"max": -0.1}},
            "thresholds.demographic_parity_difference",
        ),
        (
            {"equalized_odds_difference": {"min": 0.5, "max": 0.2}},
            "thresholds.equalized_odds_difference",
        ),
        ({"accuracy": {"min": 0.9}}, "thresholds.accuracy"),  # not a fairness metric
        ({"demographic_parity_ratio": {"at_least": 0.8}}, "thresholds.demographic_parity_ratio"),
        ({}, "thresholds"),
    ],
)
def test_impossible_thresholds_are_400_and_nothing_is_queued(
    call, system, dataset_version, org, thresholds, field
):
    data = dataset_version(system["id"], synthetic(planted=False))
    before = entry_types(org)
    error = call(
        "post",
        "assessment-list",
        fairness_request(system["id"], data["id"], thresholds=thresholds),
        status=400,
    )["error"]
    assert field in error["fields"]
    assert not Assessment.objects.exists()
    assert not TaskRecord.objects.exists()
    assert entry_types(org) == before


def test_unknown_protected_attribute_is_400(call, system, dataset_version):
    data = dataset_version(system["id"], synthetic(planted=False))
    error = call(
        "post",
        "assessment-list",
        fairness_request(system["id"], data["id"], protected_attributes=["sex", "religion"]),
        status=400,
    )["error"]
    assert "religion" in error["fields"]["protected_attributes"][0]
    assert not Assessment.objects.exists()


def test_a_dataset_without_an_uploaded_file_cannot_be_assessed(call, system, org):
    from tests.support import DATASHEET

    dataset = call("post", "dataset-list", {"system_id": system["id"], "name": "remote"})
    version = call(
        "post",
        "dataset-version-list",
        {
            "version": "1",
            "sha256": "ab" * 32,
            "size_bytes": 1,
            "row_count": 1,
            "schema": [{"name": "label", "type": "integer"}],
            "split": "test",
            "datasheet": DATASHEET,
            "contains_personal_data": True,
            "contains_special_category_data": False,
            "uri": "s3://remote",
        },
        dataset_pk=dataset["id"],
    )
    error = call(
        "post", "assessment-list", fairness_request(system["id"], version["id"]), status=400
    )["error"]
    assert "dataset_version_id" in error["fields"]


def test_data_the_assessment_cannot_use_marks_it_errored_on_the_record(
    call, system, dataset_version, org
):
    columns = synthetic(planted=False)
    columns["decision"] = [2] * N  # not a binary decision
    data = dataset_version(system["id"], columns)
    queued = call("post", "assessment-list", fairness_request(system["id"], data["id"]))
    result = call("get", "assessment-detail", status=200, pk=queued["id"])
    assert result["status"] == "error"
    assert "binary" in result["failure_reason"]
    assert last_entry(org, "assessment.failed")["data"]["reason"] == result["failure_reason"]
    assert TaskRecord.objects.get(pk=result["task_id"]).state == "failed"


def test_running_the_task_twice_does_the_work_once(call, system, dataset_version, org):
    from apps.compliance.tasks import assessment_run_task

    data = dataset_version(system["id"], synthetic(planted=False))
    queued = call("post", "assessment-list", fairness_request(system["id"], data["id"]))
    count = entry_types(org).count("assessment.completed")
    assessment_run_task.delay(queued["id"])
    assert entry_types(org).count("assessment.completed") == count == 1


def test_a_passed_assessment_is_evidence_for_art_15(call, system, dataset_version):
    data = dataset_version(system["id"], synthetic(planted=False))
    queued = call("post", "assessment-list", fairness_request(system["id"], data["id"]))
    checklist = call("get", "system-obligations", status=200, pk=system["id"])
    art_15 = next(o for o in checklist["obligations"] if o["code"] == "art_15")
    assert {"kind": "assessment", "id": queued["id"]} in art_15["evidence"]
    assert art_15["status"] == "evidenced"
