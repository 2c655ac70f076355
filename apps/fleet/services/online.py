"""Online decisions: logged by a serving system, paired (CloudEvents come as request
and response halves), and sealed into prediction batches with a rows root, so that
each decision has the receipt a batch row has (docs/online-serving.md)."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.fleet import events
from apps.fleet.cloudevents import MAX_ID_LENGTH, Half
from apps.fleet.fastjson import canonical, input_sha256, leaf_bytes
from apps.fleet.models import OnlineDecision, OnlineExchange, ServingPolicy
from apps.inference.scoring import ROWS_SCHEMA, ROWS_WRITE_OPTIONS
from apps.ledger.core.hashing import leaf_hash
from apps.ledger.core.merkle import tree_hash
from apps.ledger.types import Receipt
from apps.registry import selectors as registry_selectors
from apps.registry.artifacts import artifact_store
from apps.registry.models import Deployment, ModelVersion
from apps.registry.services.prediction_batches import prediction_batch_record
from apps.tenancy.records import record_event
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.ids import new_id
from audit_platform.principal import Principal

# Ids looked up or updated per statement: well under PostgreSQL's 65,535 parameters.
_CHUNK = 5_000
_MAX_LISTED_PROBLEMS = 10


@dataclass
class LogOutcome:
    """What became of a post of logged decisions or events."""

    decisions: int = 0  # new decisions logged, waiting to be sealed
    duplicates: int = 0  # sent before: recorded once
    waiting: int = 0  # halves whose other half has not come yet
    rejected: list[dict[str, str]] = field(default_factory=list)  # {"id", "reason"}

    def as_json(self) -> dict[str, Any]:
        return {
            "decisions": self.decisions,
            "duplicates": self.duplicates,
            "waiting": self.waiting,
            "rejected": self.rejected,
        }


# --- the organization's choice: inputs stored or only digested -----------------------


def store_inputs(*, organization: Any) -> bool:
    policy = ServingPolicy.objects.filter(organization=organization).first()
    return policy is not None and policy.store_inputs


def serving_policy_set(*, actor: Principal, store_inputs: bool) -> tuple[ServingPolicy, Receipt]:
    """Chooses whether the inputs of the organization's online decisions are stored
    from now on, or only their digests (the default)."""
    with transaction.atomic():
        policy, _ = ServingPolicy.objects.select_for_update().get_or_create(
            organization=actor.organization
        )
        policy.store_inputs = store_inputs
        policy.save()
        receipt = record_event(
            actor=actor,
            event=events.SERVING_POLICY_CHANGED,
            id=actor.organization.pk,
            data={"store_inputs": store_inputs},
        )
    return policy, receipt


# --- logging ----------------------------------------------------------------------


def _serving_version(*, deployment: Deployment, now: datetime) -> ModelVersion:
    version = registry_selectors.served_at(deployment=deployment, at=now)
    if version is None:
        raise RuleViolation(
            f"Deployment {deployment.pk} serves no model version now: activate one before "
            "logging its decisions."
        )
    return version


@dataclass(frozen=True)
class _Row:
    request_id: str
    part: int
    input_sha256: str
    input: Any
    output: Any


def _line_row(line: Any, keep_inputs: bool) -> _Row:
    """A decision from one JSON Lines line ``{"id", "input", "output"}``."""
    if not isinstance(line, dict):
        raise ValueError("must be a JSON object")
    unknown = set(line) - {"id", "input", "output"}
    if unknown:
        raise ValueError(f"has keys other than id, input and output: {sorted(unknown)}")
    request_id, row_input = line.get("id"), line.get("input")
    if not isinstance(request_id, str) or not 0 < len(request_id) <= MAX_ID_LENGTH:
        raise ValueError(f"id must be text of 1 to {MAX_ID_LENGTH} characters")
    if not isinstance(row_input, dict):
        raise ValueError("input must be a JSON object {column: value}")
    if "output" not in line:
        raise ValueError("has no output")
    return _Row(
        request_id=request_id,
        part=0,
        input_sha256=input_sha256(row_input),
        input=row_input if keep_inputs else None,
        output=line["output"],
    )


def online_decisions_log(
    *, deployment: Deployment, lines: Sequence[Any], now: datetime | None = None
) -> LogOutcome:
    """Logs complete decisions (JSON Lines: one ``{"id", "input", "output"}`` a line)
    to the deployment's open batch. A line with an id logged before is a duplicate,
    recorded once; any malformed line refuses the whole post."""
    now = now or timezone.now()
    version = _serving_version(deployment=deployment, now=now)
    keep = store_inputs(organization=deployment.system.organization)
    rows, problems = [], {}
    for number, line in enumerate(lines, start=1):
        try:
            rows.append(_line_row(line, keep))
        except (ValueError, TypeError) as exc:
            if len(problems) < _MAX_LISTED_PROBLEMS:
                problems[f"line {number}"] = [str(exc)]
    if problems:
        raise InvalidInput(
            f"Fix the lines named in fields ({len(problems)} shown); nothing was logged.",
            fields=problems,
        )
    outcome = LogOutcome()
    with transaction.atomic():
        _insert(deployment=deployment, version=version, now=now, rows=rows, outcome=outcome)
    _seal_when_full(deployment=deployment, version=version)
    return outcome


def _insert(
    *,
    deployment: Deployment,
    version: ModelVersion,
    now: datetime,
    rows: Iterable[_Row],
    outcome: LogOutcome,
) -> None:
    """Inserts the decisions not logged before; a decision logged again with the same
    input and output is a duplicate, with others a rejected one."""
    fresh: dict[tuple[str, int], _Row] = {}
    for row in rows:
        key = (row.request_id, row.part)
        seen = fresh.get(key)
        if seen is None:
            fresh[key] = row
        else:
            _repeat(outcome, key, (seen.input_sha256, seen.output), row)
    if connection.vendor == "postgresql":
        inserted = _copy_insert(deployment=deployment, version=version, now=now, rows=fresh)
    else:
        inserted = _orm_insert(deployment=deployment, version=version, now=now, rows=fresh)
    repeated = {key: row for key, row in fresh.items() if key not in inserted}
    ids = sorted({key[0] for key in repeated})
    for start in range(0, len(ids), _CHUNK):
        logged = OnlineDecision.objects.filter(
            deployment=deployment, request_id__in=ids[start : start + _CHUNK]
        ).values_list("request_id", "part", "input_sha256", "output")
        for request_id, part, digest, output in logged:
            row = repeated.get((request_id, part))
            if row is not None:
                _repeat(outcome, (request_id, part), (digest, output), row)
    outcome.decisions += len(inserted)


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, allow_nan=False)


def _copy_insert(
    *,
    deployment: Deployment,
    version: ModelVersion,
    now: datetime,
    rows: dict[tuple[str, int], _Row],
) -> set[tuple[str, int]]:
    """PostgreSQL: the rows are copied into a session's scratch table and inserted from
    there, skipping those logged before; building 10,000 model instances for
    ``bulk_create`` costs more than everything else a decision takes. Returns the keys
    inserted."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS fleet_incoming (id uuid, request_id text, "
            "part integer, input_sha256 text, input jsonb, output jsonb) ON COMMIT DELETE ROWS"
        )
        cursor.execute("DELETE FROM fleet_incoming")
        with cursor.cursor.copy(
            "COPY fleet_incoming (id, request_id, part, input_sha256, input, output) FROM STDIN"
        ) as copy:
            for decision_id, row in _in_id_order(rows):
                copy.write_row(
                    (
                        decision_id,
                        row.request_id,
                        row.part,
                        row.input_sha256,
                        _json_text(row.input),
                        _json_text(row.output),
                    )
                )
        # A decision logged before (or by a concurrent post) stays as first logged.
        cursor.execute(
            "INSERT INTO fleet_onlinedecision (id, deployment_id, model_version_id, request_id, "
            "part, received_at, input_sha256, input, output) SELECT id, %s, %s, request_id, part, "
            "%s, input_sha256, input, output FROM fleet_incoming ORDER BY request_id, part "
            "ON CONFLICT (deployment_id, request_id, part) DO NOTHING RETURNING request_id, part",
            [deployment.pk, version.pk, now],
        )
        return set(cursor.fetchall())


