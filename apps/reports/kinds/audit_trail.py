"""Audit-trail report: every ledger entry of a time range (about one system's records,
or the whole organization's), listed in order, with their exact bytes attached."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apps.ledger import selectors as ledger_selectors
from apps.registry.models import (
    AISystem,
    Dataset,
    DatasetVersion,
    Deployment,
    Model,
    ModelVersion,
    PredictionBatch,
    TrainingRun,
)
from apps.reports.kinds.common import ANY_SUBJECT, Citations, Gathered, ReportKind, when
from apps.reports.models import Report

ENTRY_LINES_PER_BLOCK = 60
HEADER = f"{'seq':>7}  {'time (UTC)':<19}  {'type':<34}  {'subject':<30}  actor"


def _system_subjects(system: AISystem) -> dict[str, list[str]]:
    def ids(queryset: Any) -> list[str]:
        return [str(pk) for pk in queryset.values_list("pk", flat=True)]

    return {
        "ai_system": [str(system.pk)],
        "dataset": ids(Dataset.objects.filter(system=system)),
        "dataset_version": ids(DatasetVersion.objects.filter(dataset__system=system)),
        "training_run": ids(TrainingRun.objects.filter(system=system)),
        "model": ids(Model.objects.filter(system=system)),
        "model_version": ids(ModelVersion.objects.filter(model__system=system)),
        "deployment": ids(Deployment.objects.filter(system=system)),
        "prediction_batch": ids(PredictionBatch.objects.filter(deployment__system=system)),
        "report": ids(Report.objects.filter(system=system)),
    }


def audit_entries(
    *, log: Any, system: AISystem | None, time_from: datetime, time_to: datetime
) -> Any:
    """The queryset of entries an audit-trail report lists (also used to refuse an
    empty range before anything is queued)."""
    if system is None:
        return ledger_selectors.entries_filtered(log=log, time_from=time_from, time_to=time_to)
    return ledger_selectors.entries_about(
        log=log, subjects=_system_subjects(system), time_from=time_from, time_to=time_to
    )


def _entry_line(entry: ledger_selectors.EntryLine) -> str:
    actor = f"{entry.actor_kind}/{entry.actor_id}"
    subject = f"{entry.subject_kind}/{entry.subject_id}"
    return (
        f"{entry.seq:>7}  {entry.time.strftime('%Y-%m-%d %H:%M:%S')}  {entry.type[:34]:<34}  "
        f"{subject[:30]:<30}  {actor[:24]}"
    )


def gather(report: Report, cite: Citations) -> Gathered:
    time_from = datetime.fromisoformat(report.params["time_from"])
    time_to = datetime.fromisoformat(report.params["time_to"])
    entries = audit_entries(
        log=cite.log, system=report.system, time_from=time_from, time_to=time_to
    )
    # Streamed: the page text and entries.jsonl grow with the document, nothing else.
    blocks: list[str] = []
    lines: list[str] = []
    jsonl: list[bytes] = []
    first = last = None
    for entry in ledger_selectors.entry_lines(entries=entries):
        cite.add(entry.seq)
        first = entry.seq if first is None else first
        last = entry.seq
        lines.append(_entry_line(entry))
        jsonl.append(entry.body)
        if len(lines) == ENTRY_LINES_PER_BLOCK:
            blocks.append("\n".join(lines))
            lines = []
    if lines:
        blocks.append("\n".join(lines))
    subject = report.system.name if report.system else f"organization {report.organization.name}"
    context = {
        "scope": subject,
        "time_from": when(time_from),
        "time_to": when(time_to),
        "count": len(jsonl),
        "first_seq": first,
        "last_seq": last,
        "entry_header": HEADER,
        "entry_blocks": blocks,
    }
    records = {
        "scope": subject,
        "system_id": report.system_id,
        "time_from": time_from,
        "time_to": time_to,
        "entries": len(jsonl),
        "first_seq": first,
        "last_seq": last,
        "entries_file": "entries.jsonl (canonical bytes of each entry, one per line)",
    }
    entries_file = (
        "entries.jsonl",
        b"\n".join(jsonl) + (b"\n" if jsonl else b""),
        "RFC 8785 bytes of each listed ledger entry, one per line, in seq order",
    )
    return Gathered(
        context=context, records=records, about={"scope": subject}, attachments=[entries_file]
    )


AUDIT_TRAIL = ReportKind(
    key=Report.Kind.AUDIT_TRAIL,
    title="Audit-trail report: {scope}",
    template="reports/audit_trail.html",
    sections=(
        "Scope",
        "Verification of the log at render time",
        "Covering signed checkpoint",
        "Entries in order",
    ),
    gather=gather,
    cites=frozenset({ANY_SUBJECT}),
    cited_table=False,
)
