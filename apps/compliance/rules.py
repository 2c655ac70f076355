"""The Act as data: the classification questionnaire, how answers map to a category,
which obligations follow from category and operator role, and the dates they apply from.

Regulation (EU) 2024/1689 as amended by the 2026 Digital Omnibus on AI. Every rule
carries its legal source (article, paragraph, point) and the date it applies from;
``docs/compliance.md`` lists them, generated from this module (``rules_markdown``).
Where the Regulation leaves a choice (the Art. 43(1) procedure, whether a biometric
system serves law enforcement), the questionnaire asks instead of guessing.

Pure functions, no Django: the rules are tested table by table (tests/compliance).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# --- Application dates (Art. 113, Art. 111, Art. 50(2), as amended in 2026) -------------


@dataclass(frozen=True)
class ApplicationDate:
    key: str
    applies_from: date
    legal_source: str


OMNIBUS = "as amended in 2026 (Digital Omnibus on AI)"
GENERAL_APPLICATION = date(2026, 8, 2)
GPAI_APPLICATION = date(2025, 8, 2)

DATES = {
    d.key: d
    for d in (
        ApplicationDate(
            "prohibitions", date(2025, 2, 2), "Art. 113(a): Chapters I and II (Art. 4, Art. 5)"
        ),
        ApplicationDate(
            "ai_literacy", date(2025, 2, 2), "Art. 113(a): Chapters I and II (Art. 4, Art. 5)"
        ),
        ApplicationDate(
            "general_purpose_ai", GPAI_APPLICATION, "Art. 113(b): Chapter V (general-purpose AI)"
        ),
        ApplicationDate(
            "general", GENERAL_APPLICATION, "Art. 113, second paragraph (general application)"
        ),
        ApplicationDate(
            "transparency", GENERAL_APPLICATION, "Art. 113, second paragraph (Art. 50)"
        ),
        ApplicationDate(
            "prohibitions_2026",
            date(2026, 12, 2),
            # The date is confirmed; the provision of the amending act that sets it is not
            # (docs/compliance.md, "Not confirmed"), so none is cited.
            "Digital Omnibus on AI (2026): the date from which its Art. 5(1) prohibitions "
            "of non-consensual intimate imagery and child sexual abuse material apply",
        ),
        ApplicationDate(
            "transparency_legacy",
            date(2026, 12, 2),
            f"Art. 50(2) transition {OMNIBUS}: generative systems placed on the market "
            "before 2 Aug 2026",
        ),
        ApplicationDate(
            "annex_iii_high_risk",
            date(2027, 12, 2),
            f"Art. 113 {OMNIBUS}: Annex III high-risk systems",
        ),
        ApplicationDate(
            "general_purpose_ai_legacy",
            date(2027, 8, 2),
            "Art. 111(3): general-purpose AI models placed on the market before 2 Aug 2025",
        ),
        ApplicationDate(
            "annex_i_high_risk",
            date(2028, 8, 2),
            f"Art. 113 {OMNIBUS}: Art. 6(1), Annex I high-risk systems",
        ),
        ApplicationDate(
            "public_authority_legacy",
            date(2030, 8, 2),
            "Art. 111(2), second sentence: high-risk systems intended for public "
            "authorities, placed on the market or put into service before 2 Aug 2026",
        ),
    )
}

# --- The questionnaire's vocabulary -------------------------------------------------------

# The 2026 prohibitions are points added to Art. 5(1). Secondary sources published after
# the Omnibus's adoption give them as points (ba) (intimate imagery) and (bb) (child
# sexual abuse material); we could not check that against the Official Journal, so no
# letter is printed: a wrong point in a generated document is worse than none. What was
# found, and where to check, is in docs/compliance.md ("Not confirmed").
ART_5_2026 = "Art. 5(1), point added in 2026 (Digital Omnibus on AI)"


@dataclass(frozen=True)
class Practice:
    code: str
    article: str
    text: str
    date_key: str


PROHIBITED_PRACTICES: dict[str, Practice] = {
    p.code: p
    for p in (
        Practice(
            "subliminal_manipulation",
            "Art. 5(1)(a)",
            "subliminal, manipulative or deceptive techniques",
            "prohibitions",
        ),
        Practice(
            "exploiting_vulnerabilities",
            "Art. 5(1)(b)",
            "exploiting vulnerabilities of age, disability or social or economic situation",
            "prohibitions",
        ),
        Practice("social_scoring", "Art. 5(1)(c)", "social scoring", "prohibitions"),
        Practice(
            "crime_risk_profiling",
            "Art. 5(1)(d)",
            "predicting criminal offences from profiling alone",
            "prohibitions",
        ),
        Practice(
            "untargeted_facial_scraping",
            "Art. 5(1)(e)",
            "untargeted scraping of facial images",
            "prohibitions",
        ),
        Practice(
            "emotion_recognition_work_education",
            "Art. 5(1)(f)",
            "emotion recognition in the workplace or education",
            "prohibitions",
        ),
        Practice(
            "biometric_categorisation_sensitive",
            "Art. 5(1)(g)",
            "biometric categorisation inferring sensitive characteristics",
            "prohibitions",
        ),
        Practice(
            "realtime_remote_biometric_identification",
            "Art. 5(1)(h)",
            "real-time remote biometric identification in public spaces for law enforcement",
            "prohibitions",
        ),
        Practice(
            "non_consensual_intimate_imagery",
            ART_5_2026,
            "generating non-consensual intimate imagery of identifiable persons",
            "prohibitions_2026",
        ),
        Practice(
            "child_sexual_abuse_material",
            ART_5_2026,
            "generating child sexual abuse material",
            "prohibitions_2026",
        ),
    )
}

ANNEX_III_AREAS: dict[str, tuple[str, str]] = {
    "biometrics": ("Annex III, point 1", "biometrics"),
    "critical_infrastructure": ("Annex III, point 2", "critical infrastructure"),
    "education": ("Annex III, point 3", "education and vocational training"),
    "employment": ("Annex III, point 4", "employment, workers management, self-employment"),
    "essential_services": (
        "Annex III, point 5",
        "access to essential private and public services and benefits",
    ),
    "law_enforcement": ("Annex III, point 6", "law enforcement"),
    "migration": ("Annex III, point 7", "migration, asylum and border control management"),
    "justice_democracy": (
        "Annex III, point 8",
        "administration of justice and democratic processes",
    ),
}


@dataclass(frozen=True)
class AnnexIIIPoint:
    """One sub-point of Annex III, or a use its text excludes (``excluded``: not
    high-risk under that point, with the words of the exclusion as the source)."""

    code: str
    area: str
    citation: str
    text: str
    excluded: bool = False


ANNEX_III_POINTS: dict[str, AnnexIIIPoint] = {
    p.code: p
    for p in (
        AnnexIIIPoint(
            "1a", "biometrics", "Annex III, point 1(a)", "remote biometric identification"
        ),
        AnnexIIIPoint(
            "1a_verification_only",
            "biometrics",
            "Annex III, point 1(a), exclusion",
            "biometric verification whose sole purpose is to confirm that a person is who "
            "they claim to be (1:1): not point 1(a)",
            excluded=True,
        ),
        AnnexIIIPoint(
            "1b",
            "biometrics",
            "Annex III, point 1(b)",
            "biometric categorisation according to sensitive or protected attributes",
        ),
        AnnexIIIPoint("1c", "biometrics", "Annex III, point 1(c)", "emotion recognition"),
        AnnexIIIPoint(
            "2",
            "critical_infrastructure",
            "Annex III, point 2",
            "safety component in the management and operation of critical digital "
            "infrastructure, road traffic, or the supply of water, gas, heating or electricity",
        ),
        AnnexIIIPoint(
            "3a", "education", "Annex III, point 3(a)", "determining access or admission"
        ),
        AnnexIIIPoint("3b", "education", "Annex III, point 3(b)", "evaluating learning outcomes"),
        AnnexIIIPoint(
            "3c",
            "education",
            "Annex III, point 3(c)",
            "assessing the appropriate level of education a person will receive",
        ),
        AnnexIIIPoint(
            "3d",
            "education",
            "Annex III, point 3(d)",
            "monitoring and detecting prohibited behaviour of students during tests",
        ),
        AnnexIIIPoint(
            "4a",
            "employment",
            "Annex III, point 4(a)",
            "recruitment or selection (targeted job ads, filtering applications, "
            "evaluating candidates)",
        ),
        AnnexIIIPoint(
            "4b",
            "employment",
            "Annex III, point 4(b)",
            "decisions on terms of work relationships, promotion, termination, task "
            "allocation, monitoring and evaluating performance and behaviour",
        ),
        AnnexIIIPoint(
            "5a",
            "essential_services",
            "Annex III, point 5(a)",
            "public authorities evaluating eligibility for essential public assistance "
            "benefits and services",
        ),
        AnnexIIIPoint(
            "5b",
            "essential_services",
            "Annex III, point 5(b)",
            "evaluating creditworthiness or establishing a credit score",
        ),
        AnnexIIIPoint(
            "5b_fraud_detection",
            "essential_services",
            "Annex III, point 5(b), exclusion",
            "detecting financial fraud: excluded from point 5(b)",
            excluded=True,
        ),
        AnnexIIIPoint(
            "5c",
            "essential_services",
            "Annex III, point 5(c)",
            "risk assessment and pricing in life and health insurance",
        ),
        AnnexIIIPoint(
            "5d",
            "essential_services",
            "Annex III, point 5(d)",
            "evaluating and classifying emergency calls, dispatching emergency first "
            "response services, emergency healthcare patient triage",
        ),
        AnnexIIIPoint(
            "6a",
            "law_enforcement",
            "Annex III, point 6(a)",
            "assessing the risk of a person becoming the victim of criminal offences",
        ),
        AnnexIIIPoint(
            "6b", "law_enforcement", "Annex III, point 6(b)", "polygraphs and similar tools"
        ),
        AnnexIIIPoint(
            "6c",
            "law_enforcement",
            "Annex III, point 6(c)",
            "evaluating the reliability of evidence",
        ),
        AnnexIIIPoint(
            "6d",
            "law_enforcement",
            "Annex III, point 6(d)",
            "assessing the risk of offending or re-offending not solely on profiling",
        ),
        AnnexIIIPoint(
            "6e",
            "law_enforcement",
            "Annex III, point 6(e)",
            "profiling in the detection, investigation or prosecution of criminal offences",
        ),
        AnnexIIIPoint("7a", "migration", "Annex III, point 7(a)", "polygraphs and similar tools"),
        AnnexIIIPoint(
            "7b",
            "migration",
            "Annex III, point 7(b)",
            "assessing a security, irregular-migration or health risk posed by a person",
        ),
        AnnexIIIPoint(
            "7c",
            "migration",
            "Annex III, point 7(c)",
            "examining applications for asylum, visa or residence permits and complaints",
        ),
        AnnexIIIPoint(
            "7d",
            "migration",
            "Annex III, point 7(d)",
            "detecting, recognising or identifying persons in migration, asylum or border control",
        ),
        AnnexIIIPoint(
            "7d_travel_document_verification",
            "migration",
            "Annex III, point 7(d), exclusion",
            "verification of travel documents: excluded from point 7(d)",
            excluded=True,
        ),
        AnnexIIIPoint(
            "8a",
            "justice_democracy",
            "Annex III, point 8(a)",
            "assisting a judicial authority in researching and interpreting facts and the "
            "law, or in alternative dispute resolution",
        ),
        AnnexIIIPoint(
            "8b",
            "justice_democracy",
            "Annex III, point 8(b)",
            "influencing the outcome of an election or referendum or voting behaviour",
        ),
        AnnexIIIPoint(
            "8b_campaign_logistics",
            "justice_democracy",
            "Annex III, point 8(b), exclusion",
            "tools organising, optimising or structuring political campaigns from an "
            "administrative or logistical point of view: excluded from point 8(b)",
            excluded=True,
        ),
    )
}

EXEMPTIONS: dict[str, tuple[str, str]] = {
    "narrow_procedural_task": ("Art. 6(3)(a)", "performs a narrow procedural task"),
    "improves_completed_human_activity": (
        "Art. 6(3)(b)",
        "improves the result of a previously completed human activity",
    ),
    "detects_decision_patterns": (
        "Art. 6(3)(c)",
        "detects decision-making patterns without replacing or influencing human assessment",
    ),
    "preparatory_task": ("Art. 6(3)(d)", "performs a preparatory task to an assessment"),
}

TRANSPARENCY_CASES: dict[str, tuple[str, str]] = {
    "interacts_with_persons": (
        "Art. 50(1)",
        "interacts directly with natural persons: they must be told",
    ),
    "generates_synthetic_content": (
        "Art. 50(2)",
        "generates synthetic audio, image, video or text: outputs marked machine-readable",
    ),
    "emotion_recognition_or_biometric_categorisation": (
        "Art. 50(3)",
        "emotion recognition or biometric categorisation: persons exposed must be told",
    ),
    "deep_fake_or_public_interest_text": (
        "Art. 50(4)",
        "deep fakes or text published on matters of public interest: disclosed as generated",
    ),
}

# The questionnaire's question for each case of Art. 50, as a reader asks it.
TRANSPARENCY_QUESTIONS = {
    "interacts_with_persons": "Does the system interact directly with natural persons?",
    "generates_synthetic_content": "Does the system generate synthetic audio, image, video or "
    "text content?",
    "emotion_recognition_or_biometric_categorisation": "Is the system an emotion recognition "
    "system or a biometric categorisation system?",
    "deep_fake_or_public_interest_text": "Does the system generate or manipulate image, audio "
    "or video content constituting a deep fake, or text published to inform the public on "
    "matters of public interest?",
}

# Operator roles (Art. 3(3)-(8)) and the registry role ("provider"/"deployer") each
# may be recorded with.
OPERATOR_ROLES: dict[str, tuple[str, str]] = {
    "provider": ("Art. 3(3)", "provider"),
    "product_manufacturer": ("Art. 25(3)", "product manufacturer (provider of the product)"),
    "deployer": ("Art. 3(4)", "deployer"),
    "importer": ("Art. 3(6)", "importer"),
    "distributor": ("Art. 3(7)", "distributor"),
    "authorised_representative": ("Art. 3(5)", "authorised representative"),
}
ROLES_BY_REGISTRY_ROLE = {
    "provider": ("provider", "product_manufacturer"),
    "deployer": ("deployer", "importer", "distributor", "authorised_representative"),
}
# Art. 25(1): a distributor, importer, deployer or other third party becomes a provider.
ART_25_TRIGGERS: dict[str, tuple[str, str]] = {
    "own_name_or_trademark": (
        "Art. 25(1)(a)",
        "puts its name or trademark on a high-risk system already placed on the market",
    ),
    "substantial_modification": (
        "Art. 25(1)(b)",
        "makes a substantial modification to a high-risk system that stays high-risk",
    ),
    "changed_intended_purpose": (
        "Art. 25(1)(c)",
        "changes the intended purpose of a system so that it becomes high-risk",
    ),
}
ART_25_ROLES = ("deployer", "importer", "distributor")
CONFORMITY_PROCEDURES = {
    "internal_control": "Annex VI",
    "notified_body": "Annex VII",
}
NOT_YET = "not_yet"

# --- The questionnaire ----------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    kind: str  # "bool", "choice", "choices", "date" (ISO date or "not_yet")
    options: tuple[str, ...] = ()
    # Asked only when this returns true for the answers so far (and the system's role).
    when: Callable[[Mapping[str, Any], str], bool] | None = None
    when_text: str = ""
    # Optional questions take the default when unanswered ("" meaning the registry role).
    required: bool = True


def operator_role_of(answers: Mapping[str, Any], role: str) -> str:
    """The operator role answered, or the registry role (provider or deployer)."""
    value = answers.get("operator_role")
    return value if isinstance(value, str) and value else role


def _area(answers: Mapping[str, Any]) -> str:
    value = answers.get("annex_iii_area", "none")
    return value if isinstance(value, str) and value in ANNEX_III_AREAS else ""


def _point(answers: Mapping[str, Any]) -> AnnexIIIPoint | None:
    value = answers.get("annex_iii_point")
    return ANNEX_III_POINTS.get(value) if isinstance(value, str) else None


def placed_on(answers: Mapping[str, Any]) -> date | None:
    """The placing-on-market / putting-into-service date answered, None if not yet."""
    value = answers.get("placed_on_market_on")
    if not isinstance(value, str) or value == NOT_YET:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _annex_iii(answers: Mapping[str, Any], role: str) -> bool:
    # An invalid area still asks its follow-ups, so that every problem is named at once.
    return answers.get("annex_iii_area", "none") not in ("none", None)


def _biometrics(answers: Mapping[str, Any], role: str) -> bool:
    return _area(answers) == "biometrics"


def _high_risk_candidate(answers: Mapping[str, Any], role: str) -> bool:
    return answers.get("annex_i_safety_component") is True or _annex_iii(answers, role)


def _may_become_provider(answers: Mapping[str, Any], role: str) -> bool:
    return operator_role_of(answers, role) in ART_25_ROLES


def _acts_as_provider(answers: Mapping[str, Any], role: str) -> bool:
    trigger = answers.get("art_25_trigger", "none")
    return operator_role_of(answers, role) in ROLES_BY_REGISTRY_ROLE["provider"] or (
        trigger in ART_25_TRIGGERS
    )


def _point_1_provider(answers: Mapping[str, Any], role: str) -> bool:
    point = _point(answers)
    return (
        _acts_as_provider(answers, role)
        and point is not None
        and point.code.startswith("1")
        and not point.excluded
        and answers.get("annex_i_safety_component") is not True
    )


def _standards_in_full(answers: Mapping[str, Any], role: str) -> bool:
    return _point_1_provider(answers, role) and answers.get("harmonised_standards_in_full") is True


def _deployer_annex_iii(answers: Mapping[str, Any], role: str) -> bool:
    return operator_role_of(answers, role) == "deployer" and _annex_iii(answers, role)


def _deployer_high_risk(answers: Mapping[str, Any], role: str) -> bool:
    return operator_role_of(answers, role) == "deployer" and _high_risk_candidate(answers, role)


def _gpai(answers: Mapping[str, Any], role: str) -> bool:
    return answers.get("general_purpose_ai_model") is True


def _needs_placing_date(answers: Mapping[str, Any], role: str) -> bool:
    generative = answers.get("generates_synthetic_content") is True
    return (
        (generative and _acts_as_provider(answers, role))
        or _gpai(answers, role)
        or _high_risk_candidate(answers, role)
    )


def _legacy_high_risk(answers: Mapping[str, Any], role: str) -> bool:
    placed = placed_on(answers)
    return (
        _high_risk_candidate(answers, role) and placed is not None and placed < GENERAL_APPLICATION
    )


def _legacy_unchanged(answers: Mapping[str, Any], role: str) -> bool:
    return _legacy_high_risk(answers, role) and answers.get("significant_change_since") is False


QUESTIONS: tuple[Question, ...] = (
    Question(
        "prohibited_practices",
        "Which of the practices of Art. 5 does the system engage in? (empty list: none)",
        "choices",
        tuple(PROHIBITED_PRACTICES),
    ),
    Question(
        "operator_role",
        "In which role does the organization act for this system (Art. 3(3)-(8))? "
        "Defaults to the system's registered role; a system registered as provider may be "
        "'provider' or 'product_manufacturer', one registered as deployer 'deployer', "
        "'importer', 'distributor' or 'authorised_representative'.",
        "choice",
        tuple(OPERATOR_ROLES),
        required=False,
    ),
    Question(
        "art_25_trigger",
        "Has the organization put its name or trademark on the high-risk system, "
        "substantially modified it, or changed its intended purpose so that it becomes "
        "high-risk? It is then a provider (Art. 25(1)). ('none' if not)",
        "choice",
        (*ART_25_TRIGGERS, "none"),
        when=_may_become_provider,
        when_text="asked of deployers, importers and distributors",
    ),
    Question(
        "annex_i_safety_component",
        "Is the system a product, or a safety component of a product, covered by the Union "
        "harmonisation legislation of Annex I that requires a third-party conformity "
        "assessment? (Art. 6(1))",
        "bool",
    ),
    Question(
        "annex_iii_area",
        "Is the system intended for use in one of the areas of Annex III? ('none' if not)",
        "choice",
        (*ANNEX_III_AREAS, "none"),
    ),
    Question(
        "annex_iii_point",
        "Which point of Annex III, within that area, describes the intended use? The "
        "options ending in an exclusion are uses the point's text leaves out.",
        "choice",
        tuple(ANNEX_III_POINTS),
        when=_annex_iii,
        when_text="asked when annex_iii_area is not 'none'",
    ),
    Question(
        "profiling",
        "Does the system perform profiling of natural persons (Art. 4(4) GDPR)?",
        "bool",
        when=_annex_iii,
        when_text="asked when annex_iii_area is not 'none'",
    ),
    Question(
        "art_6_3_exemption",
        "Does one of the Art. 6(3) conditions apply, the system posing no significant risk "
        "of harm? ('none' if not)",
        "choice",
        (*EXEMPTIONS, "none"),
        when=_annex_iii,
        when_text="asked when annex_iii_area is not 'none'",
    ),
    Question(
        "biometrics_law_enforcement_or_migration",
        "Is the biometric system used in the areas of law enforcement, migration, asylum "
        "or border control management? (its registration is then in the non-public "
        "section of the EU database, Art. 49(4))",
        "bool",
        when=_biometrics,
        when_text="asked when annex_iii_area is 'biometrics'",
    ),
    Question(
        "harmonised_standards_in_full",
        "Has the provider applied in full harmonised standards (Art. 40) or, where "
        "applicable, common specifications (Art. 41) covering the requirements of "
        "Chapter III, Section 2? (Art. 43(1))",
        "bool",
        when=_point_1_provider,
        when_text="asked of providers of Annex III point 1 systems",
    ),
    Question(
        "conformity_procedure",
        "Which conformity assessment procedure does the provider choose: internal control "
        "(Annex VI) or assessment involving a notified body (Annex VII)? The Regulation "
        "leaves the choice to the provider (Art. 43(1), first subparagraph).",
        "choice",
        tuple(CONFORMITY_PROCEDURES),
        when=_standards_in_full,
        when_text="asked when harmonised_standards_in_full is true",
    ),
    Question(
        "public_service_deployer",
        "Is the deployer a body governed by public law or a private entity providing public "
        "services? (Art. 27(1))",
        "bool",
        when=_deployer_annex_iii,
        when_text="asked of deployers when annex_iii_area is not 'none'",
    ),
    Question(
        "public_authority_deployer",
        "Is the deployer a public authority or a Union institution, body, office or agency, "
        "or acting on their behalf? (Art. 26(8), Art. 49(3))",
        "bool",
        when=_deployer_annex_iii,
        when_text="asked of deployers when annex_iii_area is not 'none'",
    ),
    Question(
        "workplace_use",
        "Does the deployer, as an employer, put the system into service or use it at the "
        "workplace? (Art. 26(7))",
        "bool",
        when=_deployer_high_risk,
        when_text="asked of deployers of an Annex I or Annex III system",
    ),
    *(
        Question(key, f"{TRANSPARENCY_QUESTIONS[key]} ({article})", "bool")
        for key, (article, _) in TRANSPARENCY_CASES.items()
    ),
    Question(
        "general_purpose_ai_model",
        "Is this a general-purpose AI model (Art. 3(63)) that the organization provides?",
        "bool",
    ),
    Question(
        "systemic_risk",
        "Does the general-purpose AI model have systemic risk (Art. 51)?",
        "bool",
        when=_gpai,
        when_text="asked when general_purpose_ai_model is true",
    ),
    Question(
        "placed_on_market_on",
        "When was the system (or model) first placed on the market or put into service? "
        "An ISO date, or 'not_yet'. (Art. 50(2) transition, Art. 111)",
        "date",
        when=_needs_placing_date,
        when_text="asked of generative systems' providers, general-purpose AI models and "
        "Annex I or Annex III systems",
    ),
    Question(
        "significant_change_since",
        "Has the system's design changed significantly since 2 Aug 2026? (Art. 111(2))",
        "bool",
        when=_legacy_high_risk,
        when_text="asked when an Annex I or Annex III system was placed on the market "
        "before 2 Aug 2026",
    ),
    Question(
        "intended_for_public_authorities",
        "Is the system intended to be used by public authorities? (Art. 111(2), second sentence)",
        "bool",
        when=_legacy_unchanged,
        when_text="asked when significant_change_since is false",
    ),
)
QUESTION_KEYS = {q.key for q in QUESTIONS}


class QuestionnaireError(ValueError):
    """Answers that cannot be classified: per question, what is wrong. ``conflicts``
    says which answers contradict each other (each problem names the conflict)."""

    def __init__(self, problems: dict[str, list[str]], *, conflicts: bool = False) -> None:
        super().__init__(", ".join(sorted(problems)))
        self.problems = problems
        self.conflicts = conflicts


def _problem(question: Question, value: Any) -> str | None:
    """What is wrong with one answer's value, or None."""
    if question.kind == "bool" and not isinstance(value, bool):
        return "Must be true or false."
    if question.kind == "choice" and value not in question.options:
        return f"Must be one of: {', '.join(question.options)}."
    if question.kind == "choices" and (
        not isinstance(value, list) or any(v not in question.options for v in value)
    ):
        return f"Must be a list drawn from: {', '.join(question.options)}."
    if question.kind == "date" and value != NOT_YET and not _iso_date(value):
        return f"Must be an ISO date (YYYY-MM-DD) or '{NOT_YET}'."
    return None


