"""What compliance's free-form request fields accept, for the OpenAPI schema; built
from the questionnaire and the metric table the services check against."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.compliance import rules
from apps.compliance.metrics import METRICS
from audit_platform.schema import JSON_VALUE, documented


def _answer(question: rules.Question) -> dict[str, Any]:
    asked = f" Asked only {question.when_text}." if question.when_text else ""
    described = {"description": f"{question.text}{asked}"}
    if question.kind == "bool":
        return {"type": "boolean", **described}
    if question.kind == "choice":
        return {"type": "string", "enum": list(question.options), **described}
    if question.kind == "choices":
        items = {"type": "string", "enum": list(question.options)}
        return {"type": "array", "items": items, **described}
    return {
        "type": "string",
        **described,
        "description": f"{described['description']} An ISO date (YYYY-MM-DD) or '{rules.NOT_YET}'.",
    }


ANSWERS: dict[str, Any] = {
    "type": "object",
    "description": "Answers keyed by question (GET /api/v1/compliance/questionnaire); "
    "answer every question that applies, and none that does not.",
    "properties": {question.key: _answer(question) for question in rules.QUESTIONS},
    "additionalProperties": False,
}

_BOUNDS = {
    "type": "object",
    "properties": {"min": {"type": "number"}, "max": {"type": "number"}},
    "minProperties": 1,
    "additionalProperties": False,
}
THRESHOLDS: dict[str, Any] = {
    "type": "object",
    "description": "Metric -> the bounds its value must meet, fixed before the run "
    "(Art. 9(8)). Only metrics of the assessment's kind and task are accepted.",
    "properties": {name: _BOUNDS for name in METRICS},
    "minProperties": 1,
    "additionalProperties": False,
    "example": {"accuracy": {"min": 0.8}},
}

DECISION: dict[str, Any] = {
    **JSON_VALUE,
    "description": "The decision as the system expresses it (a label, a score, an object).",
}

AnswersField = documented(serializers.JSONField, ANSWERS)
ThresholdsField = documented(serializers.JSONField, THRESHOLDS)
DecisionField = documented(serializers.JSONField, DECISION)

GPAI_DATA: dict[str, Any] = {
    "type": "object",
    "description": "The facts of a general-purpose AI model its provider states, field by "
    "field (null removes one); figures the record computes are not typed here.",
    "properties": {
        f.key: {
            "type": "string",
            "nullable": True,
            "description": f"{f.label} ({'; '.join(f.sources)})"
            + (" Systemic risk only." if f.systemic_only else ""),
        }
        for f in rules.GPAI_FIELDS.values()
    },
    "minProperties": 1,
    "additionalProperties": False,
}
GpaiDataField = documented(serializers.JSONField, GPAI_DATA)
