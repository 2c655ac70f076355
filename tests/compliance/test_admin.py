"""The admin shows the compliance record and offers no way to change it."""

from __future__ import annotations

import pytest
from django.urls import reverse

MODELS = [
    "classification",
    "obligationevidence",
    "risk",
    "assessment",
    "approvalrequest",
    "decisionoverride",
    "incident",
    "fundamentalrightsassessment",
]


@pytest.mark.parametrize("model", MODELS)
def test_each_compliance_record_is_listed_and_cannot_be_added(admin_client, model):
    assert admin_client.get(reverse(f"admin:compliance_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:compliance_{model}_add")).status_code == 403


def test_a_risk_cannot_be_edited_in_the_admin(admin_client, call, make_system):
    from apps.compliance.models import Risk

    system = make_system()
    risk = call(
        "post",
        "risk-list",
        {
            "system_id": system["id"],
            "hazard": "h",
            "affected_persons": "applicants",
            "likelihood": "rare",
            "severity": "minor",
            "residual_risk": "low",
            "review_date": "2027-01-01",
        },
    )
    url = reverse("admin:compliance_risk_change", args=[risk["id"]])
    assert admin_client.get(url).status_code == 200
    admin_client.post(url, {"severity": "critical"})
    assert Risk.objects.get(pk=risk["id"]).severity == "minor"