def _iso_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def validate_answers(answers: Any, *, role: str) -> dict[str, Any]:
    """The answers, checked: each question that applies answered with a valid value;
    no question that does not exist; no two answers that contradict each other.
    Raises QuestionnaireError naming every problem."""
    if not isinstance(answers, dict):
        raise QuestionnaireError({"answers": ["Must be an object keyed by question."]})
    problems: dict[str, list[str]] = {}
    for key in sorted(set(answers) - QUESTION_KEYS):
        problems[key] = ["Unknown question."]
    clean: dict[str, Any] = {}
    for question in QUESTIONS:
        if question.when is not None and not question.when(answers, role):
            if question.key in answers:
                problems[question.key] = [f"Not asked here ({question.when_text})."]
            continue
        if question.key not in answers or answers[question.key] is None:
            if question.required:
                problems[question.key] = ["Unanswered."]
            continue
        value = answers[question.key]
        problem = _problem(question, value)
        if problem:
            problems[question.key] = [problem]
        else:
            clean[question.key] = sorted(set(value)) if question.kind == "choices" else value
    if problems:
        raise QuestionnaireError(problems)
    conflicts = answer_conflicts(clean, role=role)
    if conflicts:
        raise QuestionnaireError(conflicts, conflicts=True)
    return clean


