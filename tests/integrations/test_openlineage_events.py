"""OpenLineage RunEvents at POST /api/v1/openlineage: a mapped job's runs become
training runs or prediction batches, their datasets dataset versions, all on the
ledger; the event is kept whole; malformed events are refused naming the problem."""

from __future__ import annotations

import gzip
import json

import pytest
from django.urls import reverse

from apps.integrations import services
from apps.integrations.models import LineageEvent, LineageJobMapping
from apps.registry.models import DatasetVersion, PredictionBatch, TrainingRun
from audit_platform.principal import Principal
from tests import factories
from tests.integrations.conftest import facet, run_event
from tests.support import entry_types, last_entry

pytestmark = pytest.mark.django_db

TRAIN_INPUT = {
    "namespace": "s3://lake",
    "name": "credit/train.parquet",
    "facets": {
        "schema": facet(fields=[{"name": "income", "type": "DOUBLE"}]),
        "auditTrail_digest": facet(sha256="ab" * 32),
        "vendor_quality": facet(score=0.97),
    },
    "inputFacets": {"inputStatistics": facet(rowCount=1000, size=52_000)},
}


def _map(post, system, *, kind="training_run", job=("airflow", "credit.train"), **ids):
    return post(
        "openlineage-job-list",
        {"namespace": job[0], "name": job[1], "kind": kind, "system_id": system.pk, **ids},
    )


def test_a_mapped_jobs_run_becomes_a_training_run_with_its_inputs(
    org, post, trained_system, new_run_id
):
    system, model = trained_system
    _map(post, system, model_id=model.pk)
    run_id = new_run_id()

    started = post(
        "openlineage-events",
        run_event(
            "START",
            run_id,
            inputs=[TRAIN_INPUT],
            run_facets={"auditTrail_run": facet(params={"max_depth": 4})},
        ),
    )
    completed = post(
        "openlineage-events",
        run_event(
            "COMPLETE",
            run_id,
            time="2026-11-23T10:15:02Z",
            run_facets={"auditTrail_run": facet(metrics={"auc": 0.91})},
        ),
    )

    run = TrainingRun.objects.get()
    assert started["records"] == [{"kind": "training_run", "id": str(run.pk)}]
    assert completed["recorded"] and completed["ledger"]["seq"] > started["ledger"]["seq"]
    assert (run.status, run.model, run.params, run.metrics) == (
        "completed",
        model,
        {"max_depth": 4},
        {"auc": 0.91},
    )
    version = run.dataset_versions.get()
    assert (version.sha256, version.row_count, version.size_bytes, version.source) == (
        "ab" * 32,
        1000,
        52_000,
        "openlineage",
    )
    assert version.dataset.name == "s3://lake/credit/train.parquet"
    assert version.version == "sha256:" + "ab" * 32
    assert entry_types(org)[-6:] == [
        "dataset.created",
        "dataset_version.observed",
        "training_run.started",
        "openlineage_run.event",
        "training_run.completed",
        "openlineage_run.event",
    ]
    entry = last_entry(org, "openlineage_run.event")
    assert entry["subject"] == {"kind": "openlineage_run", "id": run_id}
    assert entry["data"]["event_type"] == "COMPLETE"
    assert (
        entry["data"]["event_sha256"]
        == LineageEvent.objects.get(event_type="COMPLETE").event_sha256
    )


def test_unknown_facets_are_kept_as_sent(post, trained_system, new_run_id):
    system, _ = trained_system
    _map(post, system)
    event = run_event("START", new_run_id(), inputs=[TRAIN_INPUT])
    event["run"]["facets"]["spark_unknown"] = facet(anything=[1, {"deep": True}])
    event["x-vendor"] = {"kept": "too"}

    post("openlineage-events", event)

    kept = LineageEvent.objects.get()
    assert kept.body == event
    assert kept.body["inputs"][0]["facets"]["vendor_quality"]["score"] == 0.97


def test_a_failed_run_records_the_error_message(post, trained_system, new_run_id):
    system, _ = trained_system
    _map(post, system)
    run_id = new_run_id()
    post("openlineage-events", run_event("START", run_id))
    post(
        "openlineage-events",
        run_event(
            "FAIL",
            run_id,
            run_facets={
                "errorMessage": facet(message="CUDA out of memory", programmingLanguage="python")
            },
        ),
    )

    run = TrainingRun.objects.get()
    assert (run.status, run.failure_reason) == ("failed", "CUDA out of memory")


