"""The ledger events of the pipeline integrations (see apps/ledger/events.py)."""

from __future__ import annotations

from apps.ledger.events import declare, declare_section

INTEGRATIONS = declare_section(
    title="Pipeline integrations",
    order=60,
    intro="""
OpenLineage RunEvents received at `POST /api/v1/openlineage` (docs/integrations.md).
An event of a job the organization mapped puts its state change on the record through
the registry's services (`training_run.*`, `prediction_batch.recorded`,
`dataset_version.observed`), then one `openlineage_run.event` entry that ties the event
as received (by its digest) to those records, all in one transaction.
""",
)

OPENLINEAGE_JOB_MAPPED = declare(
    "openlineage_job.mapped",
    subject="openlineage_job",
    section=INTEGRATIONS,
    fields={
        "namespace": "the OpenLineage job's namespace",
        "name": "its name",
        "kind": "training_run/prediction_batch",
        "model": "for training runs, or null",
        "deployment": "for prediction batches, or null",
        "parent": "ai_system",
    },
    doc="the organization's decision of what the job's runs are",
)
OPENLINEAGE_RUN_EVENT = declare(
    "openlineage_run.event",
    subject="openlineage_run",
    section=INTEGRATIONS,
    subject_id="the OpenLineage runId",
    fields={
        "event_type": "START/RUNNING/COMPLETE/FAIL/ABORT/OTHER",
        "event_time": "as the event gives it",
        "event_sha256": "of the event's RFC 8785 JSON, as kept",
        "job": '`{"namespace", "name"}`',
        "record": "the training run or prediction batch, or null",
        "inputs": "dataset version ids",
        "outputs": "dataset version ids",
    },
)
MLFLOW_CONNECTION_CREATED = declare(
    "mlflow_connection.created",
    subject="mlflow_connection",
    section=INTEGRATIONS,
    fields={"tracking_uri": "without any user:password part", "parent": "ai_system"},
    doc="an MLflow tracking server whose runs and models go on the record of the system",
)
MLFLOW_ALIAS_CHANGED = declare(
    "mlflow_alias.changed",
    subject="mlflow_alias",
    section=INTEGRATIONS,
    fields={
        "model": "MLflow registered model name",
        "alias": "",
        "mlflow_version": "the version it names now, null once removed",
        "model_version": "that version as recorded here, or null",
        "attributed": "false: MLflow does not say who moved an alias",
        "connection": "mlflow_connection",
    },
)
