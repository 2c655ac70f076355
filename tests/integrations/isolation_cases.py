"""Isolation cases for the integration routes (see tests/api_routes.py)."""

from __future__ import annotations

from typing import Any

from apps.integrations import mlflow_import, services
from tests import factories
from tests.api_routes import DETAIL, RouteCase


def victim(org) -> dict[str, Any]:
    system = factories.AISystemFactory(organization=org, name="Victim lineage system")
    run = factories.TrainingRunFactory(system=system)
    model_version = factories.ModelVersionFactory(
        model__system=system, artifact_sha256="bb" * 32, uri="s3://victim-model"
    )
    deployment = factories.DeploymentFactory(
        system=system, environment="prod", serving=model_version
    )
    batch = factories.PredictionBatchFactory(deployment=deployment)
    services.lineage_job_map(
        actor=factories.tests_actor(org),
        namespace="victim-namespace",
        name="victim-job",
        kind="training_run",
        system=system,
    )
    connection, _ = mlflow_import.mlflow_connection_create(
        actor=factories.tests_actor(org), tracking_uri="http://victim-mlflow:5000", system=system
    )
    return {"lineage_run": run, "lineage_batch": batch, "mlflow_connection": connection}


def secrets(objects: dict[str, Any]) -> list[str]:
    return ["Victim lineage system", "victim-namespace", "victim-job", "victim-mlflow"]


CASES = {
    "openlineage-events": RouteCase("get", lambda v: {}, 200),
    "openlineage-job-list": RouteCase("get", lambda v: {}, 200),
    "openlineage-training-run": RouteCase("get", lambda v: {"pk": v["lineage_run"].pk}, DETAIL),
    "openlineage-prediction-batch": RouteCase(
        "get", lambda v: {"pk": v["lineage_batch"].pk}, DETAIL
    ),
    "mlflow-connection-list": RouteCase("get", lambda v: {}, 200),
    "mlflow-import": RouteCase("post", lambda v: {"pk": v["mlflow_connection"].pk}, DETAIL),
    # Authenticated by the connection's HMAC secret, which another organization lacks.
    "mlflow-webhook": RouteCase(
        "post",
        lambda v: {"pk": v["mlflow_connection"].pk},
        403,
        body={"entity": "model_version_alias", "action": "created", "data": {}},
    ),
    "openlineage-facet-schema": RouteCase("get", lambda v: {"name": "AuditTrailRunFacet"}, 200),
}
