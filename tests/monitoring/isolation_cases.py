"""Isolation cases for the monitoring routes (tests/api_routes.py)."""

from __future__ import annotations

from typing import Any

from apps.monitoring import services
from apps.monitoring.models import Alert
from apps.monitoring.services.alerts import trigger_create
from tests import factories
from tests.api_routes import DETAIL, RouteCase
from tests.monitoring.conftest import frame, record_batch

CAUSE = "victim-only cause 7f3a"


def victim(org) -> dict[str, Any]:
    """A policy with a drift report, a performance estimate, an alert and a trigger."""
    version = factories.ModelVersionFactory(
        model__system__organization=org, metrics={"accuracy": 0.9}
    )
    system = version.model.system
    deployment = factories.DeploymentFactory(system=system, serving=version, environment="mon")
    reference = factories.DatasetVersionFactory(dataset__system=system, columns=frame(50, seed=1))
    actor = factories.tests_actor(org)
    policy, _, _ = services.monitoring_policy_set(
        actor=actor, deployment=deployment, reference_dataset_version=reference
    )
    batch = record_batch(deployment, frame(50, seed=2))
    drift = services.drift_report_for_batch(batch_id=batch.pk)
    performance = services.performance_estimate_for_batch(batch_id=batch.pk)
    alert = services.alert_raise(
        policy=policy,
        kind=Alert.Kind.DRIFT,
        severity=Alert.Severity.WARNING,
        cause=CAUSE,
        figures={},
        links={},
    )
    return {
        "monitoring_policy": policy,
        "monitored_batch": batch,
        "drift_report": drift,
        "performance_report": performance,
        "alert": alert,
        "trigger": trigger_create(alert=alert),
    }


def secrets(objects: dict[str, Any]) -> list[str]:
    return [objects["monitoring_policy"].webhook_secret, CAUSE]


def _pk(kind: str):
    return lambda v: {"pk": v[kind].pk}


CASES = {
    "monitoring-policy-list": RouteCase("get", lambda v: {}, 200),
    "monitoring-policy-detail": RouteCase("get", _pk("monitoring_policy"), DETAIL),
    "monitoring-policy-window": RouteCase(
        "post",
        _pk("monitoring_policy"),
        DETAIL,
        body={"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"},
    ),
    "drift-report-list": RouteCase("get", lambda v: {}, 200),
    "drift-report-detail": RouteCase("get", _pk("drift_report"), DETAIL),
    "drift-report-charts": RouteCase("get", _pk("drift_report"), DETAIL),
    "performance-list": RouteCase("get", lambda v: {}, 200),
    "performance-detail": RouteCase("get", _pk("performance_report"), DETAIL),
    "batch-labels": RouteCase(
        "post", _pk("monitored_batch"), DETAIL, body={"rows": [0], "labels": [1]}
    ),
    "alert-list": RouteCase("get", lambda v: {}, 200),
    "alert-detail": RouteCase("get", _pk("alert"), DETAIL),
    "alert-acknowledge": RouteCase("post", _pk("alert"), DETAIL, body={"note": "seen"}),
    "alert-resolve": RouteCase("post", _pk("alert"), DETAIL, body={"note": "done"}),
    "trigger-list": RouteCase("get", lambda v: {}, 200),
    "trigger-detail": RouteCase("get", _pk("trigger"), DETAIL),
}