def test_an_aborted_run_is_abandoned_and_a_late_start_changes_nothing(
    post, trained_system, new_run_id
):
    system, _ = trained_system
    _map(post, system)
    run_id = new_run_id()
    post("openlineage-events", run_event("ABORT", run_id, time="2026-11-23T10:00:00Z"))
    late = post("openlineage-events", run_event("START", run_id, time="2026-11-23T09:00:00Z"))

    run = TrainingRun.objects.get()
    assert run.status == "abandoned"
    assert late["records"] == [{"kind": "training_run", "id": str(run.pk)}]


def test_a_resent_event_is_recorded_once(org, post, trained_system, new_run_id):
    system, _ = trained_system
    _map(post, system)
    event = run_event("START", new_run_id(), inputs=[TRAIN_INPUT])
    first = post("openlineage-events", event)
    size = len(entry_types(org))

    again = post("openlineage-events", event, status=200)

    assert again["duplicate"] is True and first["duplicate"] is False
    assert again["ledger"] == first["ledger"]
    assert len(entry_types(org)) == size
    assert TrainingRun.objects.count() == 1 and LineageEvent.objects.count() == 1


def test_a_dataset_seen_again_is_one_version(post, trained_system, new_run_id):
    system, _ = trained_system
    _map(post, system)
    for _ in range(2):
        post("openlineage-events", run_event("START", new_run_id(), inputs=[TRAIN_INPUT]))

    assert DatasetVersion.objects.count() == 1
    assert TrainingRun.objects.count() == 2


def test_an_unmapped_jobs_event_is_kept_and_records_nothing(org, post, new_run_id):
    size = len(entry_types(org))
    answer = post(
        "openlineage-events", run_event("START", new_run_id(), job=("dbt", "x")), status=202
    )

    assert answer["recorded"] is False
    assert "not mapped" in answer["notes"][0]
    assert len(entry_types(org)) == size
    assert LineageEvent.objects.count() == 1


def test_a_gzip_body_is_read(pipeline, trained_system, new_run_id):
    system, _ = trained_system
    factories_map = pipeline.post(
        reverse("openlineage-job-list"),
        {
            "namespace": "airflow",
            "name": "credit.train",
            "kind": "training_run",
            "system_id": system.pk,
        },
        format="json",
    )
    assert factories_map.status_code == 201
    body = gzip.compress(json.dumps(run_event("START", new_run_id())).encode())

    response = pipeline.post(
        reverse("openlineage-events"),
        body,
        content_type="application/json",
        HTTP_CONTENT_ENCODING="gzip",
    )

    assert response.status_code == 201, response.content
    assert TrainingRun.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        (lambda e: e["run"].update(runId="not-a-uuid"), "$.run.runId", "UUID"),
        (lambda e: e.update(eventType="DONE"), "$.eventType", "START, RUNNING"),
        (lambda e: e.pop("eventTime"), "$.eventTime", "required"),
        (lambda e: e.update(eventTime="yesterday"), "$.eventTime", "ISO 8601"),
        (lambda e: e["job"].pop("name"), "$.job.name", "required"),
        (lambda e: e.update(inputs={"a": 1}), "$.inputs", "array"),
        (lambda e: e.update(inputs=[{"namespace": "s3://x"}]), "$.inputs[0].name", "required"),
        (
            lambda e: e["run"]["facets"].update(errorMessage="boom"),
            "$.run.facets.errorMessage",
            "object",
        ),
        (
            lambda e: e.update(
                outputs=[
                    {
                        "namespace": "n",
                        "name": "o",
                        "facets": {"auditTrail_digest": {"sha256": "XYZ"}},
                    }
                ]
            ),
            "$.outputs[0].facets.auditTrail_digest.sha256",
            "SHA-256",
        ),
        (lambda e: e.pop("run"), "$.run", "only RunEvents"),
        (lambda e: e.pop("producer"), "$.producer", "required"),
    ],
)
def test_a_malformed_event_is_refused_naming_the_problem(
    post, trained_system, new_run_id, change, where, problem
):
    system, _ = trained_system
    _map(post, system)
    event = run_event("START", new_run_id())
    change(event)

    answer = post("openlineage-events", event, status=400)

    assert where in answer["error"]["message"] and problem in answer["error"]["message"]
    assert where in answer["error"]["fields"]


