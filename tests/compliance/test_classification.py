"""The rules table by table, each case named by its legal source (article, paragraph,
point) in its pytest id: the Annex III points and their exclusions, Art. 5 (with the
2026 prohibition), Art. 6, Art. 25, the provider, deployer, importer, distributor and
authorised-representative duties, Art. 27, Art. 43, Art. 49, Art. 50(2) and Art. 111
transitions, Art. 53/55. Most cases run the pure rules (validate, classify, obligations);
the API cases check what an officer sees."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from apps.compliance import rules
from tests.support import answers

FEB_2025 = date(2025, 2, 2)
AUG_2025 = date(2025, 8, 2)
AUG_2026 = date(2026, 8, 2)
DEC_2026 = date(2026, 12, 2)
AUG_2027 = date(2027, 8, 2)
ANNEX_III = date(2027, 12, 2)
ANNEX_I = date(2028, 8, 2)
AUG_2030 = date(2030, 8, 2)

EMPLOYMENT = {"annex_iii_area": "employment", "annex_iii_point": "4a"}


def outcome(role: str = "provider", **overrides) -> rules.Outcome:
    clean = rules.validate_answers(answers(role=role, **overrides), role=role)
    return rules.classify(clean, role=role)


def checklist(role: str = "provider", **overrides) -> dict[str, tuple[str, date]]:
    """code -> (article, applies from) for the answers, as the checklist lists them."""
    found = outcome(role, **overrides)
    profile = rules.Profile(
        category=found.category,
        high_risk_basis=found.high_risk_basis,
        annex_iii_area=found.annex_iii_area,
        role=found.role,
        flags=found.flags,
    )
    return {o.code: (o.article, when.applies_from) for o, when in rules.obligations_for(profile)}


def case(id_: str, role: str, overrides: dict, code: str, article: str, when: date):
    return pytest.param(role, overrides, code, article, when, id=id_)


PROVIDER_HIGH_RISK = [
    case(f"{article} provider of Annex III 4(a)", "provider", EMPLOYMENT, code, article, ANNEX_III)
    for code, article, _, _ in rules._PROVIDER_HIGH_RISK
] + [
    case(
        f"Art. 17(1)({item}) QMS item, provider of Annex III 4(a)",
        "provider",
        EMPLOYMENT,
        f"art_17_1_{item}",
        f"Art. 17(1)({item})",
        ANNEX_III,
    )
    for item, _, _ in rules.QMS_ITEMS
]

PROHIBITIONS = [
    case(
        f"{practice.article} {code}",
        "provider",
        {"prohibited_practices": [code]},
        f"art_5_{code}",
        practice.article,
        DEC_2026 if practice.date_key == "prohibitions_2026" else FEB_2025,
    )
    for code, practice in rules.PROHIBITED_PRACTICES.items()
]

BIOMETRIC = {"annex_iii_area": "biometrics"}
CONFORMITY = [
    case(
        "Art. 43(1) Annex VII point 1(a) standards not applied in full",
        "provider",
        {**BIOMETRIC, "annex_iii_point": "1a", "harmonised_standards_in_full": False},
        "art_43",
        "Art. 43(1), Annex VII",
        ANNEX_III,
    ),
    case(
        "Art. 43(1) Annex VII point 1(c) standards in full, provider chose a notified body",
        "provider",
        {
            **BIOMETRIC,
            "annex_iii_point": "1c",
            "harmonised_standards_in_full": True,
            "conformity_procedure": "notified_body",
        },
        "art_43",
        "Art. 43(1), Annex VII",
        ANNEX_III,
    ),
    case(
        "Art. 43(1) Annex VI point 1(b) standards in full, provider chose internal control",
        "provider",
        {
            **BIOMETRIC,
            "annex_iii_point": "1b",
            "harmonised_standards_in_full": True,
            "conformity_procedure": "internal_control",
        },
        "art_43",
        "Art. 43(1), Annex VI",
        ANNEX_III,
    ),
    *(
        case(
            f"Art. 43(2) Annex VI internal control point {point}",
            "provider",
            {"annex_iii_area": rules.ANNEX_III_POINTS[point].area, "annex_iii_point": point},
            "art_43",
            "Art. 43(2), Annex VI",
            ANNEX_III,
        )
        for point in ("2", "3b", "4b", "5c", "6e", "7b", "8a")
    ),
    case(
        "Art. 43(3) Annex I product procedure",
        "provider",
        {"annex_i_safety_component": True},
        "art_43",
        "Art. 43(3)",
        ANNEX_I,
    ),
    case(
        "Art. 43(3) Annex I and Annex III 5(b) both, Annex III date",
        "provider",
        {"annex_i_safety_component": True, "annex_iii_area": "essential_services"},
        "art_43",
        "Art. 43(3)",
        ANNEX_III,
    ),
]

REGISTRATION = [
    case(
        "Art. 49(1) EU database point 4(a)",
        "provider",
        EMPLOYMENT,
        "art_49",
        "Art. 49(1), Annex VIII Section A",
        ANNEX_III,
    ),
    case(
        "Art. 49(1) EU database point 1(a) outside law enforcement",
        "provider",
        {**BIOMETRIC, "annex_iii_point": "1a"},
        "art_49",
        "Art. 49(1), Annex VIII Section A",
        ANNEX_III,
    ),
    case(
        "Art. 49(4) non-public section point 1(a) in law enforcement",
        "provider",
        {**BIOMETRIC, "annex_iii_point": "1a", "biometrics_law_enforcement_or_migration": True},
        "art_49",
        "Art. 49(4), Annex VIII Section A",
        ANNEX_III,
    ),
    case(
        "Art. 49(4) non-public section point 6(d)",
        "provider",
        {"annex_iii_area": "law_enforcement", "annex_iii_point": "6d"},
        "art_49",
        "Art. 49(4), Annex VIII Section A",
        ANNEX_III,
    ),
    case(
        "Art. 49(4) non-public section point 7(c)",
        "provider",
        {"annex_iii_area": "migration", "annex_iii_point": "7c"},
        "art_49",
        "Art. 49(4), Annex VIII Section A",
        ANNEX_III,
    ),
    case(
        "Art. 49(5) national registration point 2",
        "provider",
        {"annex_iii_area": "critical_infrastructure"},
        "art_49",
        "Art. 49(5)",
        ANNEX_III,
    ),
    case(
        "Art. 49(2) exempted Art. 6(3) provider still registers",
        "provider",
        {**EMPLOYMENT, "art_6_3_exemption": "preparatory_task"},
        "art_49_2",
        "Art. 49(2), Annex VIII Section B",
        ANNEX_III,
    ),
    case(
        "Art. 6(4) exempted provider documents its assessment",
        "provider",
        {**EMPLOYMENT, "art_6_3_exemption": "narrow_procedural_task"},
        "art_6_4",
        "Art. 6(4)",
        ANNEX_III,
    ),
    case(
        "Art. 49(1) Annex I and Annex III both: Annex III registration",
        "provider",
        {"annex_i_safety_component": True, **EMPLOYMENT},
        "art_49",
        "Art. 49(1), Annex VIII Section A",
        ANNEX_III,
    ),
]

DEPLOYER = {"annex_iii_area": "essential_services", "annex_iii_point": "5b"}
DEPLOYER_DUTIES = [
    *(
        case(
            f"{article} deployer of Annex III 4(a)",
            "deployer",
            EMPLOYMENT,
            code,
            article,
            ANNEX_III,
        )
        for code, article in (
            ("art_26_1", "Art. 26(1)"),
            ("art_26_2", "Art. 26(2)"),
            ("art_26_4", "Art. 26(4)"),
            ("art_26_5", "Art. 26(5)"),
            ("art_26_6", "Art. 26(6)"),
            ("art_26_11", "Art. 26(11)"),
        )
    ),
    case(
        "Art. 26(7) deployer using the system at the workplace",
        "deployer",
        {**EMPLOYMENT, "workplace_use": True},
        "art_26_7",
        "Art. 26(7)",
        ANNEX_III,
    ),
    case(
        "Art. 26(8) Art. 49(3) public-authority deployer registers its use",
        "deployer",
        {**EMPLOYMENT, "public_authority_deployer": True},
        "art_26_8",
        "Art. 26(8), Art. 49(3), Annex VIII Section C",
        ANNEX_III,
    ),
    case(
        "Art. 26(1) deployer of an Annex I system, Annex I date",
        "deployer",
        {"annex_i_safety_component": True},
        "art_26_1",
        "Art. 26(1)",
        ANNEX_I,
    ),
    case(
        "Art. 27(1) FRIA any deployer of point 5(b)",
        "deployer",
        DEPLOYER,
        "art_27",
        "Art. 27(1)",
        ANNEX_III,
    ),
    case(
        "Art. 27(1) FRIA any deployer of point 5(c)",
        "deployer",
        {"annex_iii_area": "essential_services", "annex_iii_point": "5c"},
        "art_27",
        "Art. 27(1)",
        ANNEX_III,
    ),
    case(
        "Art. 27(1) FRIA public-service deployer of point 4(a)",
        "deployer",
        {**EMPLOYMENT, "public_service_deployer": True},
        "art_27",
        "Art. 27(1)",
        ANNEX_III,
    ),
    case(
        "Art. 27(3) FRIA results notified to the market surveillance authority",
        "deployer",
        DEPLOYER,
        "art_27_3",
        "Art. 27(3)",
        ANNEX_III,
    ),
]

OPERATORS = [
    *(
        case(
            f"{article} {role}",
            "deployer",
            {**EMPLOYMENT, "operator_role": role},
            code,
            article,
            ANNEX_III,
        )
        for role, items in rules._OTHER_OPERATORS
        for code, article, _ in items
    ),
]

TRANSITIONS = [
    case(
        "Art. 50(1) provider",
        "provider",
        {"interacts_with_persons": True},
        "art_50_1",
        "Art. 50(1)",
        AUG_2026,
    ),
    case(
        "Art. 50(2) generative system placed before 2 Aug 2026: from 2 Dec 2026",
        "provider",
        {"generates_synthetic_content": True, "placed_on_market_on": "2026-05-04"},
        "art_50_2",
        "Art. 50(2)",
        DEC_2026,
    ),
    case(
        "Art. 50(2) generative system placed after 2 Aug 2026: from 2 Aug 2026",
        "provider",
        {"generates_synthetic_content": True, "placed_on_market_on": "2026-09-01"},
        "art_50_2",
        "Art. 50(2)",
        AUG_2026,
    ),
    case(
        "Art. 50(2) generative system not yet placed: from 2 Aug 2026",
        "provider",
        {"generates_synthetic_content": True},
        "art_50_2",
        "Art. 50(2)",
        AUG_2026,
    ),
    case(
        "Art. 50(3) deployer",
        "deployer",
        {"emotion_recognition_or_biometric_categorisation": True},
        "art_50_3",
        "Art. 50(3)",
        AUG_2026,
    ),
    case(
        "Art. 50(4) deployer",
        "deployer",
        {"deep_fake_or_public_interest_text": True},
        "art_50_4",
        "Art. 50(4)",
        AUG_2026,
    ),
    *(
        case(
            f"Art. 53(1)({point}) GPAI model",
            "provider",
            {"general_purpose_ai_model": True},
            f"art_53_1_{point}",
            f"Art. 53(1)({point})",
            AUG_2025,
        )
        for point in "abcd"
    ),
    *(
        case(
            f"Art. 55(1)({point}) GPAI model with systemic risk",
            "provider",
            {"general_purpose_ai_model": True, "systemic_risk": True},
            f"art_55_1_{point}",
            f"Art. 55(1)({point})",
            AUG_2025,
        )
        for point in "abcd"
    ),
    case(
        "Art. 52(1) notification of a GPAI model with systemic risk",
        "provider",
        {"general_purpose_ai_model": True, "systemic_risk": True},
        "art_52_1",
        "Art. 52(1)",
        AUG_2025,
    ),
    case(
        "Art. 111(3) GPAI model placed before 2 Aug 2025: by 2 Aug 2027",
        "provider",
        {"general_purpose_ai_model": True, "placed_on_market_on": "2025-03-01"},
        "art_53_1_a",
        "Art. 53(1)(a)",
        AUG_2027,
    ),
    case(
        "Art. 111(2) high-risk system placed before 2 Aug 2026, unchanged",
        "provider",
        {**EMPLOYMENT, "placed_on_market_on": "2025-11-20"},
        "art_111_2",
        "Art. 111(2)",
        AUG_2026,
    ),
    case(
        "Art. 111(2) second sentence: public-authority system by 2 Aug 2030",
        "provider",
        {
            **EMPLOYMENT,
            "placed_on_market_on": "2025-11-20",
            "intended_for_public_authorities": True,
        },
        "art_9",
        "Art. 9",
        AUG_2030,
    ),
    case(
        "Art. 111(2) significantly changed since: Annex III date",
        "provider",
        {**EMPLOYMENT, "placed_on_market_on": "2025-11-20", "significant_change_since": True},
        "art_9",
        "Art. 9",
        ANNEX_III,
    ),
    case(
        "Art. 25(1)(a) deployer's own name on the system: provider duties",
        "deployer",
        {**EMPLOYMENT, "art_25_trigger": "own_name_or_trademark"},
        "art_9",
        "Art. 9",
        ANNEX_III,
    ),
    case(
        "Art. 25(1)(b) importer's substantial modification: provider duties",
        "deployer",
        {**EMPLOYMENT, "operator_role": "importer", "art_25_trigger": "substantial_modification"},
        "art_43",
        "Art. 43(2), Annex VI",
        ANNEX_III,
    ),
    case(
        "Art. 25(1)(c) distributor changes the intended purpose: provider duties",
        "deployer",
        {
            **EMPLOYMENT,
            "operator_role": "distributor",
            "art_25_trigger": "changed_intended_purpose",
        },
        "art_49",
        "Art. 49(1), Annex VIII Section A",
        ANNEX_III,
    ),
    case(
        "Art. 25(3) product manufacturer of an Annex I product: provider duties",
        "provider",
        {"annex_i_safety_component": True, "operator_role": "product_manufacturer"},
        "art_43",
        "Art. 43(3)",
        ANNEX_I,
    ),
    case("Art. 4 AI literacy, deployer", "deployer", {}, "art_4", "Art. 4", FEB_2025),
]

BIOMETRIC_1A = {"annex_iii_area": "biometrics", "annex_iii_point": "1a"}
REMOTE_BIOMETRIC_IDENTIFICATION = [
    case(
        "Art. 12(3)(a)-(d) log of each use, Annex III 1(a) provider",
        "provider",
        BIOMETRIC_1A,
        "art_12_3",
        "Art. 12(3)(a)-(d)",
        ANNEX_III,
    ),
    case(
        "Art. 12(3)(a)-(d) log of each use, Annex III 1(a) deployer",
        "deployer",
        BIOMETRIC_1A,
        "art_12_3",
        "Art. 12(3)(a)-(d)",
        ANNEX_III,
    ),
    case(
        "Art. 14(5) two-person verification, Annex III 1(a) deployer",
        "deployer",
        BIOMETRIC_1A,
        "art_14_5",
        "Art. 14(5)",
        ANNEX_III,
    ),
]

ALL_CASES = (
    PROVIDER_HIGH_RISK
    + REMOTE_BIOMETRIC_IDENTIFICATION
    + PROHIBITIONS
    + CONFORMITY
    + REGISTRATION
    + DEPLOYER_DUTIES
    + OPERATORS
    + TRANSITIONS
)


@pytest.mark.parametrize(("role", "overrides", "code", "article", "when"), ALL_CASES)
def test_each_rule_applies_with_its_article_and_date(role, overrides, code, article, when):
    assert checklist(role, **overrides)[code] == (article, when)


def test_every_obligation_rule_is_exercised_by_a_case():
    covered = {(p.values[2], p.values[3]) for p in ALL_CASES}
    declared = {(r.code, r.article) for r in rules.OBLIGATION_RULES}
    assert declared - covered == set()


# --- What must NOT apply ---------------------------------------------------------------

ABSENT = [
    pytest.param(
        "deployer",
        {"annex_iii_area": "essential_services", "annex_iii_point": "5a"},
        "art_27",
        id="Art. 27(1) no FRIA for a private deployer of point 5(a)",
    ),
    pytest.param(
        "deployer",
        {"annex_iii_area": "essential_services", "annex_iii_point": "5d"},
        "art_27",
        id="Art. 27(1) no FRIA for a private deployer of point 5(d)",
    ),
    pytest.param(
        "deployer",
        {**EMPLOYMENT},
        "art_27",
        id="Art. 27(1) no FRIA for a private deployer of point 4(a)",
    ),
    pytest.param(
        "deployer",
        {"annex_iii_area": "critical_infrastructure", "public_service_deployer": True},
        "art_27",
        id="Art. 27(1) no FRIA for point 2 even for public bodies",
    ),
    pytest.param(
        "deployer",
        {"annex_iii_area": "critical_infrastructure", "public_authority_deployer": True},
        "art_26_8",
        id="Art. 49(3) no use registration for point 2",
    ),
    pytest.param(
        "provider",
        {"annex_i_safety_component": True},
        "art_49",
        id="Art. 49 Annex I only: sectoral registration, not the EU database",
    ),
    pytest.param(
        "deployer",
        {**EMPLOYMENT},
        "art_9",
        id="Art. 16 a deployer without an Art. 25 trigger has no provider duties",
    ),
    pytest.param(
        "deployer",
        {**EMPLOYMENT, "art_25_trigger": "own_name_or_trademark"},
        "art_26_1",
        id="Art. 25(1)(a) the reclassified provider has no Art. 26 duty",
    ),
    pytest.param(
        "provider",
        {**EMPLOYMENT, "placed_on_market_on": "2025-11-20"},
        "art_9",
        id="Art. 111(2) unchanged legacy system: no high-risk duty yet",
    ),
    pytest.param(
        "deployer",
        {**EMPLOYMENT, "operator_role": "importer"},
        "art_4",
        id="Art. 4 binds providers and deployers, not importers",
    ),
    pytest.param(
        "deployer",
        {**EMPLOYMENT, "operator_role": "distributor"},
        "art_26_1",
        id="Art. 24 a distributor has no deployer duties",
    ),
]


@pytest.mark.parametrize(("role", "overrides", "code"), ABSENT)
def test_rule_does_not_apply(role, overrides, code):
    assert code not in checklist(role, **overrides)


# --- Annex III point by point ----------------------------------------------------------


@pytest.mark.parametrize(
    "point",
    [pytest.param(p, id=p.citation) for p in rules.ANNEX_III_POINTS.values()],
)
def test_each_annex_iii_point_and_exclusion(point):
    found = outcome(annex_iii_area=point.area, annex_iii_point=point.code)
    assert point.citation in found.citations
    if point.excluded:
        assert (found.category, found.high_risk_basis) == ("minimal_risk", "")
        assert checklist(annex_iii_area=point.area, annex_iii_point=point.code) == {
            "art_4": ("Art. 4", FEB_2025)
        }
    else:
        assert (found.category, found.high_risk_basis) == ("high_risk", "annex_iii")
        assert "Art. 6(2)" in found.citations


def test_annex_i_and_annex_iii_both_give_both_sets_of_duties():
    found = outcome(annex_i_safety_component=True, **EMPLOYMENT)
    assert found.high_risk_basis == "annex_i_and_iii"
    assert {"Art. 6(1)", "Art. 6(2)", "Annex III, point 4(a)"} <= set(found.citations)
    items = checklist(annex_i_safety_component=True, **EMPLOYMENT)
    assert items["art_43"] == ("Art. 43(3)", ANNEX_III)  # Annex I procedure
    assert items["art_49"][0].startswith("Art. 49(1)")  # Annex III registration


@pytest.mark.parametrize(
    "exemption", [pytest.param(e, id=rules.EXEMPTIONS[e][0]) for e in rules.EXEMPTIONS]
)
def test_profiling_is_always_high_risk_whatever_the_exemption(exemption):
    found = outcome(**EMPLOYMENT, profiling=True, art_6_3_exemption=exemption)
    assert (found.category, found.exemption) == ("high_risk", "")
    assert "Art. 6(3), last subparagraph" in found.citations


@pytest.mark.parametrize(
    "exemption", [pytest.param(e, id=rules.EXEMPTIONS[e][0]) for e in rules.EXEMPTIONS]
)
def test_each_art_6_3_exemption_takes_the_system_out_of_high_risk_but_not_registration(
    exemption,
):
    found = outcome(**EMPLOYMENT, art_6_3_exemption=exemption)
    assert (found.category, found.exemption) == ("minimal_risk", exemption)
    assert set(checklist(**EMPLOYMENT, art_6_3_exemption=exemption)) == {
        "art_4",
        "art_6_4",
        "art_49_2",
    }


def test_a_prohibited_practice_decides_the_category_over_a_high_risk_use():
    found = outcome(prohibited_practices=["social_scoring"], **EMPLOYMENT)
    assert found.category == "prohibited"
    assert set(checklist(prohibited_practices=["social_scoring"], **EMPLOYMENT)) == {
        "art_4",
        "art_5_social_scoring",
    }


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(
            "non_consensual_intimate_imagery", id="Art. 5(1) 2026 point, intimate imagery"
        ),
        pytest.param("child_sexual_abuse_material", id="Art. 5(1) 2026 point, CSAM"),
    ],
)
def test_the_2026_prohibitions_are_points_of_art_5_1_from_2_december_2026(code):
    """Cited as what is confirmed (a point of Art. 5(1), 2 Dec 2026), never with a letter
    or an article we could not check against the Official Journal (docs/compliance.md
    says which letters secondary sources give and where to check)."""
    practice = rules.PROHIBITED_PRACTICES[code]
    assert practice.article == rules.ART_5_2026
    assert not practice.article.startswith("Art. 5(1)(")
    when = rules.DATES[practice.date_key]
    assert when.applies_from == DEC_2026
    assert "Art. " not in when.legal_source.split(":")[0]
    page = (Path(settings.BASE_DIR) / "docs" / "compliance.md").read_text(encoding="utf-8")
    not_confirmed = page[page.index("## Not confirmed") :]
    assert "points (ba)" in not_confirmed and "eur-lex.europa.eu" in not_confirmed


# --- Through the API -------------------------------------------------------------------


def test_checklist_shows_article_date_source_and_status(call, make_system):
    system = make_system(**EMPLOYMENT)
    checklist_json = call("get", "system-obligations", status=200, pk=system["id"])
    by_code = {o["code"]: o for o in checklist_json["obligations"]}
    assert by_code["art_43"]["article"] == "Art. 43(2), Annex VI"
    assert by_code["art_17_1_m"]["applies_from"] == "2027-12-02"
    for item in checklist_json["obligations"]:
        assert item["legal_source"].startswith("Art. 113")
        assert item["status"] in {"missing", "upcoming", "evidenced"}


def test_prohibited_practice_status_is_prohibited(call, make_system):
    system = make_system(prohibited_practices=["child_sexual_abuse_material"])
    checklist_json = call("get", "system-obligations", status=200, pk=system["id"])
    item = next(
        o for o in checklist_json["obligations"] if o["code"] == "art_5_child_sexual_abuse_material"
    )
    assert (item["status"], item["applies_from"]) == ("prohibited", "2026-12-02")


def test_art_25_reclassification_is_recorded_with_the_classification(call, make_system):
    make_system(role="deployer", **EMPLOYMENT, art_25_trigger="substantial_modification")
    classification = call("get", "classification-list", status=200)["results"][0]
    assert classification["role"] == "provider"
    assert classification["result"]["operator_role"] == "deployer"
    assert classification["result"]["reclassified_as_provider"] is True
    assert "Art. 25(1)(b)" in classification["citations"]


CONFLICTS = [
    pytest.param(
        "deployer",
        {"operator_role": "provider"},
        "operator_role",
        "registered as deployer",
        id="Art. 3(4) Art. 16 a deployer claiming provider duties",
    ),
    pytest.param(
        "provider",
        {"operator_role": "importer"},
        "operator_role",
        "registered as provider",
        id="Art. 3(6) a provider answering as importer",
    ),
    pytest.param(
        "provider",
        {"annex_iii_area": "employment", "annex_iii_point": "3a"},
        "annex_iii_point",
        "belongs to area 'education'",
        id="Annex III point 3(a) answered for area point 4",
    ),
    pytest.param(
        "provider",
        {"operator_role": "product_manufacturer"},
        "operator_role",
        "Art. 25(3)",
        id="Art. 25(3) product manufacturer without an Annex I product",
    ),
    pytest.param(
        "deployer",
        {"art_25_trigger": "own_name_or_trademark"},
        "art_25_trigger",
        "Art. 25(1)(a) concerns a high-risk system",
        id="Art. 25(1)(a) trigger on a system that is not high-risk",
    ),
]


@pytest.mark.parametrize(("role", "overrides", "field", "words"), CONFLICTS)
def test_contradicting_answers_are_refused_naming_the_conflict(
    call, make_system, role, overrides, field, words
):
    system = make_system(role=role, classify=False)
    error = call(
        "post",
        "classification-list",
        {"system_id": system["id"], "answers": answers(role=role, **overrides)},
        status=400,
    )["error"]
    assert error["message"].startswith("The answers contradict each other: Conflict:")
    assert words in error["message"]
    assert list(error["fields"]) == [f"answers.{field}"]


def test_a_provider_only_question_is_not_asked_of_a_deployer(call, make_system):
    system = make_system(role="deployer", classify=False)
    bad = answers(role="deployer", annex_iii_area="biometrics")
    bad["harmonised_standards_in_full"] = True
    error = call(
        "post", "classification-list", {"system_id": system["id"], "answers": bad}, status=400
    )["error"]
    assert error["fields"]["answers.harmonised_standards_in_full"] == [
        "Not asked here (asked of providers of Annex III point 1 systems)."
    ]