def _in_id_order(rows: dict[tuple[str, int], _Row]) -> list[tuple[uuid.UUID, _Row]]:
    """The rows by (request id, part), each with a fresh id that sorts the same way:
    sealing takes open decisions in id order, which is then the order they came in."""
    ordered = sorted(rows.items())
    return list(zip(sorted(new_id() for _ in ordered), (row for _, row in ordered), strict=True))


def _orm_insert(
    *,
    deployment: Deployment,
    version: ModelVersion,
    now: datetime,
    rows: dict[tuple[str, int], _Row],
) -> set[tuple[str, int]]:
    """Other databases (the embedded SQLite): the rows not logged before, through the
    ORM. Returns the keys inserted."""
    fresh = dict(rows)
    ids = sorted({key[0] for key in fresh})
    for start in range(0, len(ids), _CHUNK):
        for key in OnlineDecision.objects.filter(
            deployment=deployment, request_id__in=ids[start : start + _CHUNK]
        ).values_list("request_id", "part"):
            fresh.pop(key, None)
    OnlineDecision.objects.bulk_create(
        [
            OnlineDecision(
                id=decision_id,
                deployment=deployment,
                model_version=version,
                request_id=row.request_id,
                part=row.part,
                received_at=now,
                input_sha256=row.input_sha256,
                input=row.input,
                output=row.output,
            )
            for decision_id, row in _in_id_order(fresh)
        ],
        batch_size=_CHUNK,
        ignore_conflicts=True,
    )
    return set(fresh)