def test_a_prediction_job_records_a_batch_at_complete(org, post, new_run_id):
    model_version = factories.ModelVersionFactory(model__system__organization=org)
    deployment = factories.DeploymentFactory(
        system=model_version.model.system, serving=model_version
    )
    _map(
        post,
        deployment.system,
        kind="prediction_batch",
        job=("airflow", "credit.score"),
        deployment_id=deployment.pk,
    )
    run_id = new_run_id()
    scored = {
        "namespace": "s3://lake",
        "name": "scores/2026-11-23.parquet",
        "facets": {"auditTrail_digest": facet(sha256="cd" * 32)},
        "outputFacets": {"outputStatistics": facet(rowCount=250)},
    }
    incoming = {
        "namespace": "s3://lake",
        "name": "applications/2026-11-23.parquet",
        "facets": {"version": facet(datasetVersion="sha256:" + "ef" * 32)},
    }
    post(
        "openlineage-events",
        run_event("START", run_id, job=("airflow", "credit.score"), time="2099-01-01T00:00:00Z"),
        status=201,
    )
    done = post(
        "openlineage-events",
        run_event(
            "COMPLETE",
            run_id,
            job=("airflow", "credit.score"),
            time="2099-01-01T00:05:00Z",
            inputs=[incoming],
            outputs=[scored],
            run_facets={"auditTrail_run": facet(rowsRoot="12" * 32)},
        ),
    )

    batch = PredictionBatch.objects.get()
    assert done["records"] == [{"kind": "prediction_batch", "id": str(batch.pk)}]
    assert (batch.input_sha256, batch.output_sha256, batch.row_count, batch.rows_root) == (
        "ef" * 32,
        "cd" * 32,
        250,
        "12" * 32,
    )
    assert batch.model_version == model_version
    assert "prediction_batch.recorded" in entry_types(org)


def test_a_prediction_complete_without_digests_says_what_is_missing(org, post, new_run_id):
    model_version = factories.ModelVersionFactory(model__system__organization=org)
    deployment = factories.DeploymentFactory(
        system=model_version.model.system, serving=model_version
    )
    _map(post, deployment.system, kind="prediction_batch", deployment_id=deployment.pk)

    answer = post("openlineage-events", run_event("COMPLETE", new_run_id()))

    assert answer["records"] == [] and PredictionBatch.objects.count() == 0
    assert "rowsRoot" in answer["notes"][0] and "one input with a digest" in answer["notes"][0]


def test_a_key_limited_to_other_systems_cannot_record_to_a_mapped_job(
    org, post, trained_system, new_run_id
):
    from rest_framework.test import APIClient

    system, _ = trained_system
    _map(post, system)
    other = factories.AISystemFactory(organization=org, name="Other")
    limited = factories.ApiKeyFactory(organization=org, role="pipeline", system_ids=[other.pk])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {limited.secret}")

    post("openlineage-events", run_event("START", new_run_id()), status=403, client=client)


def test_events_received_before_the_job_is_mapped_are_recorded_when_it_is(
    org, post, trained_system, new_run_id
):
    system, model = trained_system
    run_id = new_run_id()
    for event_type, time in (
        ("START", "2026-11-23T09:00:00Z"),
        ("COMPLETE", "2026-11-23T10:00:00Z"),
    ):
        answer = post(
            "openlineage-events",
            run_event(event_type, run_id, time=time, inputs=[TRAIN_INPUT]),
            status=202,
        )
        assert answer["recorded"] is False
    assert TrainingRun.objects.count() == 0

    _map(post, system, model_id=model.pk)

    run = TrainingRun.objects.get()
    assert (run.status, run.model_id) == ("completed", model.pk)
    assert run.dataset_versions.count() == 1
    assert entry_types(org).count("openlineage_run.event") == 2
    kept = LineageEvent.objects.order_by("event_time")
    assert [e.outcome["recorded"] for e in kept] == [True, True]
    assert "recorded when it was" in kept[0].outcome["notes"][-1]
    # Replaying again (a retried mapping step, a second worker) records nothing more.
    mapping = LineageJobMapping.objects.get()
    actor = Principal.system(organization=org, name="replay")
    assert services.lineage_job_replay(actor=actor, mapping=mapping) == 0
    assert entry_types(org).count("openlineage_run.event") == 2
    # And the answer to a re-sent event is the kept, now recorded, one.
    again = post(
        "openlineage-events",
        run_event("COMPLETE", run_id, time="2026-11-23T10:00:00Z", inputs=[TRAIN_INPUT]),
        status=200,
    )
    assert again["duplicate"] is True and again["ledger"] is not None
