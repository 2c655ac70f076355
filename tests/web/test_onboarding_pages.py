"""Onboarding: a new organization's owner creates the pipeline's API key, registers the
first system and answers the classification questionnaire, each step marked done."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.compliance.models import Classification
from apps.registry.models import AISystem
from apps.tenancy.models import ApiKey
from tests.support import answers, assert_nothing_written

pytestmark = pytest.mark.django_db


def _form_data(given: dict) -> dict:
    """The questionnaire's answers as the form posts them."""
    data = {}
    for key, value in given.items():
        if isinstance(value, bool):
            data[key] = "yes" if value else "no"
        else:
            data[key] = value
    return data


def test_an_owner_walks_through_key_system_and_classification(org, make_person, client_as):
    client = client_as(make_person(org, "owner"))
    start = client.get(reverse("web:onboarding")).content.decode()
    assert start.count("to do") == 3

    created = client.post(
        reverse("web:onboarding"), {"name": "training pipeline", "role": "pipeline"}
    )
    assert created.status_code == 201
    key = ApiKey.objects.get(organization=org, name="training pipeline")
    html = created.content.decode()
    assert key.prefix in html and "shown this once" in html

    registered = client.post(
        reverse("web:onboarding-system"),
        {"name": "CV screening", "intended_purpose": "Ranks applications.", "role": "provider"},
    )
    assert registered["Location"] == reverse("web:onboarding-classify")
    system = AISystem.objects.get(organization=org, name="CV screening")

    given = answers(role="provider", annex_iii_area="employment")
    classified = client.post(reverse("web:onboarding-classify"), _form_data(given))
    assert classified.status_code == 302, classified.content.decode()
    assert classified["Location"] == reverse("web:system", args=[system.pk])
    assert Classification.objects.get(system=system).category == "high_risk"
    assert client.get(reverse("web:onboarding")).content.decode().count("to do") == 0


def test_an_unanswered_question_is_named_next_to_it(org, make_person, client_as):
    client = client_as(make_person(org, "owner"))
    client.post(
        reverse("web:onboarding-system"),
        {"name": "CV screening", "intended_purpose": "Ranks applications.", "role": "provider"},
    )
    given = _form_data(answers(role="provider"))
    given.pop("annex_i_safety_component")
    with assert_nothing_written():
        refused = client.post(reverse("web:onboarding-classify"), given)
    assert refused.status_code == 400
    html = refused.content.decode()
    assert 'id="id_annex_i_safety_component_error"' in html and "Unanswered." in html


def test_an_auditor_may_not_create_keys(org, make_person, client_as):
    client = client_as(make_person(org, "auditor"))
    with assert_nothing_written():
        refused = client.post(reverse("web:onboarding"), {"name": "x", "role": "pipeline"})
    assert refused.status_code == 403
