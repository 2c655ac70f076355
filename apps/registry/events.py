"""The ledger events of the registry: systems, datasets, training runs, models,
deployments, prediction batches and stored files (see apps/ledger/events.py)."""

from __future__ import annotations

from apps.ledger.events import declare, declare_section, optional

REGISTRY = declare_section(
    title="Registry",
    order=20,
    notes="""
A deployment change takes effect at its entry's `time`: "which version served at T"
(`GET /api/v1/deployments/{id}/served-at?at=T`) answers the version of the last
activation or rollback whose entry time is at or before T. A `deployment.stopped`
entry, like activations, takes effect at its entry's `time`: from then on "which
version served at T" answers none until the next activation or rollback.
""",
)
ROWS_OF_A_BATCH = declare_section(
    title="Rows of a prediction batch",
    order=25,
    intro="""
`rows_root` follows spec §6. For CSV files, the column types are those pyarrow
infers (digits are numbers, empty cells are null); Parquet keeps its declared types
and is the format to prefer. An output file with one column gives that value per row;
with several columns, the row's values as an array of numbers (class probabilities).
Dates and timestamps are hashed as ISO 8601 text.

Row receipts (`GET /api/v1/prediction-batches/{id}/rows/{n}/receipt`) are checked
offline with `python -m apps.ledger.offline_verifier receipt RECEIPT.json --vkey VKEY
[--input ROW.json]`: the batch entry's tlog-proof, the row's leaf in the rows tree
of its `rows_root`, and, given the row's input as a JSON object, its digest.
""",
)

