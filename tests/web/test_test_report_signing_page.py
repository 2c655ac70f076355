"""Signing a test report on the system page (Annex IV 2(g)): a responsible person who
logged in with their second factor signs what they read; without the second factor,
the refusal says so and nothing is signed; an auditor is offered nothing and refused."""

from __future__ import annotations

import re

import pytest

from apps.compliance.models import AssessmentSignature
from tests import factories

pytestmark = pytest.mark.django_db

RESULTS = {"rows": 4, "metrics": {"accuracy": {"value": 0.75, "ci": [0.5, 1.0]}}}


@pytest.fixture
def assessment(org):
    system = factories.AISystemFactory(organization=org, name="Scorer")
    return factories.AssessmentFactory(
        system=system,
        results=RESULTS,
        outcomes={"accuracy": {"value": 0.75, "min": 0.5, "passed": True}},
    )


def _form(html: str, assessment) -> dict[str, str]:
    digest = re.search(
        rf'name="sign-{assessment.pk}-report_sha256" value="([0-9a-f]{{64}})"', html
    ).group(1)
    return {
        f"sign-{assessment.pk}-report_sha256": digest,
        f"sign-{assessment.pk}-function": "Head of validation",
    }


def _urls(assessment) -> tuple[str, str]:
    page = f"/systems/{assessment.system.pk}/"
    return page, f"{page}assessments/{assessment.pk}/sign"


def test_an_engineer_logged_in_with_a_code_signs_what_they_read(
    org, assessment, make_person, client_as
):
    client = client_as(make_person(org, "ml_engineer"), second_factor=True)
    page, sign = _urls(assessment)
    html = client.get(page).content.decode()
    assert "not signed" in html and "Sign this report" in html
    response = client.post(sign, _form(html, assessment))
    assert response.status_code == 302
    assert response["Location"] == f"{page}#assessments"
    after = client.get(page).content.decode()
    assert "signed by 1: Head of validation" in after
    assert "Sign this report" not in after  # once per person
    assert AssessmentSignature.objects.get().function == "Head of validation"


def test_without_a_second_factor_the_refusal_says_so_and_nothing_is_signed(
    org, assessment, make_person, client_as
):
    client = client_as(make_person(org, "compliance_officer"))
    page, sign = _urls(assessment)
    response = client.post(sign, _form(client.get(page).content.decode(), assessment))
    assert response.status_code == 403
    assert "Signing a test report needs a second factor" in response.content.decode()
    assert not AssessmentSignature.objects.exists()


def test_a_report_changed_since_it_was_read_is_not_signed(org, assessment, make_person, client_as):
    client = client_as(make_person(org, "owner"), second_factor=True)
    page, sign = _urls(assessment)
    form = _form(client.get(page).content.decode(), assessment)
    form[f"sign-{assessment.pk}-report_sha256"] = "0" * 64
    response = client.post(sign, form)
    assert response.status_code == 409
    assert "sign what you read" in response.content.decode()
    assert not AssessmentSignature.objects.exists()


def test_an_auditor_is_offered_no_signing_and_a_post_is_refused(
    org, assessment, make_person, client_as
):
    client = client_as(make_person(org, "auditor"), second_factor=True)
    page, sign = _urls(assessment)
    assert "Sign this report" not in client.get(page).content.decode()
    response = client.post(sign, {f"sign-{assessment.pk}-function": "auditor"})
    assert response.status_code == 403
    assert not AssessmentSignature.objects.exists()