def _repeat(outcome: LogOutcome, key: tuple[str, int], first: tuple[str, Any], row: _Row) -> None:
    if first == (row.input_sha256, row.output):
        outcome.duplicates += 1
        return
    outcome.rejected.append(
        {
            "id": key[0],
            "reason": f"decision {key[0]} (part {key[1]}) was logged before with another input "
            "or output; the first one stays on the record",
        }
    )


def online_events_log(
    *, deployment: Deployment, halves: Sequence[Half], now: datetime | None = None
) -> LogOutcome:
    """Logs CloudEvents halves. A request and the response with its id, in either
    order and in any post, make the decisions of that inference (one per instance);
    a half sent again is a duplicate, recorded once."""
    now = now or timezone.now()
    version = _serving_version(deployment=deployment, now=now)
    keep = store_inputs(organization=deployment.system.organization)
    by_id: dict[str, list[Half]] = {}
    for half in halves:
        by_id.setdefault(half.id, []).append(half)
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                outcome = _log_halves(
                    deployment=deployment, version=version, by_id=by_id, keep=keep, now=now
                )
            break
        except IntegrityError:
            # Another post created one of these exchanges meanwhile: the second try
            # finds it, locked, and adds these halves to it.
            if attempt == 2:
                raise
    _seal_when_full(deployment=deployment, version=version)
    return outcome


_EXCHANGE_FIELDS = [
    "state",
    "reason",
    "request_at",
    "response_at",
    "input_digests",
    "inputs",
    "outputs",
    "source",
    "duplicates",
]


def _log_halves(
    *,
    deployment: Deployment,
    version: ModelVersion,
    by_id: dict[str, list[Half]],
    keep: bool,
    now: datetime,
) -> LogOutcome:
    outcome = LogOutcome()
    ids = sorted(by_id)
    known: dict[str, OnlineExchange] = {}
    for start in range(0, len(ids), _CHUNK):
        known.update(
            (e.request_id, e)
            for e in OnlineExchange.objects.select_for_update().filter(
                deployment=deployment, request_id__in=ids[start : start + _CHUNK]
            )
        )
    new: list[OnlineExchange] = []
    rows: list[_Row] = []
    for request_id in ids:
        exchange = known.get(request_id)
        if exchange is None:
            exchange = OnlineExchange(
                deployment=deployment, request_id=request_id, model_version=version
            )
            new.append(exchange)
        for half in by_id[request_id]:
            _apply(exchange, half, now=now, keep=keep, outcome=outcome)
        rows.extend(_pair(exchange, outcome))
        if exchange.state == OnlineExchange.State.OPEN:
            outcome.waiting += 1
    OnlineExchange.objects.bulk_create(new, batch_size=_CHUNK)
    if known:
        OnlineExchange.objects.bulk_update(
            list(known.values()), fields=_EXCHANGE_FIELDS, batch_size=500
        )
    _insert(deployment=deployment, version=version, now=now, rows=rows, outcome=outcome)
    return outcome


