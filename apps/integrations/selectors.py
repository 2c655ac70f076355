"""Reads of the pipeline integrations, and our own records told as OpenLineage
RunEvents: each event carries the run facet ``auditTrail_ledgerReceipt`` naming the
ledger entry that is the proof, so lineage tools show where the evidence is."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.urls import reverse

from apps.integrations.models import LineageDataset, LineageRun
from apps.integrations.openlineage import DIGEST_FACET, FACET_SCHEMAS, RECEIPT_FACET
from apps.ledger import selectors as ledger_selectors
from apps.registry.models import DatasetVersion, ModelVersion, PredictionBatch, TrainingRun

RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
# Which OpenLineage state each of our entry types is.
STATES = {
    "training_run.started": "START",
    "training_run.completed": "COMPLETE",
    "training_run.failed": "FAIL",
    "training_run.abandoned": "ABORT",
    "prediction_batch.requested": "START",
    "prediction_batch.recorded": "COMPLETE",
    "prediction_batch.completed": "COMPLETE",
    "prediction_batch.failed": "FAIL",
}


def producer() -> str:
    return f"https://{settings.LEDGER_HOST}/api/v1/openlineage"


def facet_schema_url(facet: str) -> str:
    """Where our facet's JSON Schema is served (docs/integrations.md)."""
    path = reverse("openlineage-facet-schema", kwargs={"name": FACET_SCHEMAS[facet]})
    return f"https://{settings.LEDGER_HOST}{path}#/$defs/{FACET_SCHEMAS[facet]}"


def _facet(name: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": producer(), "_schemaURL": facet_schema_url(name), **fields}


def _digest_dataset(namespace: str, name: str, sha256: str, version: str | None = None) -> dict:
    facets: dict[str, Any] = {DIGEST_FACET: _facet(DIGEST_FACET, sha256=sha256)}
    if version is not None:
        facets["version"] = {
            "_producer": producer(),
            "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json"
            "#/$defs/DatasetVersionDatasetFacet",
            "datasetVersion": version,
        }
    return {"namespace": namespace, "name": name, "facets": facets}


def _dataset_version(origin: str, version: DatasetVersion) -> dict[str, Any]:
    seen = LineageDataset.objects.filter(dataset_id=version.dataset_id).first()
    if seen is not None:
        namespace, name = seen.namespace, seen.name
    else:
        namespace, name = origin, f"dataset/{version.dataset.name}"
    if version.sha256:
        return _digest_dataset(namespace, name, version.sha256, version.version)
    return {"namespace": namespace, "name": name, "facets": {}}


def _identity(*, kind: str, record: Any, origin: str) -> tuple[str, dict[str, str]]:
    """The runId and job of a record: those of the OpenLineage run it came from, or
    stable ones derived from the log and the record."""
    came_from = LineageRun.objects.filter(**{kind: record}).first()
    if came_from is not None:
        return str(came_from.run_id), {"namespace": came_from.namespace, "name": came_from.name}
    run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://{origin}/{kind}/{record.pk}"))
    if kind == "training_run":
        job = f"{record.system.name}/training"
    else:
        job = f"{record.deployment.system.name}/{record.deployment.environment}/predictions"
    return run_id, {"namespace": origin, "name": job}


def openlineage_events(*, organization: Any, kind: str, record: Any) -> list[dict[str, Any]]:
    """The training run or prediction batch ``record`` as OpenLineage RunEvents, one
    per ledger entry that changed its state, oldest first."""
    log = ledger_selectors.log_for(organization=organization)
    run_id, job = _identity(kind=kind, record=record, origin=log.origin)
    about = [e for e in ledger_selectors.entry_seqs_about(log=log, subjects={kind: [record.pk]})]
    summaries = ledger_selectors.entry_summaries(
        log=log, seqs=[e.seq for e in about if e.type in STATES]
    )
    inputs, outputs = _datasets(kind=kind, record=record, origin=log.origin)
    events = []
    for entry in summaries:
        state = STATES[entry.type]
        events.append(
            {
                "eventType": state,
                "eventTime": entry.time.isoformat().replace("+00:00", "Z"),
                "producer": producer(),
                "schemaURL": RUN_EVENT_SCHEMA,
                "run": {
                    "runId": run_id,
                    "facets": {
                        RECEIPT_FACET: _facet(
                            RECEIPT_FACET,
                            log=log.origin,
                            seq=entry.seq,
                            leafHash=bytes(entry.leaf_hash).hex(),
                            entryType=entry.type,
                            proofUrl=f"https://{settings.LEDGER_HOST}"
                            + reverse("ledger-entry-proof", kwargs={"seq": entry.seq}),
                        )
                    },
                },
                "job": job,
                "inputs": inputs,
                "outputs": outputs if state == "COMPLETE" else [],
            }
        )
    return events


def _datasets(*, kind: str, record: Any, origin: str) -> tuple[list[dict], list[dict]]:
    if kind == "training_run":
        assert isinstance(record, TrainingRun)
        inputs = [_dataset_version(origin, v) for v in record.dataset_versions.all()]
        outputs = [
            _digest_dataset(origin, f"model/{v.model.name}", v.artifact_sha256, v.version)
            for v in ModelVersion.objects.filter(training_run=record).select_related("model")
        ]
        return inputs, outputs
    assert isinstance(record, PredictionBatch)
    prefix = f"prediction_batch/{record.pk}"
    inputs = (
        [_digest_dataset(origin, f"{prefix}/input", record.input_sha256)]
        if record.input_sha256
        else []
    )
    outputs = (
        [_digest_dataset(origin, f"{prefix}/output", record.output_sha256)]
        if record.output_sha256
        else []
    )
    return inputs, outputs
