"""Writes of the pipeline integrations: the organization's OpenLineage job mappings,
and OpenLineage RunEvents received, each put on the record in one transaction through
the registry's services (docs/integrations.md)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import IntegrityError, transaction

from apps.integrations import events
from apps.integrations.models import (
    LineageDataset,
    LineageEvent,
    LineageJobMapping,
    LineageRun,
)
from apps.integrations.openlineage import (
    TERMINAL,
    EventDataset,
    MalformedEvent,
    RunEvent,
    run_event,
)
from apps.ledger.digests import json_sha256
from apps.ledger.types import Receipt
from apps.registry import services as registry
from apps.registry.models import AISystem, DatasetVersion, Deployment, Model, TrainingRun
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import Forbidden, InvalidInput, RuleViolation, ServiceError
from audit_platform.principal import Principal

# A registry dataset name holds at most 200 characters; a longer OpenLineage
# namespace/name keeps its end (the table's name) and a digest of the whole.
DATASET_NAME_MAX = 200


def lineage_job_map(
    *,
    actor: Principal,
    namespace: str,
    name: str,
    kind: str,
    system: AISystem,
    model: Model | None = None,
    deployment: Deployment | None = None,
) -> tuple[LineageJobMapping, Receipt]:
    """Decides that the runs of the OpenLineage job ``namespace``/``name`` are training
    runs of ``system`` (of ``model``, if given) or prediction batches of
    ``deployment``. A job is mapped once; the events of it kept before then are put on
    the record afterwards (``lineage_job_replay``), so nothing a pipeline sent early is
    lost."""
    _mapping_check(kind=kind, system=system, model=model, deployment=deployment)
    try:
        with transaction.atomic():
            mapping = LineageJobMapping.objects.create(
                organization=actor.organization,
                namespace=namespace,
                name=name,
                kind=kind,
                system=system,
                model=model,
                deployment=deployment,
            )
            receipt = record_event(
                actor=actor,
                event=events.OPENLINEAGE_JOB_MAPPED,
                id=mapping.pk,
                data={
                    "namespace": namespace,
                    "name": name,
                    "kind": kind,
                    "model": record_ref("model", model),
                    "deployment": record_ref("deployment", deployment),
                    "parent": record_ref("ai_system", system),
                },
            )
            LineageRun.objects.filter(
                organization=actor.organization, namespace=namespace, name=name, mapping=None
            ).update(mapping=mapping)
    except IntegrityError:
        raise RuleViolation(f"The OpenLineage job {namespace}/{name} is mapped already.") from None
    lineage_job_replay(actor=actor, mapping=mapping)
    return mapping, receipt


def _mapping_check(
    *, kind: str, system: AISystem, model: Model | None, deployment: Deployment | None
) -> None:
    if kind == LineageJobMapping.Kind.TRAINING_RUN:
        if deployment is not None:
            raise InvalidInput(
                "A training-run job names no deployment.", fields={"deployment_id": ["Remove."]}
            )
        if model is not None and model.system_id != system.pk:
            raise RuleViolation(f"Model {model.pk} belongs to another AI system.")
    elif kind == LineageJobMapping.Kind.PREDICTION_BATCH:
        if deployment is None or model is not None:
            raise InvalidInput(
                "A prediction-batch job names the deployment that scores (and no model).",
                fields={"deployment_id": ["Required for prediction_batch."]},
            )
        if deployment.system_id != system.pk:
            raise RuleViolation(f"Deployment {deployment.pk} belongs to another AI system.")
    else:
        raise InvalidInput(
            "kind must be training_run or prediction_batch.", fields={"kind": ["Invalid."]}
        )


def lineage_job_replay(*, actor: Principal, mapping: LineageJobMapping) -> int:
    """Puts on the record the kept events of ``mapping``'s job that nothing recorded
    yet (received before the job was mapped), in the order they happened, each in its
    own transaction; returns how many it recorded. Safe to run twice: an event is
    looked at again under its run's lock and skipped once recorded. An event the
    record refuses keeps the reason in its outcome and stays unrecorded."""
    pending = list(
        LineageEvent.objects.filter(run__mapping=mapping, outcome__recorded=False)
        .order_by("run__created_at", "event_time", "received_at")
        .values_list("pk", flat=True)
    )
    return sum(_replay(actor=actor, event_pk=pk) for pk in pending)


def _replay(*, actor: Principal, event_pk: Any) -> int:
    try:
        with transaction.atomic():
            run_pk = LineageEvent.objects.values_list("run_id", flat=True).get(pk=event_pk)
            run = LineageRun.objects.select_for_update().get(pk=run_pk)
            kept = LineageEvent.objects.get(pk=event_pk)
            if kept.outcome.get("recorded"):
                return 0
            outcome = _record(
                actor=actor, event=run_event(kept.body), run=run, digest=kept.event_sha256
            )
            outcome["notes"].append("Received before its job was mapped; recorded when it was.")
            kept.outcome = outcome
            kept.save(update_fields=["outcome"])
    except ServiceError as exc:
        kept = LineageEvent.objects.get(pk=event_pk)
        kept.outcome = {
            **kept.outcome,
            "notes": [
                *kept.outcome.get("notes", []),
                f"Not recorded when its job was mapped: {exc}",
            ],
        }
        kept.save(update_fields=["outcome"])
        return 0
    return 1


def openlineage_event_receive(*, actor: Principal, body: Any) -> tuple[LineageEvent, bool]:
    """Keeps the RunEvent ``body`` and puts what it says on the record; returns the
    kept event and whether it is new (False: the same event was received before, and
    nothing more is written). Raises InvalidInput naming the problem for a body that
    is not a RunEvent. Everything one event changes commits together."""
    try:
        event = run_event(body)
    except MalformedEvent as exc:
        raise InvalidInput(
            f"The OpenLineage RunEvent is malformed: {exc.path} {exc.problem}.",
            fields={exc.path: [exc.problem]},
        ) from None
    digest = json_sha256(body)
    with transaction.atomic():
        run = _lineage_run(actor=actor, event=event)
        # Looked for under the run's row lock: the same event sent twice at once waits
        # here for the first, then finds it.
        kept = LineageEvent.objects.filter(
            organization=actor.organization, event_sha256=digest
        ).first()
        if kept is not None:
            return kept, False
        if run.mapping is None:
            outcome = _unmapped(event)
        else:
            outcome = _record(actor=actor, event=event, run=run, digest=digest)
        kept = LineageEvent.objects.create(
            organization=actor.organization,
            run=run,
            event_type=event.event_type,
            event_time=event.event_time,
            event_sha256=digest,
            body=body,
            outcome=outcome,
        )
    return kept, True


def _lineage_run(*, actor: Principal, event: RunEvent) -> LineageRun:
    mapping = LineageJobMapping.objects.filter(
        organization=actor.organization, namespace=event.job_namespace, name=event.job_name
    ).first()
    run, _ = LineageRun.objects.get_or_create(
        organization=actor.organization,
        run_id=event.run_id,
        defaults={
            "namespace": event.job_namespace,
            "name": event.job_name,
            "mapping": mapping,
        },
    )
    run = LineageRun.objects.select_for_update().get(pk=run.pk)
    if (run.namespace, run.name) != (event.job_namespace, event.job_name):
        raise RuleViolation(
            f"OpenLineage run {event.run_id} belongs to job {run.namespace}/{run.name}, "
            f"not {event.job_namespace}/{event.job_name}: a runId names one run of one job."
        )
    if run.mapping is None and mapping is not None:
        run.mapping = mapping
        run.save(update_fields=["mapping"])
    if run.mapping is not None:
        systems = actor.system_ids
        if systems is not None and str(run.mapping.system_id) not in systems:
            raise Forbidden(
                f"This API key is limited to other AI systems; the OpenLineage job "
                f"{run.namespace}/{run.name} records to system {run.mapping.system_id}."
            )
    return run


def _unmapped(event: RunEvent) -> dict[str, Any]:
    return {
        "recorded": False,
        "records": [],
        "dataset_versions": {"inputs": [], "outputs": []},
        "notes": [
            f"The job {event.job_namespace}/{event.job_name} is not mapped: the event is "
            "kept, and nothing is put on the record yet. Map the job at "
            "/api/v1/openlineage/jobs/: its kept events are recorded then, in order."
        ],
        "ledger": None,
    }


def dataset_name(dataset: EventDataset) -> str:
    """The registry name of an OpenLineage dataset: ``namespace/name``, shortened to
    its end and a digest of the whole where it is too long."""
    full = dataset.uri
    if len(full) <= DATASET_NAME_MAX:
        return full
    tag = hashlib.sha256(full.encode()).hexdigest()[:16]
    return f"…{tag}…{full[-(DATASET_NAME_MAX - len(tag) - 2) :]}"


def _version_label(dataset: EventDataset, event: RunEvent) -> str:
    if dataset.version:
        return dataset.version
    if dataset.sha256:
        return f"sha256:{dataset.sha256}"
    # Nothing tells which content the run saw: it is the one this run saw.
    return f"run:{event.run_id}"


def _observe(
    *, actor: Principal, system: AISystem, datasets: tuple[EventDataset, ...], event: RunEvent
) -> list[DatasetVersion]:
    versions = []
    for dataset in datasets:
        version, _ = registry.dataset_version_observe(
            actor=actor,
            system=system,
            dataset_name=dataset_name(dataset),
            version=_version_label(dataset, event),
            uri=dataset.uri[:1000],
            sha256=dataset.sha256,
            size_bytes=dataset.size_bytes,
            row_count=dataset.row_count,
            schema=dataset.schema,
        )
        LineageDataset.objects.get_or_create(
            dataset=version.dataset,
            defaults={
                "organization": actor.organization,
                "namespace": dataset.namespace,
                "name": dataset.name,
            },
        )
        versions.append(version)
    return versions


def _record(*, actor: Principal, event: RunEvent, run: LineageRun, digest: str) -> dict[str, Any]:
    mapping = run.mapping
    assert mapping is not None
    notes: list[str] = []
    if not event.time_zone_given:
        notes.append("eventTime has no UTC offset; it was read as UTC.")
    inputs = _observe(actor=actor, system=mapping.system, datasets=event.inputs, event=event)
    outputs = _observe(actor=actor, system=mapping.system, datasets=event.outputs, event=event)
    if mapping.kind == LineageJobMapping.Kind.TRAINING_RUN:
        record = _training_run_change(actor=actor, event=event, run=run, inputs=inputs, notes=notes)
    else:
        record = _prediction_batch_change(actor=actor, event=event, run=run, notes=notes)
    receipt = record_event(
        actor=actor,
        event=events.OPENLINEAGE_RUN_EVENT,
        id=event.run_id,
        data={
            "event_type": event.event_type,
            "event_time": event.event_time_text,
            "event_sha256": digest,
            "job": {"namespace": event.job_namespace, "name": event.job_name},
            "record": record,
            "inputs": [str(v.pk) for v in inputs],
            "outputs": [str(v.pk) for v in outputs],
        },
    )
    return {
        "recorded": True,
        "records": [record] if record else [],
        "dataset_versions": {
            "inputs": [str(v.pk) for v in inputs],
            "outputs": [str(v.pk) for v in outputs],
        },
        "notes": notes,
        "ledger": receipt.as_json(),
    }


def _training_run_change(
    *,
    actor: Principal,
    event: RunEvent,
    run: LineageRun,
    inputs: list[DatasetVersion],
    notes: list[str],
) -> dict[str, str] | None:
    """Starts the training run at the run's first event (its inputs then known are its
    dataset versions), and completes, fails or abandons it at the first terminal one."""
    training_run = run.training_run
    if training_run is None:
        if event.event_type == "OTHER":
            notes.append("An OTHER event of a run not yet started changes nothing.")
            return None
        mapping = run.mapping
        assert mapping is not None
        training_run, _ = registry.training_run_start(
            actor=actor,
            system=mapping.system,
            model=mapping.model,
            params=event.ours("params") or {},
            dataset_versions=inputs,
            code_revision=event.code_revision,
            environment=event.environment,
        )
        run.training_run = training_run
        run.started_at = event.event_time if event.event_type == "START" else None
        run.save(update_fields=["training_run", "started_at"])
    if event.event_type in TERMINAL:
        if training_run.status != TrainingRun.Status.RUNNING:
            notes.append(
                f"Training run {training_run.pk} is {training_run.status} already; "
                f"this {event.event_type} changes nothing."
            )
        elif event.event_type == "COMPLETE":
            registry.training_run_complete(
                actor=actor, run=training_run, metrics=event.ours("metrics") or {}
            )
        elif event.event_type == "FAIL":
            registry.training_run_fail(actor=actor, run=training_run, reason=event.failure_reason)
        else:
            registry.training_run_abandon(
                actor=actor, run=training_run, reason=event.failure_reason
            )
    return record_ref("training_run", training_run)


def _prediction_batch_change(
    *, actor: Principal, event: RunEvent, run: LineageRun, notes: list[str]
) -> dict[str, str] | None:
    """Records the batch at its run's COMPLETE, from one input and one output with
    digests, the output's row count and ``auditTrail_run.rowsRoot`` (spec §6); the
    window runs from the run's START to its COMPLETE."""
    if event.event_type == "START":
        run.started_at = event.event_time
        run.save(update_fields=["started_at"])
    if event.event_type != "COMPLETE":
        if event.event_type in TERMINAL:
            notes.append(
                f"A prediction batch ended with {event.event_type}: the event is on the "
                "record, and no batch is."
            )
        return record_ref("prediction_batch", run.prediction_batch)
    if run.prediction_batch is not None:
        notes.append(f"Prediction batch {run.prediction_batch.pk} was recorded already.")
        return record_ref("prediction_batch", run.prediction_batch)
    missing = _batch_gaps(event)
    if missing:
        notes.append("No prediction batch recorded: " + "; ".join(missing) + ".")
        return None
    mapping = run.mapping
    assert mapping is not None and mapping.deployment is not None
    batch, _ = registry.prediction_batch_record(
        actor=actor,
        deployment=mapping.deployment,
        input_sha256=event.inputs[0].sha256 or "",
        output_sha256=event.outputs[0].sha256 or "",
        row_count=event.outputs[0].row_count or 0,
        rows_root=event.ours("rowsRoot"),
        window_start=run.started_at,
        window_end=event.event_time,
        ran_on={"openlineage_job": f"{event.job_namespace}/{event.job_name}"},
    )
    run.prediction_batch = batch
    run.save(update_fields=["prediction_batch"])
    return record_ref("prediction_batch", batch)


def _batch_gaps(event: RunEvent) -> list[str]:
    gaps = []
    if len(event.inputs) != 1 or not event.inputs[0].sha256:
        gaps.append("the event needs exactly one input with a digest")
    if len(event.outputs) != 1 or not event.outputs[0].sha256:
        gaps.append("exactly one output with a digest")
    elif event.outputs[0].row_count is None:
        gaps.append("the output's outputStatistics.rowCount")
    if not event.ours("rowsRoot"):
        gaps.append("the run facet auditTrail_run.rowsRoot")
    return gaps