def answer_conflicts(answers: Mapping[str, Any], *, role: str) -> dict[str, list[str]]:
    """Answers that are each valid but contradict each other or the system's registered
    role, per question, each message naming the conflict."""
    conflicts: dict[str, list[str]] = {}
    operator_role = operator_role_of(answers, role)
    if operator_role not in ROLES_BY_REGISTRY_ROLE.get(role, ()):
        allowed = "', '".join(ROLES_BY_REGISTRY_ROLE.get(role, ()))
        conflicts["operator_role"] = [
            f"Conflict: the system is registered as {role}, so it cannot answer as "
            f"'{operator_role}' and take on that role's duties (allowed: '{allowed}'). "
            + (
                "A deployer, importer or distributor becomes a provider only through "
                "art_25_trigger (Art. 25(1))."
                if role == "deployer"
                else "Register the system as deployer for that role."
            )
        ]
    point = _point(answers)
    if point is not None and point.area != _area(answers):
        conflicts["annex_iii_point"] = [
            f"Conflict: point '{point.code}' ({point.citation}) belongs to area "
            f"'{point.area}', not to annex_iii_area '{answers.get('annex_iii_area')}'."
        ]
    if operator_role == "product_manufacturer" and not answers.get("annex_i_safety_component"):
        conflicts["operator_role"] = [
            "Conflict: a product manufacturer is a provider under Art. 25(3) only for a "
            "product covered by Annex I, but annex_i_safety_component is false."
        ]
    trigger = answers.get("art_25_trigger", "none")
    if trigger in ("own_name_or_trademark", "substantial_modification") and not _high_risk_use(
        answers
    ):
        conflicts["art_25_trigger"] = [
            f"Conflict: {ART_25_TRIGGERS[trigger][0]} concerns a high-risk system, but no "
            "Annex I product or Annex III use is answered."
        ]
    return conflicts


def _high_risk_use(answers: Mapping[str, Any]) -> bool:
    point = _point(answers)
    return bool(answers.get("annex_i_safety_component")) or (
        point is not None and not point.excluded
    )


# --- Classification -------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    category: str
    high_risk_basis: str  # "annex_i", "annex_iii", "annex_i_and_iii" or ""
    annex_iii_area: str
    exemption: str
    role: str  # the operator role the duties follow (a provider after Art. 25)
    flags: dict[str, Any]
    rationale: list[str]
    citations: list[str]


@dataclass
class _Finding:
    """What classification has established so far: the category, on what basis, and why."""

    category: str
    basis: str = ""
    exemption: str = ""
    rationale: list[str] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)


def classify(answers: Mapping[str, Any], *, role: str) -> Outcome:
    """The category that validated answers put the system in, with reasons: the risk
    tier first (Art. 5, Art. 6), the operator role the duties follow (Art. 25), then the
    duties that add to it (Art. 50, Art. 53)."""
    prohibited = list(answers["prohibited_practices"])
    area = answers["annex_iii_area"] if answers["annex_iii_area"] != "none" else ""
    transparency = [k for k in TRANSPARENCY_CASES if answers[k]]
    gpai = answers["general_purpose_ai_model"]
    systemic = bool(gpai and answers.get("systemic_risk"))

    finding = _risk_tier(answers, prohibited=prohibited, area=area)
    effective_role = _operator_role(finding, answers, role=role)
    _add_transparency(finding, transparency)
    _add_general_purpose_ai(finding, gpai=gpai, systemic=systemic)
    _add_transition(finding, answers)
    return Outcome(
        category=finding.category,
        high_risk_basis=finding.basis,
        annex_iii_area=area,
        exemption=finding.exemption,
        role=effective_role,
        flags=_flags(answers, finding, role=role, effective_role=effective_role),
        rationale=finding.rationale,
        citations=list(dict.fromkeys(finding.citations)),
    )


def _flags(
    answers: Mapping[str, Any], finding: _Finding, *, role: str, effective_role: str
) -> dict[str, Any]:
    """What the obligations are derived from, kept with the classification."""
    gpai = answers["general_purpose_ai_model"]
    placed = placed_on(answers)
    return {
        "prohibited_practices": list(answers["prohibited_practices"]),
        "annex_iii_point": answers.get("annex_iii_point") or "",
        "annex_iii_exempted": bool(finding.exemption),
        "transparency": [k for k in TRANSPARENCY_CASES if answers[k]],
        "general_purpose_ai_model": gpai,
        "systemic_risk": bool(gpai and answers.get("systemic_risk")),
        "operator_role": operator_role_of(answers, role),
        "reclassified_as_provider": effective_role == "provider"
        and operator_role_of(answers, role) != "provider",
        "art_25_trigger": answers.get("art_25_trigger") or "none",
        "public_service_deployer": bool(answers.get("public_service_deployer")),
        "public_authority_deployer": bool(answers.get("public_authority_deployer")),
        "workplace_use": bool(answers.get("workplace_use")),
        "biometrics_law_enforcement_or_migration": bool(
            answers.get("biometrics_law_enforcement_or_migration")
        ),
        "harmonised_standards_in_full": answers.get("harmonised_standards_in_full"),
        "conformity_procedure": answers.get("conformity_procedure") or "",
        "placed_on_market_on": placed.isoformat() if placed else None,
        "legacy_unchanged": _legacy_unchanged(answers, role),
        "intended_for_public_authorities": bool(answers.get("intended_for_public_authorities")),
    }


