"""The AI system pages: the list, one system at a glance, and the deployment actions
(activate, roll back with a confirmed reason, stop) with refusals in words."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.registry.models import DeploymentEvent
from tests.factories import (
    AISystemFactory,
    ClassificationFactory,
    DeploymentFactory,
    ModelFactory,
    ModelVersionFactory,
    RiskFactory,
)
from tests.support import answers, assert_nothing_written, last_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def served_system(org):
    """A minimal-risk system whose production deployment served v1, then v2."""
    system = AISystemFactory(organization=org, name="Credit scorer")
    model = ModelFactory(system=system, name="scorer")
    v1 = ModelVersionFactory(model=model, version="1.0")
    v2 = ModelVersionFactory(model=model, version="2.0")
    deployment = DeploymentFactory(system=system, serving=v1)
    from apps.registry import services
    from tests.factories import tests_actor

    services.deployment_activate(
        actor=tests_actor(org), deployment=deployment, model_version=v2, reason="better"
    )
    return system, deployment, v1, v2


def test_the_list_links_each_system_of_the_organization_only(
    org, other_org, make_person, client_as
):
    AISystemFactory(organization=org, name="Credit scorer")
    AISystemFactory(organization=other_org, name="Elsewhere")
    page = client_as(make_person(org, "auditor")).get(reverse("web:systems"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Credit scorer" in html and "Elsewhere" not in html


def test_the_system_page_shows_classification_obligations_risks_versions_and_timeline(
    org, served_system, make_person, client_as
):
    system, _, v1, v2 = served_system
    RiskFactory(system=system, hazard="Unfair refusals of credit")
    page = client_as(make_person(org, "auditor")).get(reverse("web:system", args=[system.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    # Classification with its rationale and legal sources.
    classification = system.classifications.get()
    assert classification.get_category_display() in html
    assert classification.rationale[:40] in html
    for citation in classification.citations:
        assert citation in html
    # The obligations checklist and the gap list, the risk register.
    assert 'id="obligations-h"' in html and 'id="gaps"' in html
    assert "Unfair refusals of credit" in html
    # Both versions, the timeline newest first with the activation's reason.
    assert v1.artifact_sha256[:16] in html and v2.artifact_sha256[:16] in html
    timeline = html[html.index('id="timeline"') :]
    assert timeline.index("2.0") < timeline.index("1.0")
    assert "better" in timeline


def test_an_auditor_sees_no_deployment_action_and_is_refused_a_posted_one(
    org, served_system, make_person, client_as
):
    system, deployment, _, _ = served_system
    client = client_as(make_person(org, "auditor"))
    html = client.get(reverse("web:system", args=[system.pk])).content.decode()
    assert "Roll back</button>" not in html and "Activate</button>" not in html
    url = reverse("web:deployment-action", args=[system.pk, deployment.pk, "rollback"])
    with assert_nothing_written():
        response = client.post(
            url,
            {f"d{deployment.pk}-rollback-reason": "x", f"d{deployment.pk}-rollback-confirm": "on"},
        )
    assert response.status_code == 403
    assert "Auditor" in response.content.decode()


def test_rollback_needs_a_reason_and_a_confirmation_said_next_to_the_fields(
    org, served_system, make_person, client_as
):
    system, deployment, _, _ = served_system
    client = client_as(make_person(org, "ml_engineer"))
    url = reverse("web:deployment-action", args=[system.pk, deployment.pk, "rollback"])
    with assert_nothing_written():
        response = client.post(url, {f"d{deployment.pk}-rollback-reason": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_d{deployment.pk}-rollback-reason_error"' in html
    assert f'id="id_d{deployment.pk}-rollback-confirm_error"' in html


def test_rollback_with_htmx_swaps_the_timeline_with_the_rollback_on_top(
    org, served_system, make_person, client_as
):
    system, deployment, v1, _ = served_system
    client = client_as(make_person(org, "ml_engineer"))
    url = reverse("web:deployment-action", args=[system.pk, deployment.pk, "rollback"])
    response = client.post(
        url,
        {
            f"d{deployment.pk}-rollback-reason": "v2 refuses too often",
            f"d{deployment.pk}-rollback-confirm": "on",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="deployments"')
    timeline = html[html.index('id="timeline"') :]
    assert timeline.index("Rolled back") < timeline.index("Activated")
    assert "v2 refuses too often" in timeline
    deployment.refresh_from_db()
    assert deployment.model_version == v1
    assert DeploymentEvent.objects.filter(deployment=deployment, kind="rolled_back").count() == 1


def test_a_refused_activation_says_why_on_the_page(org, make_person, client_as):
    """A high-risk system's unapproved version: the gate's reason, next to the form."""
    system = AISystemFactory(organization=org, name="Hiring")
    ClassificationFactory(
        system=system, answers=answers(role="provider", annex_iii_area="employment")
    )
    version = ModelVersionFactory(model=ModelFactory(system=system), version="1.0")
    deployment = DeploymentFactory(system=system)
    client = client_as(make_person(org, "ml_engineer"))
    url = reverse("web:deployment-action", args=[system.pk, deployment.pk, "activate"])
    with assert_nothing_written():
        response = client.post(url, {f"d{deployment.pk}-activate-model_version": str(version.pk)})
    assert response.status_code == 409
    assert "approval(s) required" in response.content.decode()


def test_another_organizations_system_is_not_found(org, other_org, make_person, client_as):
    system = AISystemFactory(organization=other_org)
    client = client_as(make_person(org, "owner"))
    assert client.get(reverse("web:system", args=[system.pk])).status_code == 404
    assert client.get("/systems/not-an-id/").status_code == 404


def test_the_lifecycle_moves_with_a_reason_on_the_record(org, make_person, client_as):
    system = AISystemFactory(organization=org, name="Credit scorer")
    engineer = client_as(make_person(org, "ml_engineer"))
    url = reverse("web:system-status", args=[system.pk])
    # The next step is offered first, retiring last.
    form = engineer.get(reverse("web:system", args=[system.pk])).content.decode()
    assert form.index('value="validation"') < form.index('value="retired"')
    # No reason: said next to the field, nothing written.
    with assert_nothing_written():
        refused = engineer.post(url, {"lifecycle-status": "validation", "lifecycle-reason": ""})
    assert refused.status_code == 400
    assert 'id="id_lifecycle-reason_error"' in refused.content.decode()
    # A move the lifecycle does not offer from development is not a choice.
    with assert_nothing_written():
        skipped = engineer.post(url, {"lifecycle-status": "withdrawn", "lifecycle-reason": "x"})
    assert skipped.status_code == 400
    moved = engineer.post(
        url, {"lifecycle-status": "validation", "lifecycle-reason": "Holdout tests start."}
    )
    assert moved.status_code == 302
    system.refresh_from_db()
    assert system.status == "validation"
    page = engineer.get(reverse("web:system", args=[system.pk])).content.decode()
    assert "The system is in validation." in page and 'value="in_service"' in page
    entry = last_entry(org, "ai_system.status_changed")
    assert entry["data"]["reason"] == "Holdout tests start."


def test_an_auditor_cannot_move_the_lifecycle(org, make_person, client_as):
    system = AISystemFactory(organization=org)
    auditor = client_as(make_person(org, "auditor"))
    assert (
        "Change status" not in auditor.get(reverse("web:system", args=[system.pk])).content.decode()
    )
    with assert_nothing_written():
        response = auditor.post(
            reverse("web:system-status", args=[system.pk]),
            {"lifecycle-status": "validation", "lifecycle-reason": "x"},
        )
    assert response.status_code == 403
