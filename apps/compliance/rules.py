"""The Act as data: the classification questionnaire, how answers map to a category,
which obligations follow from category and role, and the dates they apply from.

Pure functions, no Django: the rules are tested table by table (tests/compliance).
The rules and dates are explained, with their legal sources, in docs/compliance.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# --- Application dates (Art. 113, as amended in 2026) --------------------------------


@dataclass(frozen=True)
class ApplicationDate:
    key: str
    applies_from: date
    legal_source: str


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
            "general_purpose_ai", date(2025, 8, 2), "Art. 113(b): Chapter V (general-purpose AI)"
        ),
        ApplicationDate(
            "general", date(2026, 8, 2), "Art. 113, second paragraph (general application)"
        ),
        ApplicationDate("transparency", date(2026, 8, 2), "Art. 113, second paragraph (Art. 50)"),
        ApplicationDate(
            "annex_iii_high_risk",
            date(2027, 12, 2),
            "Art. 113 as amended in 2026 (Digital Omnibus): Annex III high-risk systems",
        ),
        ApplicationDate(
            "annex_i_high_risk",
            date(2028, 8, 2),
            "Art. 113 as amended in 2026 (Digital Omnibus): Art. 6(1), Annex I high-risk systems",
        ),
    )
}

# --- The questionnaire ----------------------------------------------------------------

PROHIBITED_PRACTICES: dict[str, tuple[str, str]] = {
    "subliminal_manipulation": ("Art. 5(1)(a)", "subliminal, manipulative or deceptive techniques"),
    "exploiting_vulnerabilities": (
        "Art. 5(1)(b)",
        "exploiting vulnerabilities of age, disability or social or economic situation",
    ),
    "social_scoring": ("Art. 5(1)(c)", "social scoring"),
    "crime_risk_profiling": ("Art. 5(1)(d)", "predicting criminal offences from profiling alone"),
    "untargeted_facial_scraping": ("Art. 5(1)(e)", "untargeted scraping of facial images"),
    "emotion_recognition_work_education": (
        "Art. 5(1)(f)",
        "emotion recognition in the workplace or education",
    ),
    "biometric_categorisation_sensitive": (
        "Art. 5(1)(g)",
        "biometric categorisation inferring sensitive characteristics",
    ),
    "realtime_remote_biometric_identification": (
        "Art. 5(1)(h)",
        "real-time remote biometric identification in public spaces for law enforcement",
    ),
    "non_consensual_intimate_imagery": (
        "Art. 5 as amended in 2026",
        "generating non-consensual intimate imagery of identifiable persons",
    ),
    "child_sexual_abuse_material": (
        "Art. 5 as amended in 2026",
        "generating child sexual abuse material",
    ),
}

ANNEX_III_AREAS: dict[str, tuple[str, str]] = {
    "biometrics": ("Annex III, point 1", "biometrics"),
    "critical_infrastructure": ("Annex III, point 2", "critical infrastructure"),
    "education": ("Annex III, point 3", "education and vocational training"),
    "employment": ("Annex III, point 4", "employment, workers management, self-employment"),
    "essential_services": (
        "Annex III, point 5",
        "access to essential private and public services and benefits, including "
        "creditworthiness and life and health insurance risk and pricing",
    ),
    "law_enforcement": ("Annex III, point 6", "law enforcement"),
    "migration": ("Annex III, point 7", "migration, asylum and border control management"),
    "justice_democracy": (
        "Annex III, point 8",
        "administration of justice and democratic processes",
    ),
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


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    kind: str  # "bool", "choice", "choices"
    options: tuple[str, ...] = ()
    # Asked only when this returns true for the answers so far (and the system's role).
    when: Callable[[Mapping[str, Any], str], bool] | None = None
    when_text: str = ""


def _annex_iii(answers: Mapping[str, Any], role: str) -> bool:
    return answers.get("annex_iii_area", "none") not in ("none", None)


def _deployer_annex_iii(answers: Mapping[str, Any], role: str) -> bool:
    return role == "deployer" and _annex_iii(answers, role)


def _gpai(answers: Mapping[str, Any], role: str) -> bool:
    return answers.get("general_purpose_ai_model") is True


QUESTIONS: tuple[Question, ...] = (
    Question(
        "prohibited_practices",
        "Which of the practices of Art. 5 does the system engage in? (empty list: none)",
        "choices",
        tuple(PROHIBITED_PRACTICES),
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
        "public_service_deployer",
        "Is the deployer a body governed by public law or a private entity providing public "
        "services? (Art. 27(1))",
        "bool",
        when=_deployer_annex_iii,
        when_text="asked of deployers when annex_iii_area is not 'none'",
    ),
    *(
        Question(key, f"{article}: does the system {text.split(':')[0]}?", "bool")
        for key, (article, text) in TRANSPARENCY_CASES.items()
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
)
QUESTION_KEYS = {q.key for q in QUESTIONS}


class QuestionnaireError(ValueError):
    """Answers that cannot be classified: per question, what is wrong."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__(", ".join(sorted(problems)))
        self.problems = problems