def _risk_tier(answers: Mapping[str, Any], *, prohibited: list[str], area: str) -> _Finding:
    """Prohibited (Art. 5) first; otherwise Annex I (Art. 6(1)) and Annex III (Art. 6(2),
    (3)) each add their basis: a system under both gets both sets of duties."""
    if prohibited:
        finding = _Finding("prohibited")
        for code in prohibited:
            practice = PROHIBITED_PRACTICES[code]
            finding.rationale.append(f"Prohibited practice: {practice.text} ({practice.article}).")
            finding.citations.append(practice.article)
        return finding
    annex_iii = _annex_iii_tier(answers, area=area) if area else None
    if answers["annex_i_safety_component"]:
        finding = _Finding(
            "high_risk",
            basis="annex_i",
            rationale=[
                "Product or safety component under Annex I legislation requiring a third-party "
                "conformity assessment: high-risk (Art. 6(1))."
            ],
            citations=["Art. 6(1)"],
        )
        if annex_iii is not None and annex_iii.category == "high_risk":
            finding.basis = "annex_i_and_iii"
            finding.rationale += [
                *annex_iii.rationale,
                "Both Annex I and Annex III apply: the duties of both follow.",
            ]
            finding.citations += annex_iii.citations
        return finding
    if annex_iii is not None:
        return annex_iii
    return _Finding(
        "minimal_risk",
        rationale=["No prohibited practice, no Annex I product, no Annex III area."],
    )


def _annex_iii_tier(answers: Mapping[str, Any], *, area: str) -> _Finding:
    """An Annex III use is high-risk unless its point's text excludes it or an Art. 6(3)
    condition applies; profiling makes it high-risk whatever the condition (Art. 6(3),
    last subparagraph)."""
    point = ANNEX_III_POINTS[answers["annex_iii_point"]]
    if point.excluded:
        return _Finding(
            "minimal_risk",
            rationale=[f"The use is {point.text} ({point.citation}): not high-risk."],
            citations=[point.citation],
        )
    citations = ["Art. 6(2)", point.citation]
    if answers["profiling"]:
        return _Finding(
            "high_risk",
            basis="annex_iii",
            rationale=[
                f"Intended use: {point.text} ({point.citation}) with profiling of natural "
                "persons: always high-risk, no Art. 6(3) exemption applies (Art. 6(3), last "
                "subparagraph)."
            ],
            citations=[*citations, "Art. 6(3), last subparagraph"],
        )
    if answers["art_6_3_exemption"] != "none":
        exemption = answers["art_6_3_exemption"]
        ex_article, ex_text = EXEMPTIONS[exemption]
        return _Finding(
            "minimal_risk",
            exemption=exemption,
            rationale=[
                f"Intended use: {point.text} ({point.citation}), but the system {ex_text} "
                f"({ex_article}) and does not profile natural persons: not high-risk. The "
                "provider must document this assessment before placing it on the market "
                "(Art. 6(4)) and still register the system (Art. 49(2))."
            ],
            citations=[*citations, ex_article, "Art. 6(4)", "Art. 49(2)"],
        )
    return _Finding(
        "high_risk",
        basis="annex_iii",
        rationale=[f"Intended use: {point.text} ({point.citation}): high-risk (Art. 6(2))."],
        citations=citations,
    )


def _operator_role(finding: _Finding, answers: Mapping[str, Any], *, role: str) -> str:
    """The role whose duties apply: a product manufacturer of an Annex I system, and a
    deployer, importer or distributor that triggers Art. 25(1) for a high-risk system,
    are providers."""
    operator_role = operator_role_of(answers, role)
    if operator_role == "product_manufacturer":
        finding.rationale.append(
            "The product manufacturer places the system on the market with its product "
            "under its own name: it is the provider (Art. 25(3))."
        )
        finding.citations.append("Art. 25(3)")
        return "provider"
    trigger = answers.get("art_25_trigger", "none")
    if trigger in ART_25_TRIGGERS and finding.category == "high_risk":
        article, text = ART_25_TRIGGERS[trigger]
        finding.rationale.append(
            f"The {OPERATOR_ROLES[operator_role][1]} {text}: it is considered a provider and "
            f"has the provider's duties (Art. 16) ({article})."
        )
        finding.citations.append(article)
        return "provider"
    return operator_role


def _add_transparency(finding: _Finding, transparency: list[str]) -> None:
    """Art. 50 duties add to any tier; they lift minimal risk to limited risk."""
    if not transparency:
        return
    for key in transparency:
        article, text = TRANSPARENCY_CASES[key]
        finding.rationale.append(f"Transparency duty: {text} ({article}).")
        finding.citations.append(article)
    if finding.category == "minimal_risk":
        finding.category = "limited_risk"


def _add_general_purpose_ai(finding: _Finding, *, gpai: bool, systemic: bool) -> None:
    """The provider duties of a general-purpose AI model (Art. 53, and Art. 55)."""
    if not gpai:
        return
    finding.rationale.append(
        "General-purpose AI model: provider duties of Art. 53"
        + (", and of Art. 55 for systemic risk (Art. 51)." if systemic else ".")
    )
    finding.citations.append("Art. 53")
    if systemic:
        finding.citations.extend(["Art. 51", "Art. 55"])


def _add_transition(finding: _Finding, answers: Mapping[str, Any]) -> None:
    """Art. 111(2): a high-risk system on the market before 2 Aug 2026 and unchanged
    since is bound only from a significant change (public authorities: 2 Aug 2030)."""
    if finding.category != "high_risk" or answers.get("significant_change_since") is not False:
        return
    if answers.get("intended_for_public_authorities"):
        finding.rationale.append(
            "Placed on the market before 2 Aug 2026 and intended for public authorities: "
            "the high-risk duties apply by 2 Aug 2030 (Art. 111(2), second sentence)."
        )
    else:
        finding.rationale.append(
            "Placed on the market before 2 Aug 2026 and not significantly changed since: "
            "the high-risk duties apply only from a significant change in its design "
            "(Art. 111(2))."
        )
    finding.citations.append("Art. 111(2)")


# --- Obligations ----------------------------------------------------------------------


@dataclass(frozen=True)
class Obligation:
    code: str
    article: str
    requirement: str
    date_key: str
    # What on the record counts as evidence (see selectors.evidence_for).
    evidence: str


@dataclass(frozen=True)
class Profile:
    """What an obligation's applicability depends on."""

    category: str
    high_risk_basis: str
    annex_iii_area: str
    role: str
    flags: Mapping[str, Any]

    @property
    def point(self) -> str:
        return str(self.flags.get("annex_iii_point") or "")

    @property
    def annex_i(self) -> bool:
        return self.high_risk_basis in ("annex_i", "annex_i_and_iii")

    @property
    def annex_iii(self) -> bool:
        return self.high_risk_basis in ("annex_iii", "annex_i_and_iii")

    @property
    def placed_on(self) -> date | None:
        value = self.flags.get("placed_on_market_on")
        return date.fromisoformat(value) if value else None


def _high_risk_date(profile: Profile) -> str:
    """Annex III (also for a system under both annexes: it is high-risk under Art. 6(2)
    from then) or Annex I; Art. 111(2) for legacy systems of public authorities."""
    if profile.flags.get("intended_for_public_authorities") and profile.flags.get(
        "legacy_unchanged"
    ):
        return "public_authority_legacy"
    return "annex_i_high_risk" if profile.high_risk_basis == "annex_i" else "annex_iii_high_risk"


def _art_50_2_date(profile: Profile) -> str:
    """Art. 50(2) as amended: systems placed before 2 Aug 2026 mark output by 2 Dec 2026."""
    placed = profile.placed_on
    return "transparency_legacy" if placed and placed < GENERAL_APPLICATION else "transparency"


def _gpai_date(profile: Profile) -> str:
    """Art. 111(3): models placed before 2 Aug 2025 comply by 2 Aug 2027."""
    placed = profile.placed_on
    return (
        "general_purpose_ai_legacy"
        if placed and placed < GPAI_APPLICATION
        else "general_purpose_ai"
    )


DateRule = str | Callable[[Profile], str]


@dataclass(frozen=True)
class ObligationRule:
    """One obligation of the Act and which systems it binds: the rule as data. ``when``
    says in words which systems (for docs/compliance.md)."""

    code: str
    article: str
    requirement: str
    date: DateRule  # a key of DATES, or a function of the profile giving one
    evidence: str
    applies: Callable[[Profile], bool]
    when: str

    def obligation(self, profile: Profile) -> Obligation:
        date_key = self.date if isinstance(self.date, str) else self.date(profile)
        return Obligation(self.code, self.article, self.requirement, date_key, self.evidence)


def _provider(profile: Profile) -> bool:
    return profile.role == "provider"


def _provider_or_deployer(profile: Profile) -> bool:
    return profile.role in ("provider", "deployer")


def _practice(code: str) -> Callable[[Profile], bool]:
    def applies(profile: Profile) -> bool:
        return code in (profile.flags.get("prohibited_practices") or [])

    return applies


def _bound_high_risk(profile: Profile) -> bool:
    """High-risk, and not a legacy system left alone by Art. 111(2)."""
    legacy_exempt = profile.flags.get("legacy_unchanged") and not profile.flags.get(
        "intended_for_public_authorities"
    )
    return profile.category == "high_risk" and not legacy_exempt


def _high_risk_as(role: str) -> Callable[[Profile], bool]:
    def applies(profile: Profile) -> bool:
        return _bound_high_risk(profile) and profile.role == role

    return applies


_high_risk_provider = _high_risk_as("provider")
_high_risk_deployer = _high_risk_as("deployer")


def _legacy_left_alone(profile: Profile) -> bool:
    return (
        profile.category == "high_risk"
        and bool(profile.flags.get("legacy_unchanged"))
        and not profile.flags.get("intended_for_public_authorities")
    )


def _conformity(route: str) -> Callable[[Profile], bool]:
    """Art. 43: Annex I product procedure (43(3)); point 1 notified body unless
    standards applied in full and the provider chose internal control (43(1));
    points 2-8 internal control (43(2))."""

    def applies(profile: Profile) -> bool:
        if not _high_risk_provider(profile):
            return False
        if profile.annex_i:
            return route == "43_3"
        if profile.point.startswith("1"):
            chose_internal = (
                profile.flags.get("harmonised_standards_in_full") is True
                and profile.flags.get("conformity_procedure") == "internal_control"
            )
            return route == ("43_1_annex_vi" if chose_internal else "43_1_annex_vii")
        return route == "43_2"

    return applies


