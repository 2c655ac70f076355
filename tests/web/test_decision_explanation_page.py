"""Asking for a decision explanation (Art. 86) from a prediction batch's page: pick a
row, request it, follow its progress; the report is then among the reports. Refused
with the reason next to the field (no such row, not a high-risk system), and not
offered to, nor accepted from, an auditor."""

from __future__ import annotations

import re

import pytest

from apps.reports.models import Report
from tests.reports.test_decision_explanation import _classify
from tests.support import make_frame, parquet_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(served, run_batch):
    """A batch of 6 decisions our worker scored, with its system's ids."""
    ids = served()
    batch = run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(6, seed=3)))
    return {**ids, "batch": batch}


def _page(batch) -> str:
    return f"/records/prediction_batch/{batch['batch']['id']}/"


def test_an_officer_requests_a_decisions_explanation_and_finds_it_in_reports(
    org, batch, make_person, client_as
):
    _classify(org, batch["system"]["id"], annex_iii_area="essential_services", profiling=True)
    client = client_as(make_person(org, "compliance_officer"))
    page = client.get(_page(batch)).content.decode()
    assert "Request the explanation" in page
    response = client.post(f"{_page(batch)}explanation", {"explain-row": "4"})
    assert response.status_code == 302
    report = Report.objects.get(kind=Report.Kind.DECISION_EXPLANATION)
    assert response["Location"] == f"/reports/{report.pk}/"
    assert report.params["row"] == 4
    listing = client.get("/reports/").content.decode()
    assert "Decision explanation (Art. 86)" in listing


def test_a_row_outside_the_batch_is_refused_next_to_the_field(org, batch, make_person, client_as):
    _classify(org, batch["system"]["id"], annex_iii_area="essential_services", profiling=True)
    client = client_as(make_person(org, "compliance_officer"))
    response = client.post(f"{_page(batch)}explanation", {"explain-row": "9"})
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r"Row 9 is not in prediction batch", html)
    assert not Report.objects.filter(kind=Report.Kind.DECISION_EXPLANATION).exists()


def test_a_system_that_is_not_high_risk_gets_the_reason(org, batch, make_person, client_as):
    client = client_as(make_person(org, "compliance_officer"))
    response = client.post(f"{_page(batch)}explanation", {"explain-row": "1"})
    assert 400 <= response.status_code < 500
    assert 'class="form-errors"' in response.content.decode()
    assert not Report.objects.filter(kind=Report.Kind.DECISION_EXPLANATION).exists()


def test_an_auditor_is_not_offered_the_request_and_cannot_post_it(
    org, batch, make_person, client_as
):
    client = client_as(make_person(org, "auditor"))
    page = client.get(_page(batch)).content.decode()
    assert "Request the explanation" not in page
    assert "Owners and compliance officers request decision explanations." in page
    refused = client.post(f"{_page(batch)}explanation", {"explain-row": "1"})
    assert refused.status_code == 403
    assert not Report.objects.filter(kind=Report.Kind.DECISION_EXPLANATION).exists()