ARTIFACT_STORED = declare(
    "artifact.stored",
    subject="artifact",
    subject_id="sha256",
    section=REGISTRY,
    fields={"sha256": "", "size_bytes": ""},
    doc="identical content is stored, and recorded, once",
)
AI_SYSTEM_REGISTERED = declare(
    "ai_system.registered",
    subject="ai_system",
    section=REGISTRY,
    fields={
        "name": "",
        "role": "provider/deployer",
        "status": "",
        "intended_purpose_sha256": "",
        "owner_user_id": "",
    },
)
AI_SYSTEM_STATUS_CHANGED = declare(
    "ai_system.status_changed",
    subject="ai_system",
    section=REGISTRY,
    fields={"from": "", "to": "", "reason": ""},
    doc="the lifecycle status, along apps/registry/lifecycle.py's transitions",
)
AI_SYSTEM_PROVIDER_RECORDED = declare(
    "ai_system.provider_recorded",
    subject="ai_system",
    section=REGISTRY,
    fields={
        "provider_name": "",
        "provider_address": "",
        "data_protection_statement_sha256": "",
    },
    doc="the provider's name and address and the data-protection statement (Annex V 2, 5)",
)
DATASET_CREATED = declare(
    "dataset.created",
    subject="dataset",
    section=REGISTRY,
    fields={"name": "", "parent": "ai_system"},
)
DATASET_VERSION_REGISTERED = declare(
    "dataset_version.registered",
    subject="dataset_version",
    section=REGISTRY,
    fields={
        "version": "",
        "sha256": "",
        "size_bytes": "",
        "rows": "",
        "split": "",
        "uri": "",
        "schema_sha256": "",
        "datasheet_sha256": "",
        "personal_data": "",
        "special_category_data": "",
        "parent": "dataset",
    },
)
DATASET_VERSION_OBSERVED = declare(
    "dataset_version.observed",
    subject="dataset_version",
    section=REGISTRY,
    fields={
        "version": "the event's dataset version, else `sha256:<digest>`, else `run:<runId>`",
        "sha256": optional("when the event gave a digest"),
        "size_bytes": "or null",
        "rows": "or null",
        "uri": "OpenLineage `namespace/name`",
        "schema_sha256": optional("of the `schema` facet's columns, when given"),
        "source": "`openlineage`",
        "parent": "dataset",
    },
    doc="a version seen in lineage (docs/integrations.md); it has no datasheet",
)
DATASET_VERSION_STATISTICS_COMPUTED = declare(
    "dataset_version.statistics_computed",
    subject="dataset_version",
    section=REGISTRY,
    fields={"rows": "", "statistics_sha256": ""},
)
DATASET_VERSION_STATISTICS_FAILED = declare(
    "dataset_version.statistics_failed",
    subject="dataset_version",
    section=REGISTRY,
    fields={"reason": "e.g. the file's row count contradicts the registration"},
)
TRAINING_RUN_STARTED = declare(
    "training_run.started",
    subject="training_run",
    section=REGISTRY,
    fields={
        "parent": "ai_system",
        "model": "",
        "params": "",
        "dataset_versions": "ids",
        "code_revision": "",
        "environment": "",
        "hardware": "",
    },
)
TRAINING_RUN_COMPLETED = declare(
    "training_run.completed",
    subject="training_run",
    section=REGISTRY,
    fields={
        "metrics": "",
        "energy_joules": "",
        "duration_seconds": "",
        "hardware": optional("when reported at the end"),
    },
)
TRAINING_RUN_FAILED = declare(
    "training_run.failed",
    subject="training_run",
    section=REGISTRY,
    fields={"reason": "", "duration_seconds": ""},
)
TRAINING_RUN_ABANDONED = declare(
    "training_run.abandoned",
    subject="training_run",
    section=REGISTRY,
    fields={"reason": "", "duration_seconds": ""},
)
MODEL_CREATED = declare(
    "model.created",
    subject="model",
    section=REGISTRY,
    fields={"name": "", "parent": "ai_system"},
)
MODEL_VERSION_REGISTERED = declare(
    "model_version.registered",
    subject="model_version",
    section=REGISTRY,
    fields={
        "version": "",
        "sha256": "artifact",
        "format": "",
        "framework": "",
        "framework_version": "",
        "uri": "",
        "metrics": "",
        "training_run": "",
        "dataset_versions": "ids",
        "parent": "model",
    },
)
MODEL_SIGNER_TRUSTED = declare(
    "model_signer.trusted",
    subject="model_signer",
    section=REGISTRY,
    fields={"name": "", "kind": "key/certificate", "fingerprint_sha256": "of the key or CA"},
    doc="a signer whose OpenSSF Model Signing signatures the organization accepts",
)
MODEL_SIGNER_REVOKED = declare(
    "model_signer.revoked",
    subject="model_signer",
    section=REGISTRY,
    fields={"name": "", "fingerprint_sha256": "of the key or CA", "reason": "why, in words"},
    doc="a signer the organization no longer trusts: what it signed stops passing the gate",
)
MODEL_VERSION_SIGNATURE_CHECKED = declare(
    "model_version.signature_checked",
    subject="model_version",
    section=REGISTRY,
    fields={
        "signature_sha256": "of the signature's RFC 8785 JSON",
        "sha256": "the artifact's",
        "verified": "true/false",
        "signer": '`{"kind": "model_signer", "id", "name", "fingerprint_sha256"}` or null',
        "certificate_sha256": optional("of the signing certificate, when certificate-based"),
        "reason": "why it failed, or null",
    },
    doc="the OMS signature supplied at registration, verified offline",
)
DEPLOYMENT_CREATED = declare(
    "deployment.created",
    subject="deployment",
    section=REGISTRY,
    fields={"environment": "", "resources": "", "parent": "ai_system"},
)
DEPLOYMENT_ACTIVATED = declare(
    "deployment.activated",
    subject="deployment",
    section=REGISTRY,
    fields={
        "model_version": "",
        "sha256": "its artifact",
        "replaces": "the version it replaces, or null",
        "reason": "",
    },
)
DEPLOYMENT_ROLLED_BACK = declare(
    "deployment.rolled_back",
    subject="deployment",
    section=REGISTRY,
    fields={"model_version": "returned to", "sha256": "", "replaces": "", "reason": ""},
)
DEPLOYMENT_STOPPED = declare(
    "deployment.stopped",
    subject="deployment",
    section=REGISTRY,
    fields={"model_version": "that stopped serving", "sha256": "", "reason_sha256": ""},
)
PREDICTION_BATCH_RECORDED = declare(
    "prediction_batch.recorded",
    subject="prediction_batch",
    section=REGISTRY,
    fields={
        "input_sha256": "",
        "output_sha256": "",
        "rows": "",
        "rows_root": "spec §6",
        "model_version": "",
        "model_sha256": "",
        "window": "[start, end] RFC 3339 or null",
        "ran_on": "",
        "parent": "deployment",
    },
)
PREDICTION_BATCH_FILES_VERIFIED = declare(
    "prediction_batch.files_verified",
    subject="prediction_batch",
    section=REGISTRY,
    fields={
        "input_sha256": "",
        "output_sha256": "",
        "rows_root": "",
        "rows_sha256": optional("the rows file built from them, for row receipts"),
    },
    doc="recomputed from the uploaded files",
)
PREDICTION_BATCH_ROWS_VERIFIED = declare(
    "prediction_batch.rows_verified",
    subject="prediction_batch",
    section=REGISTRY,
    fields={
        "uploaded_sha256": "the rows file the pipeline uploaded",
        "rows_sha256": "the rows file kept for row receipts (Parquet, as our workers write it)",
        "rows": "",
        "rows_root": "recomputed from the uploaded leaves; equal to the recorded one",
    },
)
PREDICTION_BATCH_REQUESTED = declare(
    "prediction_batch.requested",
    subject="prediction_batch",
    section=REGISTRY,
    fields={
        "input_sha256": "",
        "task": "task record id",
        "model_version": "",
        "model_sha256": "",
        "parent": "deployment",
    },
    doc="a batch queued for our gpu workers",
)
PREDICTION_BATCH_COMPLETED = declare(
    "prediction_batch.completed",
    subject="prediction_batch",
    section=REGISTRY,
    fields={
        "input_sha256": "",
        "output_sha256": "",
        "rows": "",
        "rows_root": "spec §6",
        "ran_on": "host, pid, framework, `device`, `device_name`, `gpu_uuid`, `driver`, "
        "`cpu_fallback_reason`, versions",
        "telemetry": "`wall_seconds`, `cpu_seconds`, `cpu_peak_rss_bytes`, "
        "`gpu_peak_memory_bytes` (`gpu_memory_scope`: this process's or the device's), "
        "`gpu_mean_utilization_percent`, `energy_joules` (above the idle baseline, "
        "`energy_scope`), `energy_gross_joules`, `energy_baseline_watts`, "
        "`energy_method`, `rows_per_second`",
        "model_version": "",
        "model_sha256": "",
        "parent": "",
    },
)
PREDICTION_BATCH_FAILED = declare(
    "prediction_batch.failed",
    subject="prediction_batch",
    section=REGISTRY,
    fields={
        "reason": "",
        "input_sha256": "",
        "model_version": "",
        "model_sha256": "",
        "parent": "",
    },
)
ARTIFACT_INTEGRITY_FAILED = declare(
    "artifact.integrity_failed",
    subject="artifact",
    subject_id="sha256 (as stored)",
    section=REGISTRY,
    fields={
        "expected_sha256": "",
        "found_sha256": "the file's content now",
        "used_by": '`{"kind", "id"}` of the job that refused to load it',
    },
)