def _registration(where: str) -> Callable[[Profile], bool]:
    """Art. 49: point 2 at national level (49(5)); points 6, 7, and 1 in law
    enforcement or migration in the non-public section (49(4)); the rest in the EU
    database (49(1)). Annex I systems register under their sectoral rules."""

    def applies(profile: Profile) -> bool:
        if not (_high_risk_provider(profile) and profile.annex_iii):
            return False
        point = profile.point
        non_public = point[:1] in ("6", "7") or (
            point.startswith("1")
            and bool(profile.flags.get("biometrics_law_enforcement_or_migration"))
        )
        actual = "national" if point == "2" else ("non_public" if non_public else "eu")
        return actual == where

    return applies


def _fria_deployer(profile: Profile) -> bool:
    """Art. 27(1): deployers that are bodies governed by public law or private entities
    providing public services, and deployers of Annex III points 5(b) and 5(c), of
    systems under Art. 6(2), except those of Annex III point 2."""
    return (
        _high_risk_deployer(profile)
        and profile.annex_iii
        and profile.point != "2"
        and (bool(profile.flags.get("public_service_deployer")) or profile.point in ("5b", "5c"))
    )


def _deployer_flag(flag: str) -> Callable[[Profile], bool]:
    def applies(profile: Profile) -> bool:
        return _high_risk_deployer(profile) and bool(profile.flags.get(flag))

    return applies


def _public_authority_deployer(profile: Profile) -> bool:
    """Art. 26(8), Art. 49(3): public-authority deployers of Annex III systems other
    than point 2 register their use."""
    return (
        _deployer_flag("public_authority_deployer")(profile)
        and profile.annex_iii
        and profile.point != "2"
    )


def _annex_iii_deployer(profile: Profile) -> bool:
    return _high_risk_deployer(profile) and profile.annex_iii


def _exempted_provider(profile: Profile) -> bool:
    return bool(profile.flags.get("annex_iii_exempted")) and _provider(profile)


# Art. 50(1) and (2) bind providers, (3) and (4) deployers.
_PROVIDER_TRANSPARENCY = ("interacts_with_persons", "generates_synthetic_content")


def _transparency(key: str) -> Callable[[Profile], bool]:
    """The Art. 50 case ``key``, for the role it binds."""
    bound = "provider" if key in _PROVIDER_TRANSPARENCY else "deployer"

    def applies(profile: Profile) -> bool:
        return key in (profile.flags.get("transparency") or []) and profile.role == bound

    return applies


def _gpai_provider(profile: Profile) -> bool:
    return bool(profile.flags.get("general_purpose_ai_model")) and _provider(profile)


def _systemic_gpai_provider(profile: Profile) -> bool:
    return _gpai_provider(profile) and bool(profile.flags.get("systemic_risk"))


def remote_biometric_identification(profile: Profile) -> bool:
    """A high-risk remote biometric identification system (Annex III point 1(a)), bound
    now: the one Art. 12(3) and Art. 14(5) speak of."""
    return (
        _bound_high_risk(profile)
        and profile.point == "1a"
        and profile.role
        in (
            "provider",
            "deployer",
        )
    )


# Art. 53(1): every provider of a general-purpose AI model.
GPAI_PROVIDER_DUTIES = (
    (
        "a",
        "Draw up and keep up to date the technical documentation of the model (Annex XI) "
        "for the AI Office and national competent authorities.",
    ),
    (
        "b",
        "Draw up, keep up to date and make available to downstream providers the "
        "information and documentation of Annex XII.",
    ),
    (
        "c",
        "Put in place a policy to comply with Union copyright law, identifying and "
        "respecting reservations of rights (Art. 4(3) of Directive (EU) 2019/790).",
    ),
    (
        "d",
        "Draw up and make publicly available a sufficiently detailed summary of the content "
        "used for training, in the AI Office's template.",
    ),
)
# Art. 55(1): providers of general-purpose AI models with systemic risk, in addition.
SYSTEMIC_RISK_DUTIES = (
    (
        "a",
        "Perform model evaluation with standardised protocols and tools reflecting the state "
        "of the art, including conducting and documenting adversarial testing.",
        "assessments",
    ),
    (
        "b",
        "Assess and mitigate possible systemic risks at Union level, including their sources.",
        "risks",
    ),
    (
        "c",
        "Keep track of, document and report without undue delay to the AI Office serious "
        "incidents and possible corrective measures.",
        "incidents",
    ),
    (
        "d",
        "Ensure an adequate level of cybersecurity protection for the model and its "
        "physical infrastructure.",
        "attested",
    ),
)
# Art. 51(2): a model is presumed to have high-impact capabilities (systemic risk, Art.
# 51(1)(a)) when the cumulative computation used for its training exceeds this.
SYSTEMIC_RISK_FLOPS = (10**25, "Art. 51(2)")


# Annex IV, point 2(a) (third-party and pre-trained components), 2(b) and 2(f): checklist
# items whose attached evidence the Annex IV report shows under those points.
ANNEX_IV_THIRD_PARTY_COMPONENTS = "art_11_annex_iv_2_a"
ANNEX_IV_DESIGN_SPECIFICATIONS = "art_11_annex_iv_2_b"
ANNEX_IV_PREDETERMINED_CHANGES = "art_11_annex_iv_2_f"

HIGH_RISK_PROVIDER = "high-risk system, provider (Art. 16)"
HIGH_RISK_DEPLOYER = "high-risk system, deployer (Art. 26)"

_PROVIDER_HIGH_RISK = (
    ("art_9", "Art. 9", "Run a risk-management system over the whole lifecycle.", "risks"),
    ("art_10", "Art. 10", "Govern training, validation and test data (datasheets).", "datasets"),
    ("art_11", "Art. 11", "Draw up technical documentation (Annex IV).", "attested"),
    # The points of Annex IV, point 2 that nothing else on the record can show: the
    # provider attaches the document that states them (the Annex IV report shows it).
    (
        ANNEX_IV_THIRD_PARTY_COMPONENTS,
        "Art. 11(1), Annex IV, point 2(a)",
        "State the recourse to pre-trained systems or tools provided by third parties and "
        "how they were used, integrated or modified; where none were used, attach that "
        "statement (the point asks for it 'where relevant').",
        "attested",
    ),
    (
        ANNEX_IV_DESIGN_SPECIFICATIONS,
        "Art. 11(1), Annex IV, point 2(b)",
        "Document the design specifications: the general logic of the system and of its "
        "algorithms; the key design choices with their rationale and assumptions, incl. "
        "the persons or groups it is intended to be used on; the main classification "
        "choices; what it optimises for and the relevance of its parameters; its expected "
        "output and output quality; the trade-offs made to meet Chapter III, Section 2.",
        "attested",
    ),
    (
        ANNEX_IV_PREDETERMINED_CHANGES,
        "Art. 11(1), Annex IV, point 2(f)",
        "Where applicable, describe the pre-determined changes to the system and its "
        "performance, with the technical solutions adopted to keep it compliant with "
        "Chapter III, Section 2; where none are pre-determined, attach that statement "
        "(the point applies 'where applicable').",
        "attested",
    ),
    ("art_12", "Art. 12", "Record events automatically over the system's lifetime.", "logs"),
    ("art_13", "Art. 13", "Give deployers instructions for use.", "attested"),
    ("art_14", "Art. 14", "Design for effective human oversight.", "approvals"),
    (
        "art_15",
        "Art. 15",
        "Achieve declared accuracy, robustness and cybersecurity.",
        "assessments",
    ),
    (
        "art_16_b",
        "Art. 16(b)",
        "Indicate the provider's name, registered trade name or trademark and contact "
        "address on the system, its packaging or its documentation.",
        "attested",
    ),
    (
        "art_18",
        "Art. 18(1)",
        "Keep the documentation for 10 years after placing on the market (met by a "
        "retention setting of at least 10 years for documentation).",
        "retention_documentation",
    ),
    (
        "art_19",
        "Art. 19(1)",
        "Keep the automatically generated logs under the provider's control for at least "
        "six months (met by a retention setting of at least 6 months for logs).",
        "retention_logs",
    ),
    (
        "art_20",
        "Art. 20(1)",
        "Take corrective action on a non-conforming system and inform distributors, "
        "deployers, the authorised representative and importers.",
        "attested",
    ),
    (
        "art_47",
        "Art. 47(1)",
        "Draw up the EU declaration of conformity (Annex V) and keep it for 10 years.",
        "attested",
    ),
    ("art_48", "Art. 16(h), Art. 48", "Affix the CE marking.", "attested"),
    ("art_72", "Art. 72", "Run post-market monitoring under a plan.", "attested"),
    (
        "art_73",
        "Art. 73",
        "Report serious incidents to the market-surveillance authority.",
        "incidents",
    ),
)

# Art. 17(1): the quality-management system, item by item, each with its own evidence.
QMS_ITEMS = (
    (
        "a",
        "a strategy for regulatory compliance, incl. conformity assessment procedures "
        "and the management of modifications",
        "attested",
    ),
    (
        "b",
        "techniques, procedures and systematic actions for design, design control and "
        "design verification",
        "attested",
    ),
    (
        "c",
        "techniques, procedures and systematic actions for development, quality control "
        "and quality assurance",
        "attested",
    ),
    (
        "d",
        "examination, test and validation procedures before, during and after "
        "development, and their frequency",
        "assessments",
    ),
    ("e", "technical specifications, including standards, to be applied", "attested"),
    ("f", "systems and procedures for data management", "datasets"),
    ("g", "the risk-management system of Art. 9", "risks"),
    ("h", "the post-market monitoring system of Art. 72", "attested"),
    ("i", "procedures for reporting a serious incident under Art. 73", "attested"),
    (
        "j",
        "the handling of communication with authorities, notified bodies, other "
        "operators and customers",
        "attested",
    ),
    ("k", "systems and procedures for record-keeping of all relevant documentation", "attested"),
    ("l", "resource management, including security-of-supply measures", "attested"),
    (
        "m",
        "an accountability framework setting out the responsibilities of management and "
        "other staff",
        "attested",
    ),
)

_CONFORMITY = (
    (
        "43_1_annex_vii",
        "Art. 43(1), Annex VII",
        "Have a notified body assess the quality-management system and the technical "
        "documentation (Annex III point 1: harmonised standards or common specifications "
        "not applied in full, or the provider chose Annex VII).",
    ),
    (
        "43_1_annex_vi",
        "Art. 43(1), Annex VI",
        "Carry out the conformity assessment by internal control (Annex III point 1, "
        "harmonised standards or common specifications applied in full; the provider's "
        "choice).",
    ),
    (
        "43_2",
        "Art. 43(2), Annex VI",
        "Carry out the conformity assessment by internal control (Annex III points 2 to 8).",
    ),
    (
        "43_3",
        "Art. 43(3)",
        "Follow the conformity assessment procedure of the product's Union harmonisation "
        "legislation (Annex I), covering the requirements of Chapter III, Section 2.",
    ),
)

