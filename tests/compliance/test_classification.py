"""Classification tables: each Annex III area, each Art. 6(3) exemption, the profiling
override, the Art. 5 prohibitions, the Art. 50 cases, GPAI duties and the
provider/deployer split. Each asserts the category, the obligations and their dates,
through the API a compliance officer uses."""

from __future__ import annotations

from datetime import date

import pytest

from apps.compliance import rules

PROVIDER_HIGH_RISK = {
    "art_4",
    "art_9",
    "art_10",
    "art_11",
    "art_12",
    "art_13",
    "art_14",
    "art_15",
    "art_17",
    "art_18",
    "art_19",
    "art_43",
    "art_47",
    "art_49",
    "art_72",
    "art_73",
}
ANNEX_III = date(2027, 12, 2)
ANNEX_I = date(2028, 8, 2)
FEB_2025 = date(2025, 2, 2)
AUG_2025 = date(2025, 8, 2)
AUG_2026 = date(2026, 8, 2)


def classify_and_list(call, make_system, role: str = "provider", **overrides):
    system = make_system(role=role, **overrides)
    classification = call("get", "classification-list", status=200)["results"][0]
    checklist = call("get", "system-obligations", status=200, pk=system["id"])
    dates = {o["code"]: date.fromisoformat(o["applies_from"]) for o in checklist["obligations"]}
    return classification, dates, checklist


def high_risk_dates(codes: set[str], when: date) -> dict[str, date]:
    return {code: (FEB_2025 if code == "art_4" else when) for code in codes}


@pytest.mark.parametrize("area", sorted(rules.ANNEX_III_AREAS))
def test_each_annex_iii_area_makes_a_provider_high_risk_from_december_2027(call, make_system, area):
    classification, dates, _ = classify_and_list(call, make_system, annex_iii_area=area)
    assert classification["category"] == "high_risk"
    assert classification["high_risk_basis"] == "annex_iii"
    assert rules.ANNEX_III_AREAS[area][0] in classification["citations"]
    assert dates == high_risk_dates(PROVIDER_HIGH_RISK, ANNEX_III)


def test_annex_i_safety_component_is_high_risk_from_august_2028(call, make_system):
    classification, dates, _ = classify_and_list(call, make_system, annex_i_safety_component=True)
    assert (classification["category"], classification["high_risk_basis"]) == (
        "high_risk",
        "annex_i",
    )
    assert "Art. 6(1)" in classification["citations"]
    assert dates == high_risk_dates(PROVIDER_HIGH_RISK, ANNEX_I)


@pytest.mark.parametrize("exemption", sorted(rules.EXEMPTIONS))
def test_each_art_6_3_exemption_takes_the_system_out_of_high_risk_but_not_registration(
    call, make_system, exemption
):
    classification, dates, _ = classify_and_list(
        call, make_system, annex_iii_area="employment", art_6_3_exemption=exemption
    )
    assert classification["category"] == "minimal_risk"
    assert classification["exemption"] == exemption
    assert rules.EXEMPTIONS[exemption][0] in classification["citations"]
    # The provider documents the assessment and still registers the system.
    assert dates == {"art_4": FEB_2025, "art_6_4": ANNEX_III, "art_49_2": ANNEX_III}


@pytest.mark.parametrize("exemption", sorted(rules.EXEMPTIONS))
def test_profiling_is_always_high_risk_whatever_the_exemption(call, make_system, exemption):
    classification, dates, _ = classify_and_list(
        call,
        make_system,
        annex_iii_area="essential_services",
        profiling=True,
        art_6_3_exemption=exemption,
    )
    assert classification["category"] == "high_risk"
    assert classification["exemption"] == ""
    assert "Art. 6(3), last subparagraph" in classification["citations"]
    assert dates == high_risk_dates(PROVIDER_HIGH_RISK, ANNEX_III)


@pytest.mark.parametrize("practice", sorted(rules.PROHIBITED_PRACTICES))
def test_each_art_5_practice_is_prohibited_from_february_2025(call, make_system, practice):
    # Even on top of a high-risk use, a prohibited practice decides the category.
    classification, dates, checklist = classify_and_list(
        call, make_system, prohibited_practices=[practice], annex_iii_area="employment"
    )
    assert classification["category"] == "prohibited"
    assert rules.PROHIBITED_PRACTICES[practice][0] in classification["citations"]
    assert dates == {"art_4": FEB_2025, "art_5": FEB_2025}
    art_5 = next(o for o in checklist["obligations"] if o["code"] == "art_5")
    assert art_5["status"] == "prohibited"


