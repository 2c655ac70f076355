"""Serious incidents (Art. 73): deadlines by kind, reports, and the Art. 73(6) block
on changes to the system while the authority has not been informed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.compliance.models import Incident
from apps.registry import services as registry
from apps.registry.models import Deployment, ModelVersion
from audit_platform.errors import RuleViolation
from audit_platform.principal import Principal
from tests.support import assert_nothing_written, entry_types, last_entry

AWARE = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
# Art. 73(1): the authority of the Member State where the incident occurred.
AUTHORITY = {"member_state": "DE", "receiving_authority": "Bundesnetzagentur"}


@pytest.mark.parametrize(
    ("kind", "days"),
    [
        ("general", 15),
        ("death", 10),
        ("widespread_infringement", 2),
        ("critical_infrastructure", 2),
    ],
)
def test_reporting_deadline_follows_the_kind(call, make_system, org, kind, days):
    system = make_system()
    incident = call(
        "post",
        "incident-list",
        {
            "system_id": system["id"],
            "kind": kind,
            "description": "Loan refused to whole postcode",
            "became_aware_at": AWARE.isoformat(),
        },
    )
    deadline = datetime.fromisoformat(incident["reporting_deadline"].replace("Z", "+00:00"))
    assert deadline == AWARE + timedelta(days=days)
    assert incident["blocks_changes"] is True
    entry = last_entry(org, "incident.opened")
    assert entry["data"]["reporting_days"] == days
    assert "postcode" not in str(entry)


def _open(call, system_id: int) -> dict:
    return call(
        "post",
        "incident-list",
        {
            "system_id": system_id,
            "kind": "death",
            "description": "x",
            "became_aware_at": (timezone.now() - timedelta(days=1)).isoformat(),
        },
    )


def test_an_open_incident_blocks_activation_and_rollback_until_the_authority_is_informed(
    call, deployed, org
):
    system, deployment, (v1, v2) = deployed()
    call("post", "deployment-activate", {"model_version_id": v1}, status=200, pk=deployment)
    call("post", "deployment-activate", {"model_version_id": v2}, status=200, pk=deployment)
    incident = _open(call, system["id"])
    before = entry_types(org)
    for name, body in (
        ("deployment-rollback", {"reason": "revert"}),
        ("deployment-activate", {"model_version_id": v1}),
    ):
        error = call("post", name, body, status=409, pk=deployment)["error"]
        assert "Art. 73(6)" in error["message"]
        assert f"incident {incident['id']}" in error["message"]
    with assert_nothing_written(), pytest.raises(RuleViolation, match=r"Art\. 73\(6\)"):
        registry.deployment_activate(
            actor=Principal.system(organization=org, name="script"),
            deployment=Deployment.objects.get(pk=deployment),
            model_version=ModelVersion.objects.get(pk=v1),
        )
    assert entry_types(org) == before
    assert str(Deployment.objects.get(pk=deployment).model_version_id) == v2
    # The stop button still works: stopping is a safety measure, not an alteration.
    call("post", "deployment-stop", {"reason": "incident"}, status=200, pk=deployment)

    call(
        "post",
        "incident-report",
        {"kind": "initial", "content": "Initial report"},
        pk=incident["id"],
    )
    informed = call(
        "post",
        "incident-authority-informed",
        {"informed_at": timezone.now().isoformat(), **AUTHORITY},
        status=200,
        pk=incident["id"],
    )
    assert (informed["status"], informed["blocks_changes"]) == ("authority_informed", False)
    assert last_entry(org, "incident.authority_informed")["data"]["on_time"] is True
    call("post", "deployment-rollback", {"reason": "restore"}, status=200, pk=deployment)


def test_incidents_of_other_systems_do_not_block(call, deployed, make_system):
    _, deployment, (v1, _) = deployed()
    other = make_system(name="Other system")
    _open(call, other["id"])
    call("post", "deployment-activate", {"model_version_id": v1}, status=200, pk=deployment)


def test_reports_come_in_order_and_closing_needs_the_authority_informed(call, make_system):
    system = make_system()
    incident = _open(call, system["id"])
    call(
        "post",
        "incident-report",
        {"kind": "follow_up", "content": "x"},
        status=409,
        pk=incident["id"],
    )
    call("post", "incident-close", None, status=409, pk=incident["id"])
    call(
        "post",
        "incident-authority-informed",
        {"informed_at": timezone.now().isoformat(), **AUTHORITY},
        status=409,
        pk=incident["id"],
    )
    call("post", "incident-report", {"kind": "initial", "content": "a"}, pk=incident["id"])
    call(
        "post",
        "incident-report",
        {"kind": "initial", "content": "b"},
        status=409,
        pk=incident["id"],
    )
    call("post", "incident-report", {"kind": "follow_up", "content": "c"}, pk=incident["id"])
    call(
        "post",
        "incident-authority-informed",
        {"informed_at": "2000-01-01T00:00:00Z", **AUTHORITY},
        status=400,
        pk=incident["id"],
    )
    call(
        "post",
        "incident-authority-informed",
        {"informed_at": timezone.now().isoformat(), **AUTHORITY},
        status=200,
        pk=incident["id"],
    )
    closed = call("post", "incident-close", None, status=200, pk=incident["id"])
    assert closed["status"] == "closed"
    assert [r["kind"] for r in closed["reports"]] == ["initial", "follow_up"]


def test_late_information_is_recorded_as_late(call, make_system, org):
    system = make_system()
    incident = call(
        "post",
        "incident-list",
        {
            "system_id": system["id"],
            "kind": "widespread_infringement",
            "description": "x",
            "became_aware_at": (timezone.now() - timedelta(days=5)).isoformat(),
        },
    )
    call("post", "incident-report", {"kind": "initial", "content": "a"}, pk=incident["id"])
    call(
        "post",
        "incident-authority-informed",
        {"informed_at": timezone.now().isoformat(), **AUTHORITY},
        status=200,
        pk=incident["id"],
    )
    assert last_entry(org, "incident.authority_informed")["data"]["on_time"] is False


def test_an_overdue_incident_shows_on_the_checklist(call, make_system):
    system = make_system(annex_iii_area="employment")
    call(
        "post",
        "incident-list",
        {
            "system_id": system["id"],
            "kind": "general",
            "description": "x",
            "became_aware_at": (timezone.now() - timedelta(days=20)).isoformat(),
        },
    )
    checklist = call("get", "system-obligations", status=200, pk=system["id"])
    art_73 = next(o for o in checklist["obligations"] if o["code"] == "art_73")
    assert art_73["status"] == "overdue"
    assert Incident.objects.count() == 1


def test_an_incident_cannot_be_opened_in_the_future(call, make_system):
    system = make_system()
    call(
        "post",
        "incident-list",
        {
            "system_id": system["id"],
            "kind": "general",
            "description": "x",
            "became_aware_at": (timezone.now() + timedelta(days=2)).isoformat(),
        },
        status=400,
    )
    assert not Incident.objects.exists()