_REGISTRATION = (
    (
        "eu",
        "Art. 49(1), Annex VIII Section A",
        "Register the provider and the system in the EU database before placing it on the market.",
    ),
    (
        "non_public",
        "Art. 49(4), Annex VIII Section A",
        "Register the system in the secure non-public section of the EU database (Annex "
        "III points 1, 6 and 7 in law enforcement, migration, asylum and border control).",
    ),
    (
        "national",
        "Art. 49(5)",
        "Register the system at national level (Annex III point 2, critical "
        "infrastructure), not in the EU database.",
    ),
)

_DEPLOYER_HIGH_RISK = (
    (
        "art_26_1",
        "Art. 26(1)",
        "Take technical and organisational measures to use the system in accordance with "
        "its instructions for use.",
        "attested",
        _high_risk_deployer,
        HIGH_RISK_DEPLOYER,
    ),
    (
        "art_26_2",
        "Art. 26(2)",
        "Assign human oversight to natural persons with the competence, training, "
        "authority and support it needs.",
        "approvals",
        _high_risk_deployer,
        HIGH_RISK_DEPLOYER,
    ),
    (
        "art_26_4",
        "Art. 26(4)",
        "Ensure input data under the deployer's control is relevant and sufficiently "
        "representative for the intended purpose.",
        "attested",
        _high_risk_deployer,
        HIGH_RISK_DEPLOYER,
    ),
    (
        "art_26_5",
        "Art. 26(5)",
        "Monitor the operation on the basis of the instructions; inform the provider (and "
        "the authority) of risks and serious incidents, and suspend use where needed.",
        "attested",
        _high_risk_deployer,
        HIGH_RISK_DEPLOYER,
    ),
    (
        "art_26_6",
        "Art. 26(6)",
        "Keep the logs under the deployer's control for at least six months (met by a "
        "retention setting of at least 6 months for logs).",
        "retention_logs",
        _high_risk_deployer,
        HIGH_RISK_DEPLOYER,
    ),
    (
        "art_26_7",
        "Art. 26(7)",
        "Before putting the system into service or using it at the workplace, inform the "
        "workers' representatives and the affected workers.",
        "attested",
        _deployer_flag("workplace_use"),
        "high-risk system, deployer using it at the workplace",
    ),
    (
        "art_26_8",
        "Art. 26(8), Art. 49(3), Annex VIII Section C",
        "Register the use of the system in the EU database (public-authority deployer; "
        "not for Annex III point 2).",
        "registration",
        _public_authority_deployer,
        "Annex III system other than point 2, deployer that is a public authority",
    ),
    (
        "art_26_11",
        "Art. 26(11)",
        "Inform the natural persons subject to decisions the system makes or assists with "
        "that they are subject to its use.",
        "attested",
        _annex_iii_deployer,
        "Annex III system, deployer",
    ),
    (
        "art_27",
        "Art. 27(1)",
        "Assess the impact on fundamental rights before first use.",
        "fria",
        _fria_deployer,
        "Annex III system (not point 2), deployer that is a body governed by public law or "
        "a private entity providing public services, or any deployer of points 5(b) and 5(c)",
    ),
    (
        "art_27_3",
        "Art. 27(3)",
        "Notify the market surveillance authority of the assessment's results, with the "
        "filled-out template.",
        "attested",
        _fria_deployer,
        "as Art. 27(1)",
    ),
)

_OTHER_OPERATORS = (
    (
        "importer",
        (
            (
                "art_23_1",
                "Art. 23(1)(a)-(d)",
                "Before placing the system on the market, "
                "verify: the conformity assessment (Art. 43), the technical documentation "
                "(Art. 11, Annex IV), the CE marking, the EU declaration and instructions, "
                "and the authorised representative (Art. 22(1)).",
            ),
            (
                "art_23_2",
                "Art. 23(2)",
                "Do not place a non-conforming or falsified system "
                "on the market; inform the provider, the authorised representative and the "
                "authorities of a risk (Art. 79(1)).",
            ),
            (
                "art_23_3",
                "Art. 23(3)",
                "Indicate the importer's name, registered trade "
                "name or trademark and address on the system, its packaging or documentation.",
            ),
            (
                "art_23_4",
                "Art. 23(4)",
                "Ensure storage or transport conditions do not jeopardise compliance.",
            ),
            (
                "art_23_5",
                "Art. 23(5)",
                "Keep a copy of the notified body's certificate, "
                "the instructions for use and the EU declaration for 10 years.",
            ),
        ),
    ),
    (
        "distributor",
        (
            (
                "art_24_1",
                "Art. 24(1)",
                "Before making the system available, verify the CE "
                "marking, the EU declaration and instructions, and that the provider and "
                "importer met Art. 16(b), (c) and Art. 23(3).",
            ),
            (
                "art_24_2",
                "Art. 24(2)",
                "Do not make a non-conforming system available; "
                "inform the provider or importer of a risk (Art. 79(1)).",
            ),
            (
                "art_24_3",
                "Art. 24(3)",
                "Ensure storage or transport conditions do not jeopardise compliance.",
            ),
            (
                "art_24_4",
                "Art. 24(4)",
                "Take corrective action on a non-conforming system "
                "made available, or see that the provider or importer does.",
            ),
        ),
    ),
    (
        "authorised_representative",
        (
            (
                "art_22_3",
                "Art. 22(3)(a)-(e)",
                "Perform the mandate: verify the EU "
                "declaration, the technical documentation and the conformity assessment; "
                "keep the provider's contact details, the declaration, the documentation and "
                "any certificate for 10 years; inform and cooperate with authorities; comply "
                "with or verify the registration (Art. 49(1)).",
            ),
            (
                "art_22_4",
                "Art. 22(4)",
                "Terminate the mandate if the provider acts contrary "
                "to its obligations, and inform the market surveillance authority.",
            ),
        ),
    ),
)


def _operator_rules() -> tuple[ObligationRule, ...]:
    """Importer (Art. 23), distributor (Art. 24) and authorised representative
    (Art. 22) duties for high-risk systems."""
    return tuple(
        ObligationRule(
            code,
            article,
            text,
            _high_risk_date,
            "attested",
            _high_risk_as(role),
            f"high-risk system, {OPERATOR_ROLES[role][1]}",
        )
        for role, items in _OTHER_OPERATORS
        for code, article, text in items
    )


# Walked in this order; each rule that applies to a profile gives one checklist item.
OBLIGATION_RULES: tuple[ObligationRule, ...] = (
    ObligationRule(
        "art_4",
        "Art. 4",
        "Ensure staff dealing with the system have AI literacy.",
        "ai_literacy",
        "attested",
        _provider_or_deployer,
        "every provider and deployer",
    ),
    *(
        ObligationRule(
            f"art_5_{code}",
            practice.article,
            f"Prohibited practice ({practice.text}): do not place the system on the market, "
            "put it into service or use it.",
            practice.date_key,
            "never",
            _practice(code),
            f"the practice '{code}' is answered",
        )
        for code, practice in PROHIBITED_PRACTICES.items()
    ),
    *(
        ObligationRule(
            code, article, text, _high_risk_date, evidence, _high_risk_provider, HIGH_RISK_PROVIDER
        )
        for code, article, text, evidence in _PROVIDER_HIGH_RISK
    ),
    *(
        ObligationRule(
            f"art_17_1_{item}",
            f"Art. 17(1)({item})",
            f"Quality-management system: {text}.",
            _high_risk_date,
            evidence,
            _high_risk_provider,
            HIGH_RISK_PROVIDER,
        )
        for item, text, evidence in QMS_ITEMS
    ),
    *(
        ObligationRule(
            "art_43",
            article,
            text,
            _high_risk_date,
            "attested",
            _conformity(route),
            f"{HIGH_RISK_PROVIDER}: route {route}",
        )
        for route, article, text in _CONFORMITY
    ),
    *(
        ObligationRule(
            "art_49",
            article,
            text,
            _high_risk_date,
            "registration",
            _registration(where),
            f"Annex III high-risk system, provider: registration {where}",
        )
        for where, article, text in _REGISTRATION
    ),
    *(
        ObligationRule(code, article, text, _high_risk_date, evidence, applies, when)
        for code, article, text, evidence, applies, when in _DEPLOYER_HIGH_RISK
    ),
    *_operator_rules(),
    ObligationRule(
        "art_12_3",
        "Art. 12(3)(a)-(d)",
        "Log each use of the remote biometric identification system: its period (start "
        "and end date and time), the reference database the input data was checked "
        "against, the input data for which the search led to a match, and the natural "
        "persons who verified the results (Art. 14(5)).",
        _high_risk_date,
        "biometric_log",
        remote_biometric_identification,
        "Annex III point 1(a) high-risk system, provider or deployer",
    ),
    ObligationRule(
        "art_14_5",
        "Art. 14(5)",
        "Take no action or decision on an identification unless at least two natural "
        "persons with the necessary competence, training and authority have separately "
        "verified and confirmed it (enforced; the second subparagraph's exception only as "
        "recorded, with the Union or national law relied on).",
        _high_risk_date,
        "biometric_verification",
        remote_biometric_identification,
        "Annex III point 1(a) high-risk system, provider or deployer",
    ),
    ObligationRule(
        "art_111_2",
        "Art. 111(2)",
        "Placed on the market or put into service before 2 Aug 2026 and not significantly "
        "changed since: the high-risk duties apply from a significant change in design; "
        "classify again when the design changes.",
        "general",
        "classification",
        _legacy_left_alone,
        "high-risk system placed before 2 Aug 2026, unchanged, not for public authorities",
    ),
    ObligationRule(
        "art_6_4",
        "Art. 6(4)",
        "Document the assessment that the Annex III system is not high-risk.",
        "annex_iii_high_risk",
        "classification",
        _exempted_provider,
        "Annex III system exempted under Art. 6(3), provider",
    ),
    ObligationRule(
        "art_49_2",
        "Art. 49(2), Annex VIII Section B",
        "Register the exempted system in the EU database.",
        "annex_iii_high_risk",
        "registration",
        _exempted_provider,
        "Annex III system exempted under Art. 6(3), provider",
    ),
    *(
        ObligationRule(
            f"art_50_{article[8]}",
            article,
            text[0].upper() + text[1:] + ".",
            _art_50_2_date if key == "generates_synthetic_content" else "transparency",
            "attested",
            _transparency(key),
            f"'{key}' answered, " + ("provider" if key in _PROVIDER_TRANSPARENCY else "deployer"),
        )
        for key, (article, text) in TRANSPARENCY_CASES.items()
    ),
    *(
        ObligationRule(
            f"art_53_1_{point}",
            f"Art. 53(1)({point})",
            text,
            _gpai_date,
            "attested",
            _gpai_provider,
            "general-purpose AI model, provider",
        )
        for point, text in GPAI_PROVIDER_DUTIES
    ),
    ObligationRule(
        "art_52_1",
        "Art. 52(1)",
        "Notify the Commission without delay, and within two weeks, that the model meets "
        "the Art. 51(1)(a) condition (presumed at 10^25 FLOPs of training compute, "
        "Art. 51(2)).",
        _gpai_date,
        "attested",
        _systemic_gpai_provider,
        "general-purpose AI model with systemic risk, provider",
    ),
    *(
        ObligationRule(
            f"art_55_1_{point}",
            f"Art. 55(1)({point})",
            text,
            _gpai_date,
            evidence,
            _systemic_gpai_provider,
            "general-purpose AI model with systemic risk, provider",
        )
        for point, text, evidence in SYSTEMIC_RISK_DUTIES
    ),
)


