"""Questionnaire answers for tests: a minimal-risk baseline with overrides."""

from __future__ import annotations

from typing import Any

BASELINE: dict[str, Any] = {
    "prohibited_practices": [],
    "annex_i_safety_component": False,
    "annex_iii_area": "none",
    "interacts_with_persons": False,
    "generates_synthetic_content": False,
    "emotion_recognition_or_biometric_categorisation": False,
    "deep_fake_or_public_interest_text": False,
    "general_purpose_ai_model": False,
}


def answers(role: str = "provider", **overrides: Any) -> dict[str, Any]:
    """Baseline answers; an Annex III area adds its follow-up questions (no profiling,
    no exemption, not a public-service deployer) unless overridden."""
    out = {**BASELINE, **overrides}
    if out["annex_iii_area"] != "none":
        out.setdefault("profiling", False)
        out.setdefault("art_6_3_exemption", "none")
        if role == "deployer":
            out.setdefault("public_service_deployer", False)
    if out["general_purpose_ai_model"]:
        out.setdefault("systemic_risk", False)
    return out
