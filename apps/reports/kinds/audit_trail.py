"""Audit-trail report: every ledger entry of a time range (about one system's records,
or the whole organization's), listed in order, with their exact bytes attached."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import Q

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
from apps.reports.kinds.common import (
    ANY_SUBJECT,
    Citations,
    Gathered,
    People,
    ReportKind,
    system_facts,
    when,
    words,
)
from apps.reports.models import Report
from audit_platform.ids import id_text

ENTRY_LINES_PER_BLOCK = 60
# The longest event type is printed whole; subjects and actors are shortened, never
# the type (the entry's exact bytes are attached anyway).
TYPE_WIDTH = 36
SUBJECT_WIDTH = 24
# In words, for the selection rule the report states.
SUBJECT_WORDS = {
    "ai_system": "the AI system (registration, lifecycle status, provider, classifications, "
    "obligation evidence, fundamental-rights impact assessments)",
    "dataset": "its datasets",
    "dataset_version": "their versions",
    "training_run": "its training runs",
    "model": "its models",
    "model_version": "their versions",
    "deployment": "its deployments (activations, rollbacks, stops, decision overrides)",
    "prediction_batch": "their prediction batches",
    "risk": "its risks (Art. 9)",
    "assessment": "its assessments",
    "approval_request": "approval requests on its deployments and their decisions (Art. 14)",
    "incident": "its serious incidents and their reports (Art. 73)",
    "explanation": "explanations of its model versions and batches",
    "gate_alert": "alerts of its deployment gate",
    "monitoring_policy": "its monitoring policies (Art. 72)",
    "drift_report": "their drift reports",
    "performance_report": "their performance reports",
    "alert": "their alerts",
    "retraining_trigger": "their retraining triggers",
    "artifact": "the stored files of its datasets, models and batches",
    "report": "the reports about it",
}


def _ids(queryset: Any) -> list[str]:
    return [str(pk) for pk in queryset.values_list("pk", flat=True)]


def _artifact_ids(system: AISystem) -> list[str]:
    """The SHA-256 (an artifact's subject id) of every stored file under the system."""
    digests: set[str] = set()
    for queryset, fields in (
        (DatasetVersion.objects.filter(dataset__system=system), ("artifact__sha256",)),
        (ModelVersion.objects.filter(model__system=system), ("artifact__sha256",)),
        (
            PredictionBatch.objects.filter(deployment__system=system),
            ("input_artifact__sha256", "output_artifact__sha256", "rows_artifact__sha256"),
        ),
    ):
        for row in queryset.values_list(*fields):
            digests.update(d for d in row if d)
    return sorted(digests)


# Records of other apps under a system, read through django.apps by their
# ``organization_path`` (the path to the system is that path without its organization).
OTHER_RECORDS = (
    ("compliance", "GateAlert", "gate_alert"),
    ("monitoring", "MonitoringPolicy", "monitoring_policy"),
    ("monitoring", "DriftReport", "drift_report"),
    ("monitoring", "PerformanceReport", "performance_report"),
    ("monitoring", "Alert", "alert"),
    ("monitoring", "RetrainingTrigger", "retraining_trigger"),
)


def _other_ids(system: AISystem) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for app_label, model_name, subject_kind in OTHER_RECORDS:
        if not apps.is_installed(f"apps.{app_label}"):
            continue
        model = apps.get_model(app_label, model_name)
        path = model.organization_path.removesuffix("__organization")
        found[subject_kind] = _ids(model.objects.filter(**{path: system}))
    return found


def _explanation_ids(system: AISystem) -> list[str]:
    if not apps.is_installed("apps.explainability"):
        return []
    explanation = apps.get_model("explainability", "Explanation")
    return _ids(
        explanation.objects.filter(
            Q(model_version__model__system=system) | Q(prediction_batch__deployment__system=system)
        )
    )


def system_subjects(system: AISystem) -> dict[str, list[str]]:
    """Every record under ``system``, by the subject kind of its ledger entries: the
    audit trail of a system lists each entry about any of them."""
    from apps.compliance import selectors as compliance

    return {
        "ai_system": [str(system.pk)],
        "dataset": _ids(Dataset.objects.filter(system=system)),
        "dataset_version": _ids(DatasetVersion.objects.filter(dataset__system=system)),
        "training_run": _ids(TrainingRun.objects.filter(system=system)),
        "model": _ids(Model.objects.filter(system=system)),
        "model_version": _ids(ModelVersion.objects.filter(model__system=system)),
        "deployment": _ids(Deployment.objects.filter(system=system)),
        "prediction_batch": _ids(PredictionBatch.objects.filter(deployment__system=system)),
        **compliance.record_ids_of_system(system=system),
        "explanation": _explanation_ids(system),
        **_other_ids(system),
        "artifact": _artifact_ids(system),
        "report": _ids(Report.objects.filter(system=system)),
    }


def selection_rule(system: AISystem | None) -> str:
    """The rule the report used to select entries, in words."""
    if system is None:
        return "Every entry of the organization's ledger whose time falls in the range."
    kinds = ", ".join(SUBJECT_WORDS[k] for k in system_subjects(system) if k in SUBJECT_WORDS)
    return (
        f"Every entry of the ledger whose time falls in the range and whose subject is "
        f"AI system {system.name!r} or a record under it: {kinds}. Entries about the "
        "organization itself (members, API keys, signing keys) are not listed."
    )


def audit_entries(
    *, log: Any, system: AISystem | None, time_from: datetime, time_to: datetime
) -> Any:
    """The queryset of entries an audit-trail report lists (also used to refuse an
    empty range before anything is queued)."""
    if system is None:
        return ledger_selectors.entries_filtered(log=log, time_from=time_from, time_to=time_to)
    return ledger_selectors.entries_about(
        log=log, subjects=system_subjects(system), time_from=time_from, time_to=time_to
    )


def _header(actor_width: int) -> str:
    return (
        f"{'seq':>7}  {'time (UTC)':<19}  {'type':<{TYPE_WIDTH}}  "
        f"{'subject':<{SUBJECT_WIDTH}}  {'by':<{actor_width}}"
    )


def _entry_line(entry: ledger_selectors.EntryLine, people: People) -> str:
    actor = people.actor(entry.actor_kind, entry.actor_id)
    # Never cut: a longer subject shifts the "by" column of its line instead.
    subject = f"{words(entry.subject_kind)} {entry.subject_id}"
    return (
        f"{entry.seq:>7}  {entry.time.strftime('%Y-%m-%d %H:%M:%S')}  "
        f"{entry.type:<{TYPE_WIDTH}}  {subject:<{SUBJECT_WIDTH}}  {actor}"
    )


def gather(report: Report, cite: Citations) -> Gathered:
    time_from = datetime.fromisoformat(report.params["time_from"])
    time_to = datetime.fromisoformat(report.params["time_to"])
    entries = audit_entries(
        log=cite.log, system=report.system, time_from=time_from, time_to=time_to
    )
    # Streamed: the page text and entries.jsonl grow with the document, nothing else.
    people = People(report.organization)
    blocks: list[str] = []
    lines: list[str] = []
    jsonl: list[bytes] = []
    first = last = None
    for entry in ledger_selectors.entry_lines(entries=entries):
        cite.add(entry.seq)
        first = entry.seq if first is None else first
        last = entry.seq
        lines.append(_entry_line(entry, people))
        jsonl.append(entry.body)
        if len(lines) == ENTRY_LINES_PER_BLOCK:
            blocks.append("\n".join(lines))
            lines = []
    if lines:
        blocks.append("\n".join(lines))
    subject = report.system.name if report.system else f"organization {report.organization.name}"
    context = {
        "scope": subject,
        "system": system_facts(report.system, cite) if report.system else None,
        "rule": selection_rule(report.system),
        "time_from": when(time_from),
        "time_to": when(time_to),
        "count": len(jsonl),
        "first_seq": first,
        "last_seq": last,
        "entry_header": _header(8),
        "entry_blocks": blocks,
    }
    records = {
        "scope": subject,
        "system_id": id_text(report.system_id),
        "time_from": time_from,
        "time_to": time_to,
        "selection_rule": context["rule"],
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
