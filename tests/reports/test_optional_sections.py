"""Sections fed by the compliance and explainability apps fill in when their data is on
the record."""

from __future__ import annotations

from django.apps import apps

from tests.reports.conftest import pdf_text
from tests.reports.test_generation import payload_for


def test_model_card_shows_shap_global_importance_when_explained(
    org, demo_system, request_report, download
):
    explanation = apps.get_model("explainability", "Explanation")
    version = demo_system.models.get().versions.order_by("created_at").last()
    explanation.objects.create(
        organization=org,
        model_version=version,
        input_sha256="ab" * 32,
        status="completed",
        method="shap_tree_explainer",
        rows=500,
        global_importance={"income": 0.31, "age": 0.12, "tenure_months": 0.05},
    )
    report = request_report(payload_for("model_card", demo_system))
    text = " ".join(pdf_text(download(report)).split())
    assert "Global importance: mean |SHAP value| per feature" in text
    assert "income" in text
    assert "No SHAP global feature importance is on the record yet" not in text


def test_model_card_shows_fairness_by_group_when_assessed(
    org, demo_system, request_report, download
):
    assessment = apps.get_model("compliance", "Assessment")
    version = demo_system.models.get().versions.order_by("created_at").last()
    test_data = version.dataset_versions.get(split="test")
    group = {"rows": 50, "selection_rate": 0.4, "accuracy": 0.8}
    assessment.objects.create(
        system=demo_system,
        model_version=version,
        dataset_version=test_data,
        kind="fairness",
        learning_task="classification",
        config={},
        thresholds={},
        status="passed",
        created_by="tests",
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
    assert "Selection rate by age_band" in text
    assert "demographic_parity_difference" in text and "[0.02, 0.18]" in text
    assert "No fairness assessment by group is on the record yet" not in text


def test_follow_up_incident_report_carries_the_incident_and_its_reports(
    org, demo_system, request_report, download
):
    from django.utils import timezone

    now = timezone.now()
    incident = apps.get_model("compliance", "Incident").objects.create(
        system=demo_system,
        kind="general",
        description="Applicants over 75 were refused in bulk.",
        became_aware_at=now,
        reporting_deadline=now,
        created_by="tests",
    )
    incident.reports.create(
        kind="initial", content="Root cause: a missing age band.", created_by="t", ledger_seq=1
    )
    incident.reports.create(
        kind="follow_up", content="Model 1.0 restored.", created_by="t", ledger_seq=2
    )
    payload = {"kind": "serious_incident", "system_id": demo_system.pk, "stage": "follow_up"}
    text = " ".join(pdf_text(download(request_report(payload))).split())
    assert "Applicants over 75 were refused in bulk." in text
    assert "Root cause: a missing age band." in text and "Model 1.0 restored." in text
    assert "No serious incident is on the record yet" not in text
