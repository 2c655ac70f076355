"""The approvals inbox (separation of duties explained when refused) and the incident
desk (deadlines computed on the server, the Art. 73 stages)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.compliance.models import ApprovalRequest, Incident
from tests.factories import (
    AISystemFactory,
    DeploymentFactory,
    IncidentFactory,
    ModelFactory,
    ModelVersionFactory,
)
from tests.support import assert_nothing_written

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployment(org):
    system = AISystemFactory(organization=org, name="Credit scorer")
    ModelVersionFactory(model=ModelFactory(system=system, name="scorer"), version="1.0")
    return DeploymentFactory(system=system)


def _request(client, deployment, reason="release 1.0"):
    version = deployment.system.models.get().versions.get()
    return client.post(
        reverse("web:approval-request", args=[deployment.pk]),
        {"model_version": str(version.pk), "reason": reason},
    )


def test_one_person_requests_and_another_approves(org, deployment, make_person, client_as):
    engineer = client_as(make_person(org, "ml_engineer"))
    response = _request(engineer, deployment)
    assert response.status_code == 302 and response["Location"] == reverse("web:approvals")
    approval = ApprovalRequest.objects.get(deployment=deployment)

    officer = client_as(make_person(org, "compliance_officer"), second_factor=True)
    inbox = officer.get(reverse("web:approvals")).content.decode()
    assert f"Request {approval.pk}" in inbox and "release 1.0" in inbox
    decided = officer.post(
        reverse("web:approval-decide", args=[approval.pk, "approve"]),
        {f"r{approval.pk}-comment": "checked"},
        HTTP_HX_REQUEST="true",
    )
    assert decided.status_code == 200
    approval.refresh_from_db()
    assert approval.status == "approved"
    assert "approve by compliance-officer@acme.example.invalid" in decided.content.decode()


def test_self_approval_is_refused_with_separation_of_duties_in_words(
    org, deployment, make_person, client_as
):
    officer = client_as(make_person(org, "compliance_officer"), second_factor=True)
    _request(officer, deployment)
    approval = ApprovalRequest.objects.get(deployment=deployment)
    inbox = officer.get(reverse("web:approvals")).content.decode()
    assert "You asked for this approval" in inbox
    with assert_nothing_written():
        refused = officer.post(reverse("web:approval-decide", args=[approval.pk, "approve"]))
    assert refused.status_code == 403
    assert "Separation of duties" in refused.content.decode()
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "pending"


def test_an_engineer_may_request_but_not_decide(org, deployment, make_person, client_as):
    engineer = client_as(make_person(org, "ml_engineer"))
    _request(engineer, deployment)
    approval = ApprovalRequest.objects.get(deployment=deployment)
    assert "Approve</button>" not in engineer.get(reverse("web:approvals")).content.decode()
    with assert_nothing_written():
        refused = engineer.post(reverse("web:approval-decide", args=[approval.pk, "approve"]))
    assert refused.status_code == 403
    assert "ML engineer" in refused.content.decode()


def test_the_desk_shows_each_open_incident_with_its_server_computed_deadline(
    org, make_person, client_as
):
    system = AISystemFactory(organization=org, name="Credit scorer")
    aware = timezone.now() - timedelta(days=1, hours=2)
    incident = IncidentFactory(system=system, kind="critical_infrastructure", became_aware_at=aware)
    html = client_as(make_person(org, "auditor")).get(reverse("web:incidents")).content.decode()
    # Art. 73(3): two days after awareness, so 21 h 58 min or so are left.
    deadline = incident.reporting_deadline
    assert deadline == aware + timedelta(days=2)
    assert f'datetime="{deadline.isoformat(timespec="seconds").replace("+00:00", "Z")}"' in html
    assert "data-countdown" in html
    assert "21 h" in html or "22 h" in html


def test_the_incident_page_walks_the_art_73_stages(org, make_person, client_as):
    system = AISystemFactory(organization=org)
    incident = IncidentFactory(system=system, became_aware_at=timezone.now() - timedelta(hours=1))
    client = client_as(make_person(org, "compliance_officer"), second_factor=True)
    url = reverse("web:incident-action", args=[incident.pk, "report"])
    # A final report first is refused in words; its missing fields are named beside them.
    with assert_nothing_written():
        refused = client.post(url, {"report-kind": "final", "report-content": "All done."})
    assert refused.status_code == 400
    assert 'id="id_report-root_cause_error"' in refused.content.decode()
    assert (
        client.post(url, {"report-kind": "initial", "report-content": "What we know."}).status_code
        == 302
    )
    informed = client.post(
        reverse("web:incident-action", args=[incident.pk, "informed"]),
        {
            "informed-informed_at": timezone.now().strftime("%Y-%m-%dT%H:%M"),
            "informed-member_state": "DE",
            "informed-receiving_authority": "BNetzA",
        },
    )
    assert informed.status_code == 302, informed.content.decode()
    page = client.get(reverse("web:incident", args=[incident.pk])).content.decode()
    assert "Initial report: done" in page and "Authority informed: done" in page
    assert "Final report: not yet" in page
    assert Incident.objects.get(pk=incident.pk).status == "authority_informed"