def obligations_for(profile: Profile) -> list[tuple[Obligation, ApplicationDate]]:
    """The checklist for one system: obligation and the date it applies from."""
    items = [rule.obligation(profile) for rule in OBLIGATION_RULES if rule.applies(profile)]
    return [(o, DATES[o.date_key]) for o in items]


# --- docs/compliance.md ---------------------------------------------------------------

DOC_START = "<!-- rules:start (generated by manage.py compliance_doc; do not edit) -->"
DOC_END = "<!-- rules:end -->"


def _date_words(rule: ObligationRule) -> str:
    if isinstance(rule.date, str):
        keys = [rule.date]
    elif rule.date is _high_risk_date:
        keys = ["annex_iii_high_risk", "annex_i_high_risk", "public_authority_legacy"]
    elif rule.date is _art_50_2_date:
        keys = ["transparency", "transparency_legacy"]
    else:
        keys = ["general_purpose_ai", "general_purpose_ai_legacy"]
    return "; ".join(f"{DATES[k].applies_from:%-d %b %Y} ({DATES[k].legal_source})" for k in keys)


def rules_markdown() -> str:
    """The tables of docs/compliance.md that come from this module: every obligation
    rule with its source, who it binds and its date; the Annex III points; the dates."""
    lines = [
        DOC_START,
        "",
        "| code | legal source | requirement | binds | applies from |",
        "|---|---|---|---|---|",
    ]
    for rule in OBLIGATION_RULES:
        lines.append(
            f"| `{rule.code}` | {rule.article} | {rule.requirement} | {rule.when} | "
            f"{_date_words(rule)} |"
        )
    lines += ["", "| Annex III answer | legal source | use | high-risk |", "|---|---|---|---|"]
    for point in ANNEX_III_POINTS.values():
        verdict = "no (excluded)" if point.excluded else "yes"
        lines.append(f"| `{point.code}` | {point.citation} | {point.text} | {verdict} |")
    lines += ["", "| Annex IV report, section 2 | legal source |", "|---|---|"]
    for point, label in ANNEX_IV_POINT_2.items():
        lines.append(f"| 2({point}) {label} | Annex IV, point 2({point}) |")
    lines += ["", "| GPAI documentation field | legal source | what |", "|---|---|---|"]
    for f in GPAI_FIELDS.values():
        scope = " (systemic risk only)" if f.systemic_only else ""
        lines.append(f"| `{f.key}` | {'; '.join(f.sources)} | {f.label}{scope} |")
    for key, (source, label) in GPAI_COMPUTED.items():
        lines.append(f"| `{key}` (computed from the record) | {source} | {label} |")
    lines += ["", "| date key | applies from | legal source |", "|---|---|---|"]
    for key, when in sorted(DATES.items(), key=lambda kv: (kv[1].applies_from, kv[0])):
        lines.append(f"| `{key}` | {when.applies_from:%-d %b %Y} | {when.legal_source} |")
    lines += ["", DOC_END]
    return "\n".join(lines)


# --- Remote biometric identification (Art. 12(3), Art. 14(5)) ------------------------------

# The log fields of Art. 12(3) for an Annex III point 1(a) system, each with its point.
BIOMETRIC_LOG_FIELDS: dict[str, tuple[str, str]] = {
    "period": (
        "Art. 12(3)(a)",
        "the period of each use (start date and time, end date and time)",
    ),
    "reference_database": (
        "Art. 12(3)(b)",
        "the reference database against which input data has been checked",
    ),
    "matched_input": ("Art. 12(3)(c)", "the input data for which the search led to a match"),
    "verifying_persons": (
        "Art. 12(3)(d)",
        "the identification of the natural persons involved in verifying the results, "
        "as referred to in Art. 14(5)",
    ),
}
# Art. 14(5), first subparagraph: separate verification and confirmation by at least two
# natural persons before any action or decision on an identification.
DUAL_VERIFICATION = ("Art. 14(5), first subparagraph", 2)
# Art. 14(5), second subparagraph: the requirement does not apply in these areas where
# Union or national law considers it disproportionate. Whether such a law exists is for
# the user to say (a recorded setting naming the law), never assumed.
DUAL_VERIFICATION_EXCEPTION_SOURCE = "Art. 14(5), second subparagraph"
DUAL_VERIFICATION_EXCEPTION_AREAS: dict[str, str] = {
    "law_enforcement": "law enforcement",
    "migration": "migration",
    "border_control": "border control",
    "asylum": "asylum",
}
# With the exception recorded, the product still asks one person to confirm an
# identification before it is acted on: oversight stays with natural persons
# (Art. 14(1), Art. 26(2)); only the second person is what the exception lifts.
DUAL_VERIFICATION_WITH_EXCEPTION = 1


# --- Technical documentation (Art. 11, Annex IV) -------------------------------------------

# Annex IV, point 2: the detailed description of the elements of the system and of its
# development, point by point, as the Annex IV report labels its sub-sections.
ANNEX_IV_POINT_2: dict[str, str] = {
    "a": "Methods and steps performed for the development, including recourse to "
    "pre-trained systems or tools provided by third parties",
    "b": "Design specifications: general logic, key design choices and their rationale, what "
    "the system is designed to optimise for, expected output, trade-offs",
    "c": "System architecture and the computational resources used to develop, train, test "
    "and validate the system",
    "d": "Data requirements: datasheets describing the training methodologies and the data "
    "sets, their provenance, scope, selection, labelling and cleaning",
    "e": "Assessment of the human oversight measures needed (Art. 14), including the technical "
    "measures to interpret the outputs (Art. 13(3)(d))",
    "f": "Pre-determined changes to the system and its performance, and the solutions for "
    "continuous compliance",
    "g": "Validation and testing procedures, data and metrics; test logs and test reports "
    "dated and signed by the responsible persons",
    "h": "Cybersecurity measures put in place",
}


# --- General-purpose AI models (Art. 53, Art. 55, Annex XI, Annex XII) ---------------------


@dataclass(frozen=True)
class GpaiField:
    """A fact about a general-purpose AI model that only its provider can state (the
    record cannot compute it), recorded as text, with where the law asks for it."""

    key: str
    label: str
    sources: tuple[str, ...]
    systemic_only: bool = False
    optional: bool = False


