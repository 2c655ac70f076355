"""The serious-incident record holds what the Commission's reporting template asks for
(Art. 73): Member State and receiving authority (73(1)), when it occurred, when the
provider became aware and when the causal link was established (73(2)), the Art. 3(49)
harm, the report stage, root cause and corrective actions (73(6)), and the parallel
regimes the same event is reported under. Each case is named by its legal source."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support import last_entry


def open_incident(call, system_id: int, kind: str = "general", status: int = 201, **extra):
    aware = timezone.now() - timedelta(days=1)
    return call(
        "post",
        "incident-list",
        {
            "system_id": system_id,
            "kind": kind,
            "description": "Loan refused to a whole postcode",
            "became_aware_at": aware.isoformat(),
            **extra,
        },
        status=status,
    )


@pytest.mark.parametrize(
    ("kind", "days", "source"),
    [
        pytest.param("general", 15, "Art. 73(2)", id="Art. 73(2) 15 days"),
        pytest.param("death", 10, "Art. 73(4)", id="Art. 73(4) death 10 days"),
        pytest.param("widespread_infringement", 2, "Art. 73(3)", id="Art. 73(3) widespread 2 days"),
        pytest.param(
            "critical_infrastructure", 2, "Art. 73(3)", id="Art. 73(3) critical infrastructure"
        ),
    ],
)
def test_the_immediate_duty_is_shown_beside_the_outer_deadline(
    call, make_system, org, kind, days, source
):
    system = make_system()
    incident = open_incident(call, system["id"], kind=kind)
    immediate, outer = incident["deadlines"]
    assert immediate["legal_source"] == "Art. 73(2), first subparagraph"
    assert "immediately after establishing a causal link" in immediate["duty"]
    assert immediate["due"] is None  # no causal link established yet
    assert (outer["legal_source"], outer["due"]) == (source, incident["reporting_deadline"])
    assert f"{days} days" in outer["duty"]

    link = timezone.now() - timedelta(hours=2)
    updated = call(
        "patch",
        "incident-detail",
        {"causal_link_established_at": link.isoformat()},
        status=200,
        pk=incident["id"],
    )
    assert updated["deadlines"][0]["due"] is not None
    entry = last_entry(org, "incident.details_recorded")
    assert entry["data"]["changed"] == ["causal_link_established_at"]


@pytest.mark.parametrize(
    ("kind", "harm"),
    [
        pytest.param("death", "health", id="Art. 3(49)(a) Art. 73(4) a death is harm to health"),
        pytest.param(
            "critical_infrastructure",
            "critical_infrastructure",
            id="Art. 3(49)(b) Art. 73(3) critical infrastructure",
        ),
    ],
)
def test_the_harm_category_follows_from_the_kind(call, make_system, kind, harm):
    system = make_system()
    assert open_incident(call, system["id"], kind=kind)["harm_category"] == harm


@pytest.mark.parametrize(
    "harm",
    [
        pytest.param("fundamental_rights", id="Art. 3(49)(c) fundamental rights"),
        pytest.param("property_or_environment", id="Art. 3(49)(d) property or environment"),
        pytest.param("health", id="Art. 3(49)(a) health"),
    ],
)
def test_a_general_incident_records_its_harm_category(call, make_system, org, harm):
    system = make_system()
    incident = open_incident(call, system["id"], harm_category=harm)
    assert incident["harm_category"] == harm
    assert last_entry(org, "incident.opened")["data"]["harm_category"] == harm


def test_a_death_recorded_as_property_harm_is_a_conflict(call, make_system):
    system = make_system()
    error = open_incident(
        call, system["id"], kind="death", harm_category="property_or_environment", status=400
    )["error"]
    assert error["message"].startswith("The incident's facts contradict each other")
    assert "Art. 3(49)(a)" in error["fields"]["harm_category"][0]


def test_art_73_1_the_report_names_member_state_and_authority(call, make_system, org):
    system = make_system()
    incident = open_incident(call, system["id"])
    call("post", "incident-report", {"kind": "initial", "content": "a"}, pk=incident["id"])
    now = timezone.now().isoformat()
    error = call(
        "post", "incident-authority-informed", {"informed_at": now}, status=400, pk=incident["id"]
    )["error"]
    assert "Art. 73(1)" in error["message"]
    assert set(error["fields"]) == {"member_state", "receiving_authority"}
    call(
        "post",
        "incident-authority-informed",
        {"informed_at": now, "member_state": "XX", "receiving_authority": "A"},
        status=400,
        pk=incident["id"],
    )
    informed = call(
        "post",
        "incident-authority-informed",
        {"informed_at": now, "member_state": "FR", "receiving_authority": "CNIL"},
        status=200,
        pk=incident["id"],
    )
    assert (informed["member_state"], informed["receiving_authority"]) == ("FR", "CNIL")
    data = last_entry(org, "incident.authority_informed")["data"]
    assert (data["member_state"], data["receiving_authority"]) == ("FR", "CNIL")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param(
            {"occurred_at": (timezone.now() + timedelta(days=1)).isoformat()},
            "occurred_at",
            id="Art. 73(2) occurred after the provider became aware",
        ),
        pytest.param(
            {"causal_link_established_at": (timezone.now() - timedelta(days=30)).isoformat()},
            "causal_link_established_at",
            id="Art. 73(2) causal link before awareness",
        ),
        pytest.param(
            {"parallel_regimes": [{"regime": "nis2", "reference": "a"}] * 2},
            "parallel_regimes",
            id="Art. 73(9) a parallel regime listed twice",
        ),
        pytest.param(
            {"parallel_regimes": [{"regime": "sox", "reference": "a"}]},
            "parallel_regimes",
            id="Art. 73(9) an unknown regime",
        ),
        pytest.param({"member_state": "CH"}, "member_state", id="Art. 73(1) not a Member State"),
    ],
)
def test_impossible_facts_are_refused_and_write_nothing(call, make_system, change, field):
    system = make_system()
    incident = open_incident(call, system["id"])
    error = call("patch", "incident-detail", change, status=400, pk=incident["id"])["error"]
    assert field in str(error["fields"])


def test_parallel_regimes_are_recorded_with_references_as_digests(call, make_system, org):
    system = make_system()
    regimes = [
        {"regime": "nis2", "reference": "CSIRT-DE 2026-0042"},
        {"regime": "gdpr", "reference": "DPA breach notice 77"},
    ]
    incident = open_incident(call, system["id"], member_state="DE", parallel_regimes=regimes)
    assert incident["parallel_regimes"] == regimes
    data = last_entry(org, "incident.opened")["data"]
    assert [r["regime"] for r in data["parallel_regimes"]] == ["nis2", "gdpr"]
    assert "CSIRT" not in str(data)


def test_art_73_6_the_final_report_states_root_cause_and_corrective_actions(call, make_system, org):
    system = make_system()
    incident = open_incident(call, system["id"])
    call("post", "incident-report", {"kind": "initial", "content": "a"}, pk=incident["id"])
    call("post", "incident-report", {"kind": "follow_up", "content": "b"}, pk=incident["id"])
    error = call(
        "post",
        "incident-report",
        {"kind": "final", "content": "c", "root_cause": "Postcode feature"},
        status=400,
        pk=incident["id"],
    )["error"]
    assert set(error["fields"]) == {"corrective_actions"}
    final = call(
        "post",
        "incident-report",
        {
            "kind": "final",
            "content": "c",
            "root_cause": "Postcode feature",
            "corrective_actions": "Feature removed; model retrained",
        },
        pk=incident["id"],
    )
    assert [r["kind"] for r in final["reports"]] == ["initial", "follow_up", "final"]
    assert final["reports"][-1]["root_cause"] == "Postcode feature"
    data = last_entry(org, "incident.report_added")["data"]
    assert len(data["root_cause_sha256"]) == len(data["corrective_actions_sha256"]) == 64
