"""Isolation cases for the inference and explainability routes (tests/api_routes.py)."""

from __future__ import annotations

from typing import Any

from tests import factories
from tests.api_routes import DETAIL, RouteCase


def victim(org) -> dict[str, Any]:
    """An explanation record of the victim (the registry module makes its batch)."""
    explanation = factories.ExplanationFactory(model_version__model__system__organization=org)
    return {"explanation": explanation}


def secrets(objects: dict[str, Any]) -> list[str]:
    return ["cc" * 32, objects["explanation"].input_sha256]


CASES = {
    "prediction-batch-run": RouteCase(
        "post",
        lambda v: {},
        400,
        body={"deployment_id": 0, "input_sha256": "cc" * 32},
    ),
    "prediction-batch-output": RouteCase("get", lambda v: {"pk": v["batch"].pk}, DETAIL),
    "prediction-batch-row-receipt": RouteCase(
        "get", lambda v: {"pk": v["batch"].pk, "n": 0}, DETAIL
    ),
    "explanation-list": RouteCase("get", lambda v: {}, 200),
    "explanation-detail": RouteCase("get", lambda v: {"pk": v["explanation"].pk}, DETAIL),
    "explanation-values": RouteCase("get", lambda v: {"pk": v["explanation"].pk}, DETAIL),
}