def _apply(
    exchange: OnlineExchange, half: Half, *, now: datetime, keep: bool, outcome: LogOutcome
) -> None:
    """Puts one half on its exchange; a half it has already is a duplicate."""
    if half.kind == "request":
        digests = [input_sha256(row) for row in half.rows]
        if exchange.request_at is not None:
            _repeated_half(exchange, half, exchange.input_digests == digests, outcome)
            return
        exchange.request_at, exchange.input_digests = now, digests
        exchange.inputs = half.rows if keep else None
    else:
        if exchange.response_at is not None:
            _repeated_half(exchange, half, exchange.outputs == half.rows, outcome)
            return
        exchange.response_at, exchange.outputs = now, half.rows
    exchange.source = {**half.source, **exchange.source}


def _repeated_half(exchange: OnlineExchange, half: Half, same: bool, outcome: LogOutcome) -> None:
    if same:
        exchange.duplicates += 1
        outcome.duplicates += 1
        return
    reason = (
        f"a second {half.kind} with id {half.id} and other content was refused; the first "
        "one stays on the record"
    )
    exchange.reason = reason
    outcome.rejected.append({"id": half.id, "reason": reason})


def _pair(exchange: OnlineExchange, outcome: LogOutcome) -> list[_Row]:
    """The decisions of an exchange whose halves are both here now (once only)."""
    if exchange.state not in (OnlineExchange.State.OPEN, OnlineExchange.State.UNPAIRED):
        return []
    if exchange.request_at is None or exchange.response_at is None:
        return []
    digests, outputs = exchange.input_digests or [], exchange.outputs or []
    if len(digests) != len(outputs):
        exchange.state = OnlineExchange.State.REJECTED
        exchange.reason = (
            f"the request holds {len(digests)} instances and the response "
            f"{len(outputs)} predictions: they cannot be paired"
        )
        outcome.rejected.append({"id": exchange.request_id, "reason": exchange.reason})
        return []
    exchange.state, exchange.reason = OnlineExchange.State.PAIRED, ""
    inputs = exchange.inputs or [None] * len(digests)
    return [
        _Row(
            request_id=exchange.request_id,
            part=part,
            input_sha256=digest,
            input=row_input,
            output=output,
        )
        for part, (digest, row_input, output) in enumerate(
            zip(digests, inputs, outputs, strict=True)
        )
    ]


def online_exchanges_sweep(*, now: datetime | None = None) -> int:
    """Reports exchanges that waited past FLEET_UNPAIRED_SECONDS for their other half
    as unpaired, with the reason; they are never sealed, unless the half comes later."""
    now = now or timezone.now()
    before = now - timedelta(seconds=settings.FLEET_UNPAIRED_SECONDS)
    stale = OnlineExchange.objects.filter(state=OnlineExchange.State.OPEN, created_at__lt=before)
    waited = f"after {settings.FLEET_UNPAIRED_SECONDS} s"
    swept = stale.filter(response_at__isnull=True).update(
        state=OnlineExchange.State.UNPAIRED,
        reason=f"no response was logged {waited} (KServe logs only responses with status 200)",
    )
    swept += stale.filter(request_at__isnull=True).update(
        state=OnlineExchange.State.UNPAIRED,
        reason=f"a response without a request: none was logged {waited}",
    )
    return swept


# --- sealing --------------------------------------------------------------------------


def _seal_when_full(*, deployment: Deployment, version: ModelVersion) -> None:
    """Queues the sealing of the deployment's open decisions once a batch is full."""
    from apps.fleet.tasks import online_seal_task

    full = OnlineDecision.objects.filter(
        deployment=deployment, model_version=version, batch__isnull=True
    ).order_by("id")[settings.FLEET_SEAL_ROWS - 1 : settings.FLEET_SEAL_ROWS]
    if full.exists():
        transaction.on_commit(lambda: online_seal_task.delay(deployment.pk))


