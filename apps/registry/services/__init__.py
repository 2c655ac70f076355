"""Writes to the registry, one module per entity. Each service changes its rows and
appends the matching ledger entry in one transaction; both commit or neither does.
Event types and their payloads are declared in ``apps/registry/events.py``.

- ``systems``: AI systems
- ``datasets``: datasets, dataset versions and their statistics
- ``training_runs``: training runs
- ``model_versions``: models and model versions
- ``deployments``: deployments (activation, rollback, stop)
- ``prediction_batches``: prediction batches, recorded or run by our workers
- ``artifact_integrity``: stored files found changed at rest
- ``_common``: helpers the modules above share

Callers import from here (``from apps.registry import services``), not from the
modules, so that a service can move between them without touching its callers."""

from apps.registry.services.artifact_integrity import (
    artifact_integrity_failed,
    artifact_open_checked,
)
from apps.registry.services.datasets import (
    DATASHEET_FIELDS,
    PREPARATION_STEPS,
    dataset_create,
    dataset_version_observe,
    dataset_version_register,
    dataset_version_statistics_record,
)
from apps.registry.services.deployments import (
    deployment_activate,
    deployment_create,
    deployment_rollback,
    deployment_stop,
)
from apps.registry.services.model_versions import (
    model_create,
    model_signer_revoke,
    model_signer_trust,
    model_version_register,
)
from apps.registry.services.prediction_batches import (
    prediction_batch_claim,
    prediction_batch_complete,
    prediction_batch_fail,
    prediction_batch_record,
    prediction_batch_request,
    prediction_batch_rows_attach,
    prediction_batch_verify_files,
)
from apps.registry.services.systems import (
    ai_system_provider_record,
    ai_system_register,
    ai_system_status_change,
)
from apps.registry.services.training_runs import (
    training_run_abandon,
    training_run_complete,
    training_run_fail,
    training_run_start,
)

__all__ = [
    "DATASHEET_FIELDS",
    "PREPARATION_STEPS",
    "ai_system_provider_record",
    "ai_system_register",
    "ai_system_status_change",
    "artifact_integrity_failed",
    "artifact_open_checked",
    "dataset_create",
    "dataset_version_observe",
    "dataset_version_register",
    "dataset_version_statistics_record",
    "deployment_activate",
    "deployment_create",
    "deployment_rollback",
    "deployment_stop",
    "model_create",
    "model_signer_revoke",
    "model_signer_trust",
    "model_version_register",
    "prediction_batch_claim",
    "prediction_batch_complete",
    "prediction_batch_fail",
    "prediction_batch_record",
    "prediction_batch_request",
    "prediction_batch_rows_attach",
    "prediction_batch_verify_files",
    "training_run_abandon",
    "training_run_complete",
    "training_run_fail",
    "training_run_start",
]