def test_the_2026_bans_are_prohibited_practices():
    for practice in ("non_consensual_intimate_imagery", "child_sexual_abuse_material"):
        assert practice in rules.PROHIBITED_PRACTICES


# Art. 50: (1) and (2) bind providers, (3) and (4) bind deployers.
ART_50 = [
    ("interacts_with_persons", "provider", {"art_50_1"}),
    ("interacts_with_persons", "deployer", set()),
    ("generates_synthetic_content", "provider", {"art_50_2"}),
    ("generates_synthetic_content", "deployer", set()),
    ("emotion_recognition_or_biometric_categorisation", "provider", set()),
    ("emotion_recognition_or_biometric_categorisation", "deployer", {"art_50_3"}),
    ("deep_fake_or_public_interest_text", "provider", set()),
    ("deep_fake_or_public_interest_text", "deployer", {"art_50_4"}),
]


@pytest.mark.parametrize(("case", "role", "codes"), ART_50)
def test_art_50_cases_are_limited_risk_with_duties_from_august_2026(
    call, make_system, case, role, codes
):
    classification, dates, _ = classify_and_list(call, make_system, role=role, **{case: True})
    assert classification["category"] == "limited_risk"
    assert rules.TRANSPARENCY_CASES[case][0] in classification["citations"]
    assert dates == {"art_4": FEB_2025, **{code: AUG_2026 for code in codes}}


def test_transparency_duties_add_to_high_risk_obligations(call, make_system):
    classification, dates, _ = classify_and_list(
        call, make_system, annex_iii_area="education", interacts_with_persons=True
    )
    assert classification["category"] == "high_risk"
    assert dates["art_50_1"] == AUG_2026
    assert dates["art_9"] == ANNEX_III


def test_no_duty_beyond_ai_literacy_for_a_minimal_risk_system(call, make_system):
    classification, dates, _ = classify_and_list(call, make_system)
    assert classification["category"] == "minimal_risk"
    assert dates == {"art_4": FEB_2025}


@pytest.mark.parametrize(
    ("systemic", "expected"),
    [
        (False, {"art_4": FEB_2025, "art_53": AUG_2025}),
        (True, {"art_4": FEB_2025, "art_53": AUG_2025, "art_55": AUG_2025}),
    ],
)
def test_general_purpose_ai_model_duties_from_august_2025(call, make_system, systemic, expected):
    classification, dates, _ = classify_and_list(
        call, make_system, general_purpose_ai_model=True, systemic_risk=systemic
    )
    assert classification["result"]["systemic_risk"] is systemic
    assert dates == expected


# The provider/deployer split for high-risk systems.
DEPLOYER = [
    ("employment", False, {"art_4": FEB_2025, "art_26": ANNEX_III}),
    ("employment", True, {"art_4": FEB_2025, "art_26": ANNEX_III, "art_27": ANNEX_III}),
    # Creditworthiness and insurance pricing (point 5) need a FRIA from every deployer.
    ("essential_services", False, {"art_4": FEB_2025, "art_26": ANNEX_III, "art_27": ANNEX_III}),
    # Critical infrastructure is excluded from Art. 27 even for public bodies.
    ("critical_infrastructure", True, {"art_4": FEB_2025, "art_26": ANNEX_III}),
]


@pytest.mark.parametrize(("area", "public", "expected"), DEPLOYER)
def test_a_deployer_of_a_high_risk_system_has_deployer_duties_not_provider_duties(
    call, make_system, area, public, expected
):
    classification, dates, _ = classify_and_list(
        call, make_system, role="deployer", annex_iii_area=area, public_service_deployer=public
    )
    assert classification["category"] == "high_risk"
    assert classification["role"] == "deployer"
    assert dates == expected


def test_every_obligation_carries_its_legal_source(call, make_system):
    _, _, checklist = classify_and_list(call, make_system, annex_iii_area="migration")
    for item in checklist["obligations"]:
        assert item["legal_source"].startswith("Art. 113")
        assert item["requirement"]
        assert item["status"] in {"missing", "upcoming", "evidenced"}