def validate_answers(answers: Any, *, role: str) -> dict[str, Any]:
    """The answers, checked: each question that applies answered with a valid value;
    no question that does not exist. Raises QuestionnaireError naming every problem."""
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
            problems[question.key] = ["Unanswered."]
            continue
        value = answers[question.key]
        if question.kind == "bool" and not isinstance(value, bool):
            problems[question.key] = ["Must be true or false."]
        elif question.kind == "choice" and value not in question.options:
            problems[question.key] = [f"Must be one of: {', '.join(question.options)}."]
        elif question.kind == "choices" and (
            not isinstance(value, list) or any(v not in question.options for v in value)
        ):
            problems[question.key] = [f"Must be a list drawn from: {', '.join(question.options)}."]
        else:
            clean[question.key] = sorted(set(value)) if question.kind == "choices" else value
    if problems:
        raise QuestionnaireError(problems)
    return clean


# --- Classification -------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    category: str
    high_risk_basis: str  # "annex_i", "annex_iii" or ""
    annex_iii_area: str
    exemption: str
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
    tier first (Art. 5, Art. 6), then the duties that add to it (Art. 50, Art. 53)."""
    prohibited = list(answers["prohibited_practices"])
    area = answers["annex_iii_area"] if answers["annex_iii_area"] != "none" else ""
    transparency = [k for k in TRANSPARENCY_CASES if answers[k]]
    gpai = answers["general_purpose_ai_model"]
    systemic = bool(gpai and answers.get("systemic_risk"))

    finding = _risk_tier(answers, prohibited=prohibited, area=area)
    _add_transparency(finding, transparency)
    _add_general_purpose_ai(finding, gpai=gpai, systemic=systemic)
    flags = {
        "prohibited_practices": prohibited,
        "annex_iii_exempted": bool(finding.exemption),
        "transparency": transparency,
        "general_purpose_ai_model": gpai,
        "systemic_risk": systemic,
        "public_service_deployer": bool(answers.get("public_service_deployer")),
    }
    return Outcome(
        category=finding.category,
        high_risk_basis=finding.basis,
        annex_iii_area=area,
        exemption=finding.exemption,
        flags=flags,
        rationale=finding.rationale,
        citations=list(dict.fromkeys(finding.citations)),
    )


def _risk_tier(answers: Mapping[str, Any], *, prohibited: list[str], area: str) -> _Finding:
    """Prohibited (Art. 5) before high-risk under Annex I (Art. 6(1)), before an Annex III
    area (Art. 6(2), (3)), before minimal risk."""
    if prohibited:
        finding = _Finding("prohibited")
        for code in prohibited:
            article, text = PROHIBITED_PRACTICES[code]
            finding.rationale.append(f"Prohibited practice: {text} ({article}).")
            finding.citations.append(article)
        return finding
    if answers["annex_i_safety_component"]:
        return _Finding(
            "high_risk",
            basis="annex_i",
            rationale=[
                "Product or safety component under Annex I legislation requiring a third-party "
                "conformity assessment: high-risk (Art. 6(1))."
            ],
            citations=["Art. 6(1)"],
        )
    if area:
        return _annex_iii_tier(answers, area=area)
    return _Finding(
        "minimal_risk",
        rationale=["No prohibited practice, no Annex I product, no Annex III area."],
    )


def _annex_iii_tier(answers: Mapping[str, Any], *, area: str) -> _Finding:
    """An Annex III use is high-risk unless an Art. 6(3) condition applies; profiling
    makes it high-risk whatever the condition (Art. 6(3), last subparagraph)."""
    article, text = ANNEX_III_AREAS[area]
    citations = ["Art. 6(2)", article]
    if answers["profiling"]:
        return _Finding(
            "high_risk",
            basis="annex_iii",
            rationale=[
                f"Intended use in {text} ({article}) with profiling of natural persons: "
                "always high-risk, no Art. 6(3) exemption applies (Art. 6(3), last subparagraph)."
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
                f"Intended use in {text} ({article}), but the system {ex_text} ({ex_article}) and "
                "does not profile natural persons: not high-risk. The provider must document "
                "this assessment before placing it on the market (Art. 6(4)) and still "
                "register the system (Art. 49(2))."
            ],
            citations=[*citations, ex_article, "Art. 6(4)", "Art. 49(2)"],
        )
    return _Finding(
        "high_risk",
        basis="annex_iii",
        rationale=[f"Intended use in {text} ({article}): high-risk (Art. 6(2))."],
        citations=citations,
    )


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


def _high_risk_date(profile: Profile) -> str:
    return "annex_i_high_risk" if profile.high_risk_basis == "annex_i" else "annex_iii_high_risk"


# The date key of a high-risk duty: Annex I or Annex III, by the system's high-risk basis.
HIGH_RISK = "high_risk"


@dataclass(frozen=True)
class ObligationRule:
    """One obligation of the Act and which systems it binds: the rule as data."""

    code: str
    article: str
    requirement: str
    date_key: str  # a key of DATES, or HIGH_RISK
    evidence: str
    applies: Callable[[Profile], bool]

    def obligation(self, profile: Profile) -> Obligation:
        date_key = _high_risk_date(profile) if self.date_key == HIGH_RISK else self.date_key
        return Obligation(self.code, self.article, self.requirement, date_key, self.evidence)


def _provider(profile: Profile) -> bool:
    return profile.role == "provider"


def _everyone(profile: Profile) -> bool:
    return True


def _prohibited(profile: Profile) -> bool:
    return profile.category == "prohibited"


def _high_risk_provider(profile: Profile) -> bool:
    return profile.category == "high_risk" and _provider(profile)


def _high_risk_deployer(profile: Profile) -> bool:
    return profile.category == "high_risk" and not _provider(profile)


def _fria_deployer(profile: Profile) -> bool:
    """Art. 27(1): every deployer of an Annex III point 5 system, and deployers that are
    public bodies or provide public services, except for Annex III point 2."""
    return (
        _high_risk_deployer(profile)
        and profile.high_risk_basis == "annex_iii"
        and bool(
            profile.annex_iii_area == "essential_services"
            or (
                profile.flags.get("public_service_deployer")
                and profile.annex_iii_area != "critical_infrastructure"
            )
        )
    )


def _exempted_provider(profile: Profile) -> bool:
    return bool(profile.flags.get("annex_iii_exempted")) and _provider(profile)


# Art. 50(1) and (2) bind providers, (3) and (4) deployers.
_PROVIDER_TRANSPARENCY = ("interacts_with_persons", "generates_synthetic_content")


def _transparency(key: str) -> Callable[[Profile], bool]:
    """The Art. 50 case ``key``, for the role it binds."""
    provider_duty = key in _PROVIDER_TRANSPARENCY

    def applies(profile: Profile) -> bool:
        declared = key in (profile.flags.get("transparency") or [])
        return declared and provider_duty == _provider(profile)

    return applies


def _gpai_provider(profile: Profile) -> bool:
    return bool(profile.flags.get("general_purpose_ai_model")) and _provider(profile)


def _systemic_gpai_provider(profile: Profile) -> bool:
    return _gpai_provider(profile) and bool(profile.flags.get("systemic_risk"))


_PROVIDER_HIGH_RISK = (
    ("art_9", "Art. 9", "Run a risk-management system over the whole lifecycle.", "risks"),
    ("art_10", "Art. 10", "Govern training, validation and test data (datasheets).", "datasets"),
    ("art_11", "Art. 11", "Draw up technical documentation (Annex IV).", "attested"),
    ("art_12", "Art. 12", "Record events automatically over the system's lifetime.", "logs"),
    ("art_13", "Art. 13", "Give deployers instructions for use.", "attested"),
    ("art_14", "Art. 14", "Design for effective human oversight.", "approvals"),
    (
        "art_15",
        "Art. 15",
        "Achieve declared accuracy, robustness and cybersecurity.",
        "assessments",
    ),
    ("art_17", "Art. 17", "Put a quality-management system in place.", "attested"),
    (
        "art_18",
        "Art. 18",
        "Keep the documentation for 10 years after placing on the market.",
        "ledger",
    ),
    ("art_19", "Art. 19", "Keep automatically generated logs for at least six months.", "ledger"),
    (
        "art_43",
        "Art. 43",
        "Undergo the conformity assessment before placing on the market.",
        "attested",
    ),
    ("art_47", "Art. 47", "Draw up the EU declaration of conformity.", "attested"),
    ("art_49", "Art. 49(1)", "Register the system in the EU database.", "attested"),
    ("art_72", "Art. 72", "Run post-market monitoring under a plan.", "attested"),
    (
        "art_73",
        "Art. 73",
        "Report serious incidents to the market-surveillance authority.",
        "incidents",
    ),
)


# Walked in this order; each rule that applies to a profile gives one checklist item.
OBLIGATION_RULES: tuple[ObligationRule, ...] = (
    ObligationRule(
        "art_4",
        "Art. 4",
        "Ensure staff dealing with the system have AI literacy.",
        "ai_literacy",
        "attested",
        _everyone,
    ),
    ObligationRule(
        "art_5",
        "Art. 5",
        "Do not place on the market, put into service or use: the practice is prohibited.",
        "prohibitions",
        "never",
        _prohibited,
    ),
    *(
        ObligationRule(code, article, text, HIGH_RISK, evidence, _high_risk_provider)
        for code, article, text, evidence in _PROVIDER_HIGH_RISK
    ),
    ObligationRule(
        "art_26",
        "Art. 26",
        "Use per instructions, assign human oversight, monitor, keep logs six "
        "months, inform the provider and authorities of risks and incidents.",
        HIGH_RISK,
        "approvals",
        _high_risk_deployer,
    ),
    ObligationRule(
        "art_27",
        "Art. 27",
        "Assess the impact on fundamental rights before first use.",
        HIGH_RISK,
        "fria",
        _fria_deployer,
    ),
    ObligationRule(
        "art_6_4",
        "Art. 6(4)",
        "Document the assessment that the Annex III system is not high-risk.",
        "annex_iii_high_risk",
        "classification",
        _exempted_provider,
    ),
    ObligationRule(
        "art_49_2",
        "Art. 49(2)",
        "Register the exempted system in the EU database.",
        "annex_iii_high_risk",
        "attested",
        _exempted_provider,
    ),
    *(
        ObligationRule(
            f"art_50_{article[8]}",
            article,
            text[0].upper() + text[1:] + ".",
            "transparency",
            "attested",
            _transparency(key),
        )
        for key, (article, text) in TRANSPARENCY_CASES.items()
    ),
    ObligationRule(
        "art_53",
        "Art. 53",
        "Keep technical documentation, inform downstream providers, respect copyright, "
        "publish a training-content summary.",
        "general_purpose_ai",
        "attested",
        _gpai_provider,
    ),
    ObligationRule(
        "art_55",
        "Art. 55",
        "Evaluate and mitigate systemic risk, report serious incidents, ensure cybersecurity.",
        "general_purpose_ai",
        "attested",
        _systemic_gpai_provider,
    ),
)


def obligations_for(profile: Profile) -> list[tuple[Obligation, ApplicationDate]]:
    """The checklist for one system: obligation and the date it applies from."""
    items = [rule.obligation(profile) for rule in OBLIGATION_RULES if rule.applies(profile)]
    return [(o, DATES[o.date_key]) for o in items]
