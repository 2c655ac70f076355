"""Isolation cases for the registry routes (see tests/api_routes.py)."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.registry.artifacts import artifact_store
from apps.registry.models import ModelSigner
from audit_platform.principal import Principal
from tests import factories
from tests.api_routes import DETAIL, RouteCase


def victim(org) -> dict[str, Any]:
    """One record of every registry kind, made through the services."""
    system = factories.AISystemFactory(organization=org, name="Victim system")
    dataset = factories.DatasetFactory(system=system, name="victim-data")
    dataset_version = factories.DatasetVersionFactory(
        dataset=dataset, sha256="aa" * 32, split="train", uri="s3://victim"
    )
    run = factories.TrainingRunFactory(system=system)
    model = factories.ModelFactory(system=system, name="victim-model")
    model_version = factories.ModelVersionFactory(
        model=model, artifact_sha256="bb" * 32, uri="s3://victim-model"
    )
    deployment = factories.DeploymentFactory(
        system=system, environment="prod", serving=model_version
    )
    batch = factories.PredictionBatchFactory(
        deployment=deployment, input_sha256="cc" * 32, output_sha256="dd" * 32
    )
    artifact, _ = artifact_store(
        organization=org,
        uploaded=SimpleUploadedFile("victim.bin", b"victim bytes"),
        declared_sha256=None,
        actor=Principal.system(organization=org, name="isolation"),
    )
    signer = ModelSigner.objects.create(
        organization=org, name="victim-signer", kind="key", pem="-", fingerprint_sha256="ee" * 32
    )
    return {
        "artifact": artifact,
        "signer": signer,
        "system": system,
        "dataset": dataset,
        "dataset_version": dataset_version,
        "run": run,
        "model": model,
        "model_version": model_version,
        "deployment": deployment,
        "batch": batch,
    }


def secrets(objects: dict[str, Any]) -> list[str]:
    return ["Victim system", "victim-model", "victim-data"]


CASES = {
    "artifact-list": RouteCase("get", lambda v: {}, 200),
    "artifact-content": RouteCase("get", lambda v: {"sha256": v["artifact"].sha256}, DETAIL),
    "system-list": RouteCase("get", lambda v: {}, 200),
    "system-detail": RouteCase("get", lambda v: {"pk": v["system"].pk}, DETAIL),
    "system-status": RouteCase("post", lambda v: {"pk": v["system"].pk}, DETAIL),
    "system-provider": RouteCase("post", lambda v: {"pk": v["system"].pk}, DETAIL),
    "dataset-list": RouteCase("get", lambda v: {}, 200),
    "dataset-detail": RouteCase("get", lambda v: {"pk": v["dataset"].pk}, DETAIL),
    "dataset-version-list": RouteCase("get", lambda v: {"dataset_pk": v["dataset"].pk}, DETAIL),
    "dataset-version-detail": RouteCase(
        "get",
        lambda v: {"dataset_pk": v["dataset"].pk, "pk": v["dataset_version"].pk},
        DETAIL,
    ),
    "model-list": RouteCase("get", lambda v: {}, 200),
    "model-signer-list": RouteCase("get", lambda v: {}, 200),
    "model-signer-revoke": RouteCase(
        "post", lambda v: {"pk": v["signer"].pk}, DETAIL, body={"reason": "leaked"}
    ),
    "model-detail": RouteCase("get", lambda v: {"pk": v["model"].pk}, DETAIL),
    "model-version-list": RouteCase("post", lambda v: {"model_pk": v["model"].pk}, DETAIL),
    "model-version-detail": RouteCase(
        "get",
        lambda v: {"model_pk": v["model"].pk, "pk": v["model_version"].pk},
        DETAIL,
    ),
    "training-run-list": RouteCase("get", lambda v: {}, 200),
    "training-run-detail": RouteCase("get", lambda v: {"pk": v["run"].pk}, DETAIL),
    "training-run-complete": RouteCase("post", lambda v: {"pk": v["run"].pk}, DETAIL),
    "training-run-fail": RouteCase("post", lambda v: {"pk": v["run"].pk}, DETAIL),
    "training-run-abandon": RouteCase("post", lambda v: {"pk": v["run"].pk}, DETAIL),
    "deployment-list": RouteCase("get", lambda v: {}, 200),
    "deployment-detail": RouteCase("get", lambda v: {"pk": v["deployment"].pk}, DETAIL),
    "deployment-activate": RouteCase("post", lambda v: {"pk": v["deployment"].pk}, DETAIL),
    "deployment-rollback": RouteCase("post", lambda v: {"pk": v["deployment"].pk}, DETAIL),
    "deployment-history": RouteCase("get", lambda v: {"pk": v["deployment"].pk}, DETAIL),
    "deployment-served-at": RouteCase("get", lambda v: {"pk": v["deployment"].pk}, DETAIL),
    "prediction-batch-list": RouteCase("get", lambda v: {}, 200),
    "prediction-batch-detail": RouteCase("get", lambda v: {"pk": v["batch"].pk}, DETAIL),
    "prediction-batch-files": RouteCase("post", lambda v: {"pk": v["batch"].pk}, DETAIL),
    "prediction-batch-rows": RouteCase("post", lambda v: {"pk": v["batch"].pk}, DETAIL),
}
CASES["deployment-served-at"] = RouteCase(
    "get", lambda v: {"pk": v["deployment"].pk}, DETAIL, query={"at": "2030-01-01T00:00:00Z"}
)

# Bodies valid for the victim, so that only the organization differs.
CASES["model-version-list"] = RouteCase(
    CASES["model-version-list"].method,
    CASES["model-version-list"].kwargs,
    DETAIL,
    body={
        "version": "x",
        "artifact_sha256": "ab" * 32,
        "artifact_format": "onnx",
        "framework": "onnx",
        "framework_version": "1",
        "uri": "s3://x",
    },
)
CASES["training-run-complete"] = RouteCase(
    CASES["training-run-complete"].method,
    CASES["training-run-complete"].kwargs,
    DETAIL,
    body={"metrics": {}},
)
CASES["training-run-fail"] = RouteCase(
    CASES["training-run-fail"].method,
    CASES["training-run-fail"].kwargs,
    DETAIL,
    body={"reason": "x"},
)
CASES["training-run-abandon"] = RouteCase(
    CASES["training-run-abandon"].method,
    CASES["training-run-abandon"].kwargs,
    DETAIL,
    body={"reason": "x"},
)
CASES["deployment-rollback"] = RouteCase(
    CASES["deployment-rollback"].method,
    CASES["deployment-rollback"].kwargs,
    DETAIL,
    body={"reason": "x"},
)
CASES["prediction-batch-files"] = RouteCase(
    CASES["prediction-batch-files"].method,
    CASES["prediction-batch-files"].kwargs,
    DETAIL,
    body={"input_sha256": "cc" * 32, "output_sha256": "dd" * 32},
)
