"""MLflow runs, registered model versions and aliases imported from a local store made
with the real MLflow client: each recorded once however often it is imported; alias
changes from MLflow's signed registry webhooks, unattributed."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.core.management import call_command
from django.urls import reverse
from mlflow import MlflowClient
from mlflow.webhooks.delivery import _generate_hmac_signature

from apps.integrations.models import MlflowConnection
from apps.registry.models import ModelVersion, TrainingRun
from tests import factories
from tests.support import entry_types, last_entry, sha256

pytestmark = pytest.mark.django_db

MODEL_FILE = b'{"learner": {"gradient_booster": {}}, "version": [2, 1, 0]}'


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A local MLflow store: a finished run with a model, a failed run, a registered
    model with two versions of the finished run, and the alias champion on v2."""
    # MLflow 3 keeps its file store in maintenance mode, behind this switch.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = (tmp_path / "mlruns").as_uri()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("credit")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "model.json").write_bytes(MODEL_FILE)
    (model_dir / "MLmodel").write_text("flavors:\n  xgboost:\n    xgb_version: 2.1.3\n")
    finished = client.create_run(experiment, tags={"team": "risk"})
    run_id = finished.info.run_id
    client.log_param(run_id, "max_depth", "4")
    client.log_metric(run_id, "auc", 0.91)
    client.log_artifacts(run_id, str(model_dir), artifact_path="model")
    client.set_terminated(run_id, status="FINISHED")
    failed = client.create_run(experiment)
    client.set_terminated(failed.info.run_id, status="FAILED")
    client.create_registered_model("scorer")
    for _ in range(2):
        client.create_model_version("scorer", f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias("scorer", "champion", "2")
    return uri, client


def _import(org, system, uri: str) -> None:
    call_command("import_mlflow", tracking_uri=uri, org=org.slug, system=str(system.pk))


def test_importing_twice_records_each_run_and_version_once(org, store):
    uri, _ = store
    system = factories.AISystemFactory(organization=org, name="Credit scoring")

    _import(org, system, uri)
    size = len(entry_types(org))
    _import(org, system, uri)

    assert len(entry_types(org)) == size
    runs = {run.status: run for run in TrainingRun.objects.filter(system=system)}
    assert set(runs) == {"completed", "failed"}
    assert runs["completed"].params == {"max_depth": "4"}
    assert runs["completed"].metrics == {"auc": 0.91}
    assert runs["completed"].environment["mlflow"]["tags"] == {"team": "risk"}
    versions = ModelVersion.objects.filter(model__system=system).order_by("version")
    assert [(v.version, v.artifact_sha256, v.artifact_format) for v in versions] == [
        ("1", sha256(MODEL_FILE), "xgboost-json"),
        ("2", sha256(MODEL_FILE), "xgboost-json"),
    ]
    assert versions[0].training_run == runs["completed"]
    assert versions[0].framework_version == "2.1.3"
    alias = last_entry(org, "mlflow_alias.changed")["data"]
    assert (alias["alias"], alias["mlflow_version"], alias["attributed"]) == (
        "champion",
        "2",
        False,
    )
    assert entry_types(org).count("mlflow_alias.changed") == 1


def test_a_moved_alias_is_recorded_on_the_next_import(org, store):
    uri, client = store
    system = factories.AISystemFactory(organization=org, name="Credit scoring")
    _import(org, system, uri)

    client.set_registered_model_alias("scorer", "champion", "1")
    _import(org, system, uri)

    assert entry_types(org).count("mlflow_alias.changed") == 2
    assert last_entry(org, "mlflow_alias.changed")["data"]["mlflow_version"] == "1"


def _deliver(client, connection, payload: dict, *, secret: str | None = None, delivery=None):
    body = json.dumps(payload)
    delivery = delivery or str(uuid.uuid4())
    timestamp = str(int(time.time()))
    signature = _generate_hmac_signature(
        secret or connection.webhook_secret, delivery, timestamp, body
    )
    return client.post(
        reverse("mlflow-webhook", kwargs={"pk": connection.pk}),
        body,
        content_type="application/json",
        HTTP_X_MLFLOW_DELIVERY_ID=delivery,
        HTTP_X_MLFLOW_TIMESTAMP=timestamp,
        HTTP_X_MLFLOW_SIGNATURE=signature,
    )


def test_signed_webhooks_record_alias_changes_unattributed_and_once(org, store, client):
    uri, _ = store
    system = factories.AISystemFactory(organization=org, name="Credit scoring")
    _import(org, system, uri)
    connection = MlflowConnection.objects.get()
    moved = {
        "entity": "model_version_alias",
        "action": "created",
        "timestamp": "2026-12-02T06:00:00+00:00",
        "data": {"name": "scorer", "alias": "challenger", "version": "1"},
    }

    first = _deliver(client, connection, moved, delivery="d-1")
    again = _deliver(client, connection, moved, delivery="d-1")
    forged = _deliver(client, connection, moved, secret="not-the-secret")

    assert (first.status_code, first.json()["aliases"]) == (200, 1)
    assert again.json()["duplicate"] is True
    assert forged.status_code == 403
    entry = last_entry(org, "mlflow_alias.changed")
    assert entry["data"]["alias"] == "challenger" and entry["data"]["attributed"] is False
    assert entry["actor"] == {"kind": "system", "id": "mlflow_webhook", "name": "mlflow_webhook"}
    assert entry_types(org).count("mlflow_alias.changed") == 2


def test_a_webhook_for_a_new_version_imports_it(org, store, client):
    uri, mlflow_client = store
    system = factories.AISystemFactory(organization=org, name="Credit scoring")
    _import(org, system, uri)
    connection = MlflowConnection.objects.get()
    run_id = mlflow_client.get_model_version("scorer", "1").run_id
    mlflow_client.create_model_version("scorer", f"runs:/{run_id}/model", run_id=run_id)

    response = _deliver(
        client,
        connection,
        {
            "entity": "model_version",
            "action": "created",
            "data": {"name": "scorer", "version": "3"},
        },
    )

    assert response.status_code == 200 and response.json()["model_versions"] == 1
    assert ModelVersion.objects.filter(model__system=system, version="3").exists()


def test_the_api_action_queues_an_import(org, store, owner, django_capture_on_commit_callbacks):
    uri, _ = store
    system = factories.AISystemFactory(organization=org, name="Credit scoring")
    created = owner.post(
        reverse("mlflow-connection-list"),
        {"tracking_uri": uri, "system_id": system.pk},
        format="json",
    )
    assert created.status_code == 201 and created.json()["webhook_secret"]

    with django_capture_on_commit_callbacks(execute=True):
        queued = owner.post(
            reverse("mlflow-import", kwargs={"pk": created.json()["id"]}),
            {"experiment": "credit"},
            format="json",
        )

    assert queued.status_code == 202
    task = owner.get(reverse("task-detail", kwargs={"pk": queued.json()["task"]})).json()
    assert task["state"] == "succeeded", task
    assert TrainingRun.objects.filter(system=system).count() == 2
    assert ModelVersion.objects.filter(model__system=system).count() == 2
