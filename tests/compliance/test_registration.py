"""Registration data (Art. 49, Annex VIII): recorded for the database the checklist's
duty names, by section, and exported point by point. Each case is named by its source."""

from __future__ import annotations

import pytest

from apps.compliance import rules
from tests.support import last_entry

EMPLOYMENT = {"annex_iii_area": "employment", "annex_iii_point": "4a"}
SECTION_A = {
    "provider_name_address_contact": "Acme Credit GmbH, Hauptstr. 1, Berlin, ai@acme.example",
    "trade_name_and_reference": "ScoreOne 2.1 (ref. SO-21)",
    "intended_purpose": "Ranking job applications",
    "information_and_operating_logic": "Gradient-boosted trees over CV features",
    "status": "on the market",
    "member_states": "DE, AT",
    "declaration_of_conformity": "https://acme.example/doc.pdf",
}
SECTION_B = {
    "provider_name_address_contact": "Acme Credit GmbH, Berlin",
    "trade_name_and_reference": "Sorter 1",
    "intended_purpose": "Sorting incoming applications by date",
    "art_6_3_conditions": "Art. 6(3)(a) narrow procedural task",
    "grounds_summary": "Orders documents, decides nothing",
    "status": "on the market",
    "member_states": "DE",
}
SECTION_C = {
    "deployer_name_address_contact": "City of Linz, HR department",
    "provider_entry_url": "https://eu-database.example/entry/123",
}


def register(call, system_id: int, database: str, data: dict, status: int = 201):
    return call(
        "post",
        "registration-list",
        {"system_id": system_id, "database": database, "data": data},
        status=status,
    )


@pytest.mark.parametrize(
    ("role", "answers", "database", "section", "data"),
    [
        pytest.param("provider", EMPLOYMENT, "eu_public", "A", SECTION_A,
                     id="Art. 49(1) Annex VIII Section A point 4(a)"),
        pytest.param("provider", {"annex_iii_area": "law_enforcement", "annex_iii_point": "6b"},
                     "eu_non_public", "A", SECTION_A,
                     id="Art. 49(4) Annex VIII Section A non-public point 6(b)"),
        pytest.param("provider", {"annex_iii_area": "critical_infrastructure"}, "national", "A",
                     SECTION_A, id="Art. 49(5) national register point 2"),
        pytest.param("provider", {**EMPLOYMENT, "art_6_3_exemption": "narrow_procedural_task"},
                     "eu_public", "B", SECTION_B, id="Art. 49(2) Annex VIII Section B exempted"),
        pytest.param("deployer", {**EMPLOYMENT, "public_authority_deployer": True}, "eu_public",
                     "C", SECTION_C, id="Art. 49(3) Annex VIII Section C public deployer"),
    ],
)  # fmt: skip
def test_registration_is_recorded_and_exported_by_point(
    call, make_system, org, role, answers, database, section, data
):
    system = make_system(role=role, **answers)
    record = register(call, system["id"], database, data)
    assert (record["section"], record["database"], record["version"]) == (section, database, 1)
    export = call("get", "system-registration", status=200, pk=system["id"])
    title, fields = rules.ANNEX_VIII_SECTIONS[section]
    assert export["legal_source"] == title
    assert [p["point"] for p in export["points"]] == [f.point for f in fields]
    assert {p["key"]: p["value"] for p in export["points"] if p["value"]} == data
    entry = last_entry(org, "registration.recorded")
    assert entry["data"]["fields"] == sorted(data)
    assert "Acme" not in str(entry) and "Linz" not in str(entry)
    checklist = call("get", "system-obligations", status=200, pk=system["id"])
    duty = next(o for o in checklist["obligations"] if o["code"] == record["duty"])
    assert duty["status"] == "evidenced"


@pytest.mark.parametrize(
    ("answers", "database", "words"),
    [
        pytest.param({"annex_iii_area": "critical_infrastructure"}, "eu_public",
                     "the national register (Art. 49(5))",
                     id="Art. 49(5) a point 2 system flagged for the EU database"),
        pytest.param({"annex_iii_area": "migration", "annex_iii_point": "7b"}, "eu_public",
                     "non-public section", id="Art. 49(4) a point 7 system in the public section"),
        pytest.param(EMPLOYMENT, "national", "the EU database (Art. 71)",
                     id="Art. 49(1) a point 4 system flagged for the national register"),
    ],
)  # fmt: skip
def test_the_wrong_database_is_a_conflict_and_writes_nothing(
    call, make_system, answers, database, words
):
    system = make_system(**answers)
    error = register(call, system["id"], database, SECTION_A, status=400)["error"]
    assert error["message"].startswith("Conflict:")
    assert words in error["message"]


def test_missing_and_foreign_fields_are_named(call, make_system):
    system = make_system(**EMPLOYMENT)
    data = {k: v for k, v in SECTION_A.items() if k != "member_states"}
    data["deployer_name_address_contact"] = "x"
    error = register(call, system["id"], "eu_public", data, status=400)["error"]
    assert error["fields"] == {
        "data.member_states": ["Required (Annex VIII Section A, point 10)."],
        "data.deployer_name_address_contact": ["Not a field of Annex VIII Section A."],
    }


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param({"annex_i_safety_component": True}, id="Art. 49 Annex I only: sectoral"),
        pytest.param({}, id="Art. 49 minimal risk: no registration"),
    ],
)
def test_no_registration_duty_no_registration(call, make_system, answers):
    system = make_system(**answers)
    error = register(call, system["id"], "eu_public", SECTION_A, status=409)["error"]
    assert "no registration duty" in error["message"]


def test_no_export_before_registration(call, make_system):
    system = make_system(**EMPLOYMENT)
    call("get", "system-registration", status=404, pk=system["id"])
