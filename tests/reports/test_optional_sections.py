"""Sections fed by the compliance and explainability apps fill in when their data is on
the record."""

from __future__ import annotations

from tests import factories
from tests.reports.conftest import pdf_text
from tests.reports.test_generation import payload_for


def test_model_card_shows_shap_global_importance_when_explained(
    org, demo_system, request_report, download
):
    # A version with an uploaded model over features that include income, explained
    # as a worker would.
    version = factories.ModelVersionFactory(
        model=demo_system.models.get(),
        artifact=factories.small_xgboost_model(),
        artifact_format="xgboost-json",
    )
    factories.ExplanationFactory(model_version=version, run=True)
    report = request_report(payload_for("model_card", demo_system))
    text = " ".join(pdf_text(download(report)).split())
    assert "Global importance: mean |SHAP value| per feature" in text
    assert "income" in text
    assert "No SHAP global feature importance is on the record yet" not in text


def test_model_card_shows_fairness_by_group_when_assessed(
    org, demo_system, request_report, download
):
    version = demo_system.models.get().versions.order_by("created_at").last()
    group = {"rows": 50, "selection_rate": 0.4, "accuracy": 0.8}
    # Requested on an uploaded test set, completed with these results as a worker would.
    factories.AssessmentFactory(
        system=demo_system,
        model_version=version,
        kind="fairness",
        protected_attributes=["age"],
        thresholds={"demographic_parity_difference": {"max": 0.2}},
        results={
            "rows": 100,
            "attributes": {
                "age_band": {
                    "groups": {"18-30": group, "65+": {**group, "selection_rate": 0.3}},
                    "metrics": {
                        "demographic_parity_difference": {"value": 0.1, "ci": [0.02, 0.18]}
                    },
                }
            },
        },
    )
    report = request_report(payload_for("model_card", demo_system))
    text = " ".join(pdf_text(download(report)).split())
    assert "Selection rate by age band" in text
    assert "demographic parity difference" in text and "[0.02, 0.18]" in text
    assert "No fairness assessment by group is on the record yet" not in text


def test_follow_up_incident_report_carries_the_incident_and_its_reports(
    org, demo_system, request_report, download
):
    factories.IncidentFactory(
        system=demo_system,
        description="Applicants over 75 were refused in bulk.",
        reports=[
            ("initial", "Root cause: a missing age band."),
            ("follow_up", "Model 1.0 restored."),
        ],
    )
    payload = {"kind": "serious_incident", "system_id": demo_system.pk, "stage": "follow_up"}
    text = " ".join(pdf_text(download(request_report(payload))).split())
    assert "Applicants over 75 were refused in bulk." in text
    assert "Root cause: a missing age band." in text and "Model 1.0 restored." in text
    assert "No serious incident is on the record yet" not in text
