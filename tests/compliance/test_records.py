"""The risk register (Art. 9), FRIAs (Art. 27), evidence for obligations, and the gap
analysis ordered by date."""

from __future__ import annotations

from apps.compliance.models import FundamentalRightsAssessment, Risk
from tests.support import entry_types, last_entry

RISK = {
    "hazard": "Thin-file applicants scored low",
    "affected_persons": "young applicants",
    "likelihood": "possible",
    "severity": "major",
    "mitigation": "Manual review below score 0.4",
    "residual_risk": "medium",
    "review_date": "2027-01-31",
}
FRIA = {
    "process_and_purpose": "Consumer credit decisions",
    "period_and_frequency": "Continuous, every application",
    "affected_categories": "Consumer credit applicants",
    "specific_risks": "Indirect discrimination by age",
    "human_oversight_measures": "Credit officers review every refusal",
    "measures_if_risks_materialise": "Stop button, complaint handling, re-review",
}


def test_every_risk_change_is_on_the_ledger_without_its_text(call, make_system, org, person):
    system = make_system(annex_iii_area="essential_services")
    person("compliance_officer", "risk.owner@acme.example")
    risk = call(
        "post",
        "risk-list",
        {"system_id": system["id"], "owner_email": "risk.owner@acme.example", **RISK},
    )
    assert (risk["revision"], risk["owner_email"]) == (1, "risk.owner@acme.example")
    created = last_entry(org, "risk.created")["data"]
    assert "Thin-file" not in str(created) and len(created["hazard_sha256"]) == 64
    changed = call(
        "patch",
        "risk-detail",
        {"residual_risk": "low", "status": "mitigated"},
        status=200,
        pk=risk["id"],
    )
    assert (changed["residual_risk"], changed["status"], changed["revision"]) == (
        "low",
        "mitigated",
        2,
    )
    updated = last_entry(org, "risk.updated")["data"]
    assert updated["changed"] == ["residual_risk", "status"]
    assert updated["revision"] == 2
    # Nothing changed is refused; unknown fields and bad values are 400.
    call("patch", "risk-detail", {"residual_risk": "low"}, status=409, pk=risk["id"])
    call("patch", "risk-detail", {"likelihood": "sometimes"}, status=400, pk=risk["id"])
    call("patch", "risk-detail", {"colour": "red"}, status=400, pk=risk["id"])
    assert Risk.objects.get(pk=risk["id"]).revision == 2


def test_a_risks_owner_can_be_handed_to_another_member(call, make_system, org, person):
    system = make_system(annex_iii_area="essential_services")
    person("compliance_officer", "first.owner@acme.example")
    person("compliance_officer", "next.owner@acme.example")
    risk = call(
        "post",
        "risk-list",
        {"system_id": system["id"], "owner_email": "first.owner@acme.example", **RISK},
    )
    changed = call(
        "patch",
        "risk-detail",
        {"owner_email": "next.owner@acme.example"},
        status=200,
        pk=risk["id"],
    )
    assert (changed["owner_email"], changed["revision"]) == ("next.owner@acme.example", 2)
    assert last_entry(org, "risk.updated")["data"]["changed"] == ["owner"]
    # Someone outside the organization cannot own it; nothing is written.
    call("patch", "risk-detail", {"owner_email": "stranger@x.example"}, status=400, pk=risk["id"])
    assert Risk.objects.get(pk=risk["id"]).owner.email == "next.owner@acme.example"


def test_a_risk_needs_its_fields_and_a_member_as_owner(call, make_system):
    system = make_system()
    error = call("post", "risk-list", {"system_id": system["id"], "hazard": "x"}, status=400)
    assert {"likelihood", "severity", "residual_risk", "review_date", "affected_persons"} <= set(
        error["error"]["fields"]
    )
    call(
        "post",
        "risk-list",
        {"system_id": system["id"], "owner_email": "stranger@x.example", **RISK},
        status=400,
    )
    assert not Risk.objects.exists()


def test_fria_is_versioned_and_recorded_by_digest(call, make_system, org):
    system = make_system(role="deployer", annex_iii_area="essential_services")
    first = call("post", "fria-list", {"system_id": system["id"], **FRIA})
    second = call(
        "post", "fria-list", {"system_id": system["id"], **FRIA, "specific_risks": "Updated"}
    )
    assert (first["version"], second["version"]) == (1, 2)
    assert FundamentalRightsAssessment.objects.count() == 2
    data = last_entry(org, "fria.recorded")["data"]
    assert data["supersedes"] == 1
    assert {k for k in data if k.endswith("_sha256")} == {f"{k}_sha256" for k in FRIA}
    assert "Credit officers" not in str(data)
    checklist = call("get", "system-obligations", status=200, pk=system["id"])
    art_27 = next(o for o in checklist["obligations"] if o["code"] == "art_27")
    assert art_27["status"] == "evidenced"
    assert len(art_27["evidence"]) == 2


def test_fria_needs_all_six_elements_and_a_deployer(call, make_system, org):
    deployer = make_system(role="deployer", annex_iii_area="essential_services")
    partial = {k: v for k, v in FRIA.items() if k not in ("specific_risks", "period_and_frequency")}
    error = call("post", "fria-list", {"system_id": deployer["id"], **partial}, status=400)
    assert set(error["error"]["fields"]) == {"specific_risks", "period_and_frequency"}
    provider = make_system(name="Provider system")
    call("post", "fria-list", {"system_id": provider["id"], **FRIA}, status=409)
    assert "fria.recorded" not in entry_types(org)
    assert not FundamentalRightsAssessment.objects.exists()


def test_gap_analysis_lists_what_is_missing_by_date(call, make_system):
    high = make_system(annex_iii_area="employment")
    make_system(name="Unclassified", classify=False)
    gaps = call("get", "compliance-gaps", status=200)
    dates = [g["applies_from"] for g in gaps]
    assert dates == sorted(dates)
    codes = {(g["system"], g["code"]) for g in gaps}
    assert (high["id"], "art_9") in codes and (high["id"], "art_4") in codes
    assert any(g["code"] == "classification" for g in gaps)
    # Recording a risk closes the Art. 9 gap; attaching evidence closes an attested one.
    call("post", "risk-list", {"system_id": high["id"], **RISK})
    call(
        "post",
        "obligation-evidence-list",
        {
            "system_id": high["id"],
            "obligation": "art_43",
            "description": "Internal control per Annex VI",
            "uri": "https://docs.example/conformity.pdf",
        },
    )
    after = {g["code"] for g in call("get", "compliance-gaps", {"system": high["id"]}, status=200)}
    assert "art_9" not in after and "art_43" not in after and "art_47" in after


def test_evidence_only_for_obligations_in_the_checklist(call, make_system):
    system = make_system()
    call(
        "post",
        "obligation-evidence-list",
        {"system_id": system["id"], "obligation": "art_43", "description": "x", "uri": "u"},
        status=400,
    )
