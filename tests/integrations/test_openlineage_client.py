"""The real openlineage-python client (pinned in the test extra), its HTTP transport
sending to a live server over HTTP: the events land on the ledger."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import attr
import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    DatasetFacet,
    RunFacet,
    error_message_run,
    output_statistics_output_dataset,
    schema_dataset,
)
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpCompression,
    HttpConfig,
    HttpTransport,
)

from apps.integrations import services
from apps.integrations.models import LineageEvent
from apps.registry.models import TrainingRun
from tests import factories
from tests.support import entry_types

pytestmark = pytest.mark.django_db(transaction=True)


@attr.define
class AuditTrailDigestDatasetFacet(DatasetFacet):
    sha256: str


@attr.define
class AuditTrailRunFacet(RunFacet):
    metrics: dict = attr.field(factory=dict)


def _client(url: str, secret: str, *, gzip: bool = False) -> OpenLineageClient:
    config = HttpConfig(
        url=url,
        endpoint="api/v1/openlineage",
        auth=ApiKeyTokenProvider({"api_key": secret}),
        compression=HttpCompression.GZIP if gzip else None,
    )
    return OpenLineageClient(transport=HttpTransport(config))


def _now() -> str:
    return datetime.now(UTC).isoformat()


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
def test_events_sent_by_the_openlineage_client_land_on_the_ledger(
    live_server, org, api_key_for, gzip
):
    system = factories.AISystemFactory(organization=org, name="Credit scoring")
    services.lineage_job_map(
        actor=factories.tests_actor(org),
        kind="training_run",
        system=system,
        namespace="airflow",
        name="credit.train",
    )
    client = _client(live_server.url, api_key_for(org, "pipeline"), gzip=gzip)
    job = Job(namespace="airflow", name="credit.train")
    run_id = str(uuid.uuid4())
    train = InputDataset(
        namespace="s3://lake",
        name="credit/train.parquet",
        facets={
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[schema_dataset.SchemaDatasetFacetFields(name="income", type="DOUBLE")]
            ),
            "auditTrail_digest": AuditTrailDigestDatasetFacet(sha256="ab" * 32),
        },
    )
    model = OutputDataset(
        namespace="s3://models",
        name="credit/model.onnx",
        outputFacets={
            "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                size=1234
            )
        },
    )
    size = len(entry_types(org))

    client.emit(
        RunEvent(
            eventType=RunState.START,
            eventTime=_now(),
            run=Run(runId=run_id),
            job=job,
            inputs=[train],
        )
    )
    client.emit(
        RunEvent(eventType=RunState.RUNNING, eventTime=_now(), run=Run(runId=run_id), job=job)
    )
    client.emit(
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=_now(),
            run=Run(
                runId=run_id, facets={"auditTrail_run": AuditTrailRunFacet(metrics={"auc": 0.9})}
            ),
            job=job,
            outputs=[model],
        )
    )

    run = TrainingRun.objects.get()
    assert (run.status, run.metrics) == ("completed", {"auc": 0.9})
    assert run.dataset_versions.get().sha256 == "ab" * 32
    assert entry_types(org)[size:] == [
        "dataset.created",
        "dataset_version.observed",
        "training_run.started",
        "openlineage_run.event",
        "openlineage_run.event",
        "dataset.created",
        "dataset_version.observed",
        "training_run.completed",
        "openlineage_run.event",
    ]
    assert [e.event_type for e in LineageEvent.objects.order_by("received_at", "pk")] == [
        "START",
        "RUNNING",
        "COMPLETE",
    ]


def test_a_failure_sent_by_the_client_records_a_failed_run(live_server, org, api_key_for):
    system = factories.AISystemFactory(organization=org, name="Credit scoring")
    services.lineage_job_map(
        actor=factories.tests_actor(org),
        kind="training_run",
        system=system,
        namespace="spark",
        name="credit_features",
    )
    client = _client(live_server.url, api_key_for(org, "pipeline"))
    job = Job(namespace="spark", name="credit_features")
    run_id = str(uuid.uuid4())

    client.emit(
        RunEvent(eventType=RunState.START, eventTime=_now(), run=Run(runId=run_id), job=job)
    )
    client.emit(
        RunEvent(
            eventType=RunState.FAIL,
            eventTime=_now(),
            run=Run(
                runId=run_id,
                facets={
                    "errorMessage": error_message_run.ErrorMessageRunFacet(
                        message="executor lost", programmingLanguage="scala"
                    )
                },
            ),
            job=job,
        )
    )

    run = TrainingRun.objects.get()
    assert (run.status, run.failure_reason) == ("failed", "executor lost")