def online_seal(
    *, deployment_id: int | None = None, force: bool = False, now: datetime | None = None
) -> list[int]:
    """Seals open decisions into prediction batches: every full batch of
    FLEET_SEAL_ROWS, and the rest once the oldest waited FLEET_SEAL_SECONDS (or at
    once, with ``force``). Safe to run twice, also at the same time: each run takes
    only decisions no other run holds. Returns the ids of the batches sealed."""
    now = now or timezone.now()
    open_decisions = OnlineDecision.objects.filter(batch__isnull=True)
    if deployment_id is not None:
        open_decisions = open_decisions.filter(deployment_id=deployment_id)
    streams = open_decisions.values_list("deployment_id", "model_version_id").distinct()
    sealed = []
    for deployment_pk, version_pk in list(streams):
        while True:
            batch_id = _seal_one(
                deployment_id=deployment_pk, version_id=version_pk, force=force, now=now
            )
            if batch_id is None:
                break
            sealed.append(batch_id)
    return sealed


def _seal_one(*, deployment_id: int, version_id: int, force: bool, now: datetime) -> int | None:
    limit = settings.FLEET_SEAL_ROWS
    with transaction.atomic():
        rows = list(
            OnlineDecision.objects.select_for_update(skip_locked=True)
            .filter(deployment_id=deployment_id, model_version_id=version_id, batch__isnull=True)
            .order_by("id")
            .values_list("id", "input_sha256", "output", "received_at")[:limit]
        )
        if not rows:
            return None
        due = now - timedelta(seconds=settings.FLEET_SEAL_SECONDS)
        if len(rows) < limit and not force and rows[0][3] > due:
            return None
        deployment = Deployment.objects.select_related("system__organization").get(pk=deployment_id)
        batch_id = _sealed_batch(deployment=deployment, version_id=version_id, rows=rows)
        _assign(ids=[row[0] for row in rows], batch_id=batch_id)
    return batch_id


def _assign(*, ids: list[uuid.UUID], batch_id: uuid.UUID) -> None:
    """Marks the decisions sealed in the batch."""
    if connection.vendor == "postgresql":
        # One array literal: binding 10,000 ids one by one costs more than the update.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE fleet_onlinedecision SET batch_id = %s WHERE id = ANY(%s::uuid[])",
                [batch_id, "{" + ",".join(map(str, ids)) + "}"],
            )
        return
    for start in range(0, len(ids), _CHUNK):
        OnlineDecision.objects.filter(id__in=ids[start : start + _CHUNK]).update(batch_id=batch_id)


def _sealed_batch(*, deployment: Deployment, version_id: int, rows: list[tuple]) -> int:
    """Records the batch of these decisions (in this order): its rows file, rows root
    and ``prediction_batch.recorded`` entry."""
    organization = deployment.system.organization
    actor = Principal.system(organization=organization, name="online_sealer")
    leaves = [
        leaf_bytes(row=i, input_sha256=digest, output=output)
        for i, (_, digest, output, _) in enumerate(rows)
    ]
    hashes = [leaf_hash(leaf) for leaf in leaves]
    buffer = io.BytesIO()
    pq.write_table(
        pa.table(
            [pa.array(leaves, pa.binary()), pa.array(hashes, pa.binary(32))], schema=ROWS_SCHEMA
        ),
        buffer,
        **ROWS_WRITE_OPTIONS,
    )
    rows_file = SimpleUploadedFile(
        "online-rows.parquet", buffer.getvalue(), content_type="application/vnd.apache.parquet"
    )
    rows_artifact, _ = artifact_store(
        organization=organization, uploaded=rows_file, declared_sha256=None, actor=actor
    )
    inputs_text = "".join(f"{row[1]}\n" for row in rows).encode("ascii")
    outputs_text = b"".join(canonical(row[2]) + b"\n" for row in rows)
    received = [row[3] for row in rows]
    batch, _ = prediction_batch_record(
        actor=actor,
        deployment=deployment,
        input_sha256=hashlib.sha256(inputs_text).hexdigest(),
        output_sha256=hashlib.sha256(outputs_text).hexdigest(),
        row_count=len(rows),
        rows_root=tree_hash(hashes).hex(),
        window_start=min(received),
        window_end=max(received),
        model_version=ModelVersion.objects.get(pk=version_id),
        ran_on={"online": {"decisions": len(rows)}},
        rows_artifact=rows_artifact,
    )
    return batch.pk
