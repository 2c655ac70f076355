"""OpenLineage RunEvents (spec 2-0-x, https://openlineage.io/spec/) read into what the
record needs, with a precise complaint for an event that is not one. No Django.

Only the parts this service uses are interpreted; every other facet is left as sent
(the caller keeps the whole event). Facets read:

- run ``errorMessage`` (``message``): the reason a run failed;
- run ``processing_engine`` (``name``, ``version``): the training run's environment;
- job ``sourceCodeLocation`` (``version``): the training run's code revision;
- dataset ``version`` (``datasetVersion``): the dataset version's label; a value
  ``sha256:<64 hex>`` (or 64 hex alone) is also its digest;
- dataset ``schema`` (``fields``: ``name``, ``type``): its columns;
- input ``inputStatistics`` / output ``outputStatistics`` (``rowCount``, ``size``);
- ours (docs/integrations.md): dataset ``auditTrail_digest`` (``sha256``) and run
  ``auditTrail_run`` (``params``, ``metrics``, ``rowsRoot``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER")
TERMINAL = ("COMPLETE", "FAIL", "ABORT")
DIGEST_FACET = "auditTrail_digest"
RUN_FACET = "auditTrail_run"
RECEIPT_FACET = "auditTrail_ledgerReceipt"
FACET_SCHEMAS = {
    DIGEST_FACET: "AuditTrailDigestDatasetFacet",
    RUN_FACET: "AuditTrailRunFacet",
    RECEIPT_FACET: "AuditTrailLedgerReceiptRunFacet",
}
_SHA256 = re.compile(r"(?:sha256:)?([0-9a-f]{64})")
_HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_NAME = 500


class MalformedEvent(ValueError):
    """The body is not an OpenLineage RunEvent: ``path`` says where, ``problem`` what."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class EventDataset:
    namespace: str
    name: str
    version: str | None  # the ``version`` facet's datasetVersion
    sha256: str | None
    size_bytes: int | None
    row_count: int | None
    schema: list[dict[str, str]] | None

    @property
    def uri(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class RunEvent:
    event_type: str
    event_time: datetime
    event_time_text: str
    time_zone_given: bool
    run_id: uuid.UUID
    job_namespace: str
    job_name: str
    run_facets: dict[str, Any]
    job_facets: dict[str, Any]
    inputs: tuple[EventDataset, ...]
    outputs: tuple[EventDataset, ...]

    @property
    def failure_reason(self) -> str:
        message = self.run_facets.get("errorMessage", {}).get("message")
        if isinstance(message, str) and message.strip():
            return message
        return f"The OpenLineage run ended with {self.event_type} (no errorMessage facet)."

    @property
    def code_revision(self) -> str:
        version = self.job_facets.get("sourceCodeLocation", {}).get("version")
        return version[:200] if isinstance(version, str) else ""

    @property
    def environment(self) -> dict[str, Any]:
        engine = self.run_facets.get("processing_engine")
        if not engine:
            return {}
        return {
            "processing_engine": {
                key: engine[key] for key in ("name", "version") if isinstance(engine.get(key), str)
            }
        }

    def ours(self, key: str) -> Any:
        return self.run_facets.get(RUN_FACET, {}).get(key)


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedEvent(path, f"must be a JSON object, not {_kind(value)}")
    return value


def _text(container: dict[str, Any], key: str, path: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MalformedEvent(f"{path}.{key}", "is required and must be a non-empty string")
    if len(value) > MAX_NAME:
        raise MalformedEvent(f"{path}.{key}", f"is longer than {MAX_NAME} characters")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def _facets(container: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    facets = container.get(key)
    if facets is None:
        return {}
    facets = _object(facets, f"{path}.{key}")
    for name, facet in facets.items():
        _object(facet, f"{path}.{key}.{name}")
    return facets


def _count(facet: dict[str, Any], key: str, path: str) -> int | None:
    value = facet.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedEvent(f"{path}.{key}", "must be a whole number, 0 or more")
    return value


def _time(text: Any, path: str) -> tuple[datetime, bool]:
    if not isinstance(text, str):
        raise MalformedEvent(path, "is required: the time of the event, ISO 8601 (RFC 3339)")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedEvent(
            path, f"{text[:40]!r} is not an ISO 8601 (RFC 3339) date and time"
        ) from None
    if parsed.tzinfo is None:
        # Spec date-time values carry an offset; openlineage-python users often send
        # datetime.now().isoformat() without one, which we read as UTC and say so.
        return parsed.replace(tzinfo=UTC), False
    try:
        return parsed.astimezone(UTC), True
    except OverflowError:
        raise MalformedEvent(path, f"{text[:40]!r} lies outside the years 1 to 9999") from None


def _dataset(value: Any, path: str, statistics: str) -> EventDataset:
    dataset = _object(value, path)
    namespace = _text(dataset, "namespace", path)
    name = _text(dataset, "name", path)
    facets = _facets(dataset, "facets", path)
    side_key = "inputFacets" if statistics == "inputStatistics" else "outputFacets"
    side = _facets(dataset, side_key, path)
    version = facets.get("version", {}).get("datasetVersion")
    where = f"{path}.facets.version.datasetVersion"
    if version is not None and (not isinstance(version, str) or not version):
        raise MalformedEvent(where, "must be a non-empty string")
    if version is not None and len(version) > 100:
        raise MalformedEvent(where, "is longer than 100 characters")
    sha256 = None
    ours = facets.get(DIGEST_FACET)
    if ours is not None:
        sha256 = ours.get("sha256")
        if not isinstance(sha256, str) or not _HEX64.fullmatch(sha256):
            raise MalformedEvent(
                f"{path}.facets.{DIGEST_FACET}.sha256",
                "must be 64 lowercase hexadecimal characters (a SHA-256)",
            )
    elif version is not None and (match := _SHA256.fullmatch(version)):
        sha256 = match[1]
    stats = side.get(statistics, {})
    return EventDataset(
        namespace=namespace,
        name=name,
        version=version,
        sha256=sha256,
        size_bytes=_count(stats, "size", f"{path}.{statistics}"),
        row_count=_count(stats, "rowCount", f"{path}.{statistics}"),
        schema=_schema(facets.get("schema"), f"{path}.facets.schema"),
    )


def _schema(facet: dict[str, Any] | None, path: str) -> list[dict[str, str]] | None:
    if facet is None:
        return None
    fields = facet.get("fields")
    if not isinstance(fields, list):
        raise MalformedEvent(f"{path}.fields", "must be an array of columns")
    columns = []
    for position, field in enumerate(fields):
        field = _object(field, f"{path}.fields[{position}]")
        column_type = field.get("type")
        columns.append(
            {
                "name": _text(field, "name", f"{path}.fields[{position}]"),
                "type": column_type if isinstance(column_type, str) else "unknown",
            }
        )
    return columns


def _our_run_facet(facets: dict[str, Any], path: str) -> None:
    facet = facets.get(RUN_FACET)
    if facet is None:
        return
    where = f"{path}.{RUN_FACET}"
    for key in ("params", "metrics"):
        if key in facet:
            _object(facet[key], f"{where}.{key}")
    for name, value in facet.get("metrics", {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MalformedEvent(f"{where}.metrics.{name}", "must be a number")
    root = facet.get("rowsRoot")
    if root is not None and (not isinstance(root, str) or not _HEX64.fullmatch(root)):
        raise MalformedEvent(f"{where}.rowsRoot", "must be 64 lowercase hexadecimal characters")


def run_event(body: Any) -> RunEvent:
    """The RunEvent ``body`` (parsed JSON), or MalformedEvent naming what is wrong."""
    event = _object(body, "$")
    if "run" not in event:
        if "dataset" in event or "job" in event:
            kind = "DatasetEvent" if "dataset" in event else "JobEvent"
            raise MalformedEvent(
                "$.run", f"is missing: this looks like a {kind}; only RunEvents are accepted"
            )
        raise MalformedEvent("$.run", "is required (a RunEvent has run and job)")
    for key in ("producer", "schemaURL"):
        if not isinstance(event.get(key), str) or not event[key]:
            raise MalformedEvent(f"$.{key}", "is required and must be a non-empty string (a URI)")
    event_type = event.get("eventType", "OTHER")
    if event_type not in EVENT_TYPES:
        raise MalformedEvent(
            "$.eventType", f"{str(event_type)[:20]!r} is not one of {', '.join(EVENT_TYPES)}"
        )
    event_time, zoned = _time(event.get("eventTime"), "$.eventTime")
    run = _object(event["run"], "$.run")
    try:
        run_id = uuid.UUID(str(run.get("runId")))
    except ValueError:
        raise MalformedEvent("$.run.runId", "is required and must be a UUID") from None
    if not isinstance(run.get("runId"), str):
        raise MalformedEvent("$.run.runId", "is required and must be a UUID")
    run_facets = _facets(run, "facets", "$.run")
    _our_run_facet(run_facets, "$.run.facets")
    job = _object(event.get("job"), "$.job")
    datasets = {}
    for key, statistics in (("inputs", "inputStatistics"), ("outputs", "outputStatistics")):
        items = event.get(key) or []
        if not isinstance(items, list):
            raise MalformedEvent(f"$.{key}", f"must be an array of datasets, not {_kind(items)}")
        datasets[key] = tuple(
            _dataset(item, f"$.{key}[{i}]", statistics) for i, item in enumerate(items)
        )
    return RunEvent(
        event_type=event_type,
        event_time=event_time,
        event_time_text=event["eventTime"],
        time_zone_given=zoned,
        run_id=run_id,
        job_namespace=_text(job, "namespace", "$.job"),
        job_name=_text(job, "name", "$.job"),
        run_facets=run_facets,
        job_facets=_facets(job, "facets", "$.job"),
        inputs=datasets["inputs"],
        outputs=datasets["outputs"],
    )
