"""Isolation cases for the fleet routes (tests/api_routes.py)."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from apps.fleet.models import RoutingRefusal
from apps.fleet.services.online import online_decisions_log, online_seal
from tests import factories
from tests.api_routes import DETAIL, RouteCase


def victim(org) -> dict[str, Any]:
    """A deployment with one sealed online decision."""
    version = factories.ModelVersionFactory(
        model__system__organization=org, artifact_sha256="ab" * 32, uri="s3://online"
    )
    deployment = factories.DeploymentFactory(
        system=version.model.system, environment="online", serving=version
    )
    online_decisions_log(
        deployment=deployment,
        lines=[{"id": "victim-decision", "input": {"secret": "victim-input"}, "output": 0.5}],
    )
    online_seal(deployment_id=deployment.pk, force=True)
    RoutingRefusal.objects.create(
        organization=org,
        model_version=version,
        kind="prediction_batch",
        reason="victim-refusal",
        at=timezone.now(),
    )
    return {"online_deployment": deployment}


def secrets(objects: dict[str, Any]) -> list[str]:
    return ["victim-decision", "victim-refusal"]


def _pk(v: dict[str, Any]) -> dict[str, Any]:
    return {"pk": v["online_deployment"].pk}


CASES = {
    "online-summary": RouteCase("get", _pk, DETAIL),
    "online-cloudevents": RouteCase("post", _pk, DETAIL, body={"instances": [[1]]}),
    "online-decisions": RouteCase("post", _pk, DETAIL, body={"id": "x"}),
    "online-decision-receipt": RouteCase(
        "get", lambda v: {**_pk(v), "request_id": "victim-decision"}, DETAIL
    ),
    "online-exchange-list": RouteCase("get", _pk, DETAIL),
    "online-seal": RouteCase("post", _pk, DETAIL),
    "serving-policy": RouteCase("get", lambda v: {}, 200),
    # The workers are the service's own, shared by every organization (no victim).
    "worker-list": RouteCase("get", lambda v: {}, 200),
    "worker-detail": RouteCase(
        "get", lambda v: {"pk": "019ad3c2-0000-7000-8000-000000000000"}, DETAIL
    ),
    "heartbeat-rejection-list": RouteCase("get", lambda v: {}, 200),
    "routing-refusal-list": RouteCase("get", lambda v: {}, 200),
    "queue-alert-list": RouteCase("get", lambda v: {}, 200),
    "queue-alert-acknowledge": RouteCase(
        "post", lambda v: {"pk": uuid.uuid4()}, DETAIL, body={"note": "x"}
    ),
    "queue-alert-resolve": RouteCase(
        "post", lambda v: {"pk": uuid.uuid4()}, DETAIL, body={"note": "x"}
    ),
    "resource-profile": RouteCase(
        "get",
        lambda v: {
            "model_pk": v["online_deployment"].model_version.model_id,
            "pk": v["online_deployment"].model_version_id,
        },
        DETAIL,
    ),
    "energy": RouteCase("get", lambda v: {}, 200),
    "energy-chart": RouteCase("get", lambda v: {}, 200),
}
