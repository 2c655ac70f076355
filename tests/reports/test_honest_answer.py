"""A report request that has already finished when the service answers (embedded
mode: tasks run in-process when the request commits) answers with the report's real
state and its link, not "queued"."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from apps.reports.demo import demo_system_seed


@pytest.mark.django_db(transaction=True)
def test_a_finished_request_answers_succeeded_with_its_pdf_link(org, officer):
    assert settings.CELERY_TASK_ALWAYS_EAGER  # the embedded default the tests run on
    system = demo_system_seed(organization=org, model_versions=1, batches=0)
    response = officer.post(
        reverse("report-list"), {"kind": "annex_iv", "system_id": system.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["pdf_url"] == f"/api/v1/reports/{body['id']}/pdf"
    assert len(body["sha256"]) == 64 and body["ledger_seq"] > body["requested_seq"]
    assert officer.get(body["pdf_url"]).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_request_that_failed_at_once_answers_failed_with_the_reason(org, officer):
    system = demo_system_seed(organization=org, model_versions=1, batches=0, classify=False)
    response = officer.post(
        reverse("report-list"),
        {
            "kind": "declaration_of_conformity",
            "system_id": system.pk,
            "signatory_name": "Erika Mustermann",
            "signatory_function": "Head of Compliance",
            "place_of_issue": "Berlin",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "failed" and body["pdf_url"] is None
    assert "not classified" in body["failure_reason"]