XI = "Annex XI, Section 1"
XI_2 = "Annex XI, Section 2"
XII = "Annex XII"
SUMMARY = "Art. 53(1)(d), template"
GPAI_FIELDS: dict[str, GpaiField] = {
    f.key: f
    for f in (
        GpaiField(
            "tasks_and_integration",
            "Tasks the model is intended to perform; type and nature of AI systems it can be "
            "integrated into",
            (f"{XI}, point 1(a)", f"{XII}, point 1(a)"),
        ),
        GpaiField(
            "acceptable_use_policies",
            "Acceptable use policies applicable",
            (f"{XI}, point 1(b)", f"{XII}, point 1(b)"),
        ),
        GpaiField(
            "release_and_distribution",
            "Date of release and methods of distribution",
            (f"{XI}, point 1(c)", f"{XII}, point 1(c)"),
        ),
        GpaiField(
            "hardware_software_interaction",
            "How the model interacts, or can be used to interact, with hardware or software "
            "that is not part of the model",
            (f"{XII}, point 1(d)",),
        ),
        GpaiField(
            "software_versions",
            "Versions of relevant software related to the use of the model",
            (f"{XII}, point 1(e)",),
        ),
        GpaiField(
            "architecture_and_parameters",
            "Architecture and number of parameters",
            (f"{XI}, point 1(d)", f"{XII}, point 1(f)"),
        ),
        GpaiField(
            "modalities_and_formats",
            "Modality and format of inputs and outputs",
            (f"{XI}, point 1(e)", f"{XII}, point 1(g)"),
        ),
        GpaiField("licence", "Licence", (f"{XI}, point 1(f)", f"{XII}, point 1(h)")),
        GpaiField(
            "integration_means",
            "Technical means (instructions for use, infrastructure, tools) required to "
            "integrate the model into AI systems",
            (f"{XI}, point 2(a)", f"{XII}, point 2(a)"),
        ),
        GpaiField(
            "input_output_maximum_size",
            "Maximum size of inputs and outputs (e.g. context window length)",
            (f"{XII}, point 2(b)",),
        ),
        GpaiField(
            "design_and_training_process",
            "Design specifications of the model and training process: methodologies and "
            "techniques, key design choices with rationale and assumptions, what it "
            "optimises for, relevance of the parameters",
            (f"{XI}, point 2(b)",),
        ),
        GpaiField(
            "training_data",
            "Data used for training, testing and validation: type, provenance and curation "
            "methodologies, number of data points, scope, how obtained and selected, "
            "measures against unsuitable sources and identifiable biases",
            (f"{XI}, point 2(c)", f"{XII}, point 2(c)"),
        ),
        GpaiField(
            "copyright_policy",
            "Policy to comply with Union copyright law (reservations of rights, Art. 4(3) of "
            "Directive (EU) 2019/790)",
            ("Art. 53(1)(c)",),
        ),
        GpaiField(
            "evaluation_strategies",
            "Evaluation strategies and results: criteria, metrics, methodology for "
            "identifying limitations",
            (f"{XI_2}, point 1", "Art. 55(1)(a)"),
            systemic_only=True,
        ),
        GpaiField(
            "adversarial_testing",
            "Internal and/or external adversarial testing (e.g. red teaming), model "
            "adaptations including alignment and fine-tuning",
            (f"{XI_2}, point 2", "Art. 55(1)(a)"),
            systemic_only=True,
        ),
        GpaiField(
            "system_architecture",
            "System architecture: how software components build or feed into each other",
            (f"{XI_2}, point 3",),
            systemic_only=True,
        ),
        GpaiField(
            "systemic_risk_mitigation",
            "Assessment and mitigation of possible systemic risks at Union level",
            ("Art. 55(1)(b)",),
            systemic_only=True,
        ),
        GpaiField(
            "cybersecurity_protection",
            "Cybersecurity protection of the model and its physical infrastructure",
            ("Art. 55(1)(d)",),
            systemic_only=True,
        ),
        GpaiField(
            "provider_contact",
            "Provider name and contact details",
            (f"{SUMMARY} section 1.1",),
        ),
        GpaiField(
            "authorised_representative",
            "Authorised representative name and contact details",
            (f"{SUMMARY} section 1.1",),
            optional=True,
        ),
        GpaiField(
            "model_dependencies",
            "Model dependencies (models this one is based on)",
            (f"{SUMMARY} section 1.2",),
            optional=True,
        ),
        GpaiField(
            "modalities_and_size",
            "Modalities in the training data, training data size per modality (range), and "
            "types of content",
            (f"{SUMMARY} section 1.3",),
        ),
        GpaiField(
            "latest_data_collection",
            "Latest date of data acquisition or collection for model training",
            (f"{SUMMARY} section 1.3",),
        ),
        GpaiField(
            "linguistic_characteristics",
            "Linguistic characteristics of the overall training data",
            (f"{SUMMARY} section 1.3",),
        ),
        GpaiField(
            "public_datasets",
            "Publicly available datasets used (yes/no; modalities; list of large datasets)",
            (f"{SUMMARY} section 2.1",),
        ),
        GpaiField(
            "licensed_datasets",
            "Datasets commercially licensed by rightsholders or their representatives "
            "(yes/no; modalities)",
            (f"{SUMMARY} section 2.2.1",),
        ),
        GpaiField(
            "other_private_datasets",
            "Private datasets obtained from other third parties (yes/no; description)",
            (f"{SUMMARY} section 2.2.2",),
        ),
        GpaiField(
            "crawled_data",
            "Data crawled and scraped from online sources (yes/no; crawlers, period, "
            "types of sources, most relevant domain names)",
            (f"{SUMMARY} section 2.3",),
        ),
        GpaiField(
            "user_data",
            "Data from user interactions with the model or the provider's other services "
            "(yes/no; description)",
            (f"{SUMMARY} section 2.4",),
        ),
        GpaiField(
            "synthetic_data",
            "Synthetic AI-generated data created by or for the provider (yes/no; description)",
            (f"{SUMMARY} section 2.5",),
        ),
        GpaiField(
            "other_data_sources",
            "Other sources of data (yes/no; description)",
            (f"{SUMMARY} section 2.6",),
        ),
        GpaiField(
            "tdm_reservations",
            "Measures to respect reservations of rights from the text and data mining "
            "exception or limitation, before and during data collection",
            (f"{SUMMARY} section 3.1",),
        ),
        GpaiField(
            "illegal_content_removal",
            "Measures taken to remove illegal content from the training data",
            (f"{SUMMARY} section 3.2",),
        ),
        GpaiField(
            "other_processing_information",
            "Other information about data processing",
            (f"{SUMMARY} section 3.3",),
            optional=True,
        ),
    )
}
# Figures the record itself computes for a GPAI model, never typed: where the law asks.
GPAI_COMPUTED = {
    "training_compute": ("Annex XI, Section 1, point 2(d)", "Training compute (FLOPs)"),
    "training_time": ("Annex XI, Section 1, point 2(d)", "Training time"),
    "energy": ("Annex XI, Section 1, point 2(e)", "Known energy consumption"),
    "placed_on_market": (f"{SUMMARY} section 1.2", "Date of placement on the Union market"),
    "versioned_names": (f"{SUMMARY} section 1.2", "Versioned model name(s)"),
    "evaluation_results": ("Annex XI, Section 2, point 1", "Evaluations on the record"),
    "serious_incidents": ("Art. 55(1)(c)", "Serious incidents tracked"),
}
# A training run states its compute in FLOPs under this key of its metrics (the pipeline
# that trained it knows it), as a decimal string ("4.1e24": the ledger's JSON holds
# integers only up to 2**53) or a number; the documentation sums it over the runs.
TRAINING_COMPUTE_METRIC = "training_compute_flops"


# Evidence kinds met only by the current retention setting: field and minimum, source.
RETENTION_MINIMUMS = {
    "retention_documentation": ("documentation_years", 10, "Art. 18(1)"),
    "retention_logs": ("log_months", 6, "Art. 19(1), Art. 26(6)"),
}


# --- Serious incidents (Art. 73) --------------------------------------------------------

# Days from awareness to the report at the latest, by kind; each also "immediately"
# after the causal link (or its reasonable likelihood) is established (Art. 73(2)).
INCIDENT_DEADLINES: dict[str, tuple[int, str]] = {
    "general": (15, "Art. 73(2)"),
    "death": (10, "Art. 73(4)"),
    "widespread_infringement": (2, "Art. 73(3)"),
    "critical_infrastructure": (2, "Art. 73(3)"),
}
CAUSAL_LINK_DUTY = (
    "Art. 73(2), first subparagraph",
    "immediately after establishing a causal link between the system and the incident, "
    "or the reasonable likelihood of such a link",
)
# Art. 3(49): what makes an incident serious.
HARM_CATEGORIES: dict[str, tuple[str, str]] = {
    "health": ("Art. 3(49)(a)", "death of a person, or serious harm to a person's health"),
    "critical_infrastructure": (
        "Art. 3(49)(b)",
        "serious and irreversible disruption of the management or operation of critical "
        "infrastructure",
    ),
    "fundamental_rights": (
        "Art. 3(49)(c)",
        "infringement of obligations under Union law intended to protect fundamental rights",
    ),
    "property_or_environment": (
        "Art. 3(49)(d)",
        "serious harm to property or the environment",
    ),
}
# The harm category an incident kind implies (a death is harm to health, Art. 73(4)).
KIND_HARM = {"death": "health", "critical_infrastructure": "critical_infrastructure"}
# Other regimes the same event may have to be reported under (Art. 73(9), (10) limit
# the AI Act report where equivalent sectoral reporting applies).
PARALLEL_REGIMES: dict[str, str] = {
    "nis2": "Directive (EU) 2022/2555 (NIS2), Art. 23",
    "gdpr": "Regulation (EU) 2016/679 (GDPR), Art. 33",
    "dora": "Regulation (EU) 2022/2554 (DORA), Art. 19",
    "sectoral": "sectoral Union harmonisation legislation (e.g. medical devices)",
}
# Art. 73(1): the market surveillance authority of the Member State where it occurred.
EU_MEMBER_STATES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip


# --- Registration data (Art. 49, Annex VIII) ---------------------------------------------


@dataclass(frozen=True)
class RegistrationField:
    key: str
    point: str  # the point of the Annex VIII section
    label: str
    required: bool = True


_WHO = (
    RegistrationField(
        "provider_name_address_contact", "1", "Name, address and contact details of the provider"
    ),
    RegistrationField(
        "submitter_name_address_contact",
        "2",
        "Name, address and contact details of the person submitting on the provider's behalf",
        False,
    ),
    RegistrationField(
        "authorised_representative",
        "3",
        "Name, address and contact details of the authorised representative",
        False,
    ),
    RegistrationField(
        "trade_name_and_reference",
        "4",
        "Trade name and any additional unambiguous reference allowing identification and "
        "traceability",
    ),
    RegistrationField(
        "intended_purpose",
        "5",
        "Description of the intended purpose (Section A: and of the components and functions)",
    ),
)
ANNEX_VIII_SECTIONS: dict[str, tuple[str, tuple[RegistrationField, ...]]] = {
    "A": (
        "Annex VIII, Section A (providers, Art. 49(1))",
        (
            *_WHO,
            RegistrationField(
                "information_and_operating_logic",
                "6",
                "Basic and concise description of the information used by the system and its "
                "operating logic",
            ),
            RegistrationField(
                "status", "7", "Status: on the market or in service; no longer; recalled"
            ),
            RegistrationField(
                "notified_body_certificate",
                "8",
                "Type, number and expiry date of the notified body's certificate and the body's "
                "name or number",
                False,
            ),
            RegistrationField("certificate_copy", "9", "Scanned copy of the certificate", False),
            RegistrationField(
                "member_states",
                "10",
                "Member States where it is placed on the market, put into service or made "
                "available",
            ),
            RegistrationField(
                "declaration_of_conformity",
                "11",
                "A copy of the EU declaration of conformity (Art. 47)",
            ),
            RegistrationField(
                "instructions_for_use",
                "12",
                "Electronic instructions for use (not for points 1, 6 and 7 in law enforcement, "
                "migration, asylum and border control)",
                False,
            ),
            RegistrationField("url", "13", "URL for additional information", False),
        ),
    ),
    "B": (
        "Annex VIII, Section B (exempted systems, Art. 49(2))",
        (
            *_WHO,
            RegistrationField(
                "art_6_3_conditions",
                "6",
                "The Art. 6(3) condition(s) on which the system is considered not high-risk",
            ),
            RegistrationField(
                "grounds_summary",
                "7",
                "Short summary of the grounds for applying the Art. 6(3) procedure",
            ),
            RegistrationField(
                "status", "8", "Status: on the market or in service; no longer; recalled"
            ),
            RegistrationField(
                "member_states",
                "9",
                "Member States where it is placed on the market, put into service or made "
                "available",
            ),
        ),
    ),
    "C": (
        "Annex VIII, Section C (public-authority deployers, Art. 49(3))",
        (
            RegistrationField(
                "deployer_name_address_contact",
                "1",
                "Name, address and contact details of the deployer",
            ),
            RegistrationField(
                "submitter_name_address_contact",
                "2",
                "Name, address and contact details of the person submitting on the deployer's "
                "behalf",
                False,
            ),
            RegistrationField(
                "provider_entry_url",
                "3",
                "URL of the system's entry in the EU database by its provider",
            ),
            RegistrationField(
                "fria_summary",
                "4",
                "Summary of the findings of the fundamental-rights impact assessment (Art. 27)",
                False,
            ),
            RegistrationField(
                "dpia_summary",
                "5",
                "Summary of the data protection impact assessment (GDPR Art. 35 / LED Art. 27), "
                "where applicable",
                False,
            ),
        ),
    ),
}
# Where each registration duty of the checklist registers: (Annex VIII section, database).
REGISTRATION_TARGETS: dict[str, tuple[str, str]] = {
    "Art. 49(1), Annex VIII Section A": ("A", "eu_public"),
    "Art. 49(4), Annex VIII Section A": ("A", "eu_non_public"),
    "Art. 49(5)": ("A", "national"),
    "Art. 49(2), Annex VIII Section B": ("B", "eu_public"),
    "Art. 26(8), Art. 49(3), Annex VIII Section C": ("C", "eu_public"),
}
REGISTRATION_DATABASES = {
    "eu_public": "the EU database (Art. 71)",
    "eu_non_public": "the secure non-public section of the EU database (Art. 49(4))",
    "national": "the national register (Art. 49(5))",
}
