"""What every report kind shares: the declaration of a kind, the document it gathers,
the citations of ledger entries, and small formatting helpers.

The ledger is read through ``apps.ledger.selectors`` only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from apps.ledger import selectors as ledger_selectors
from apps.reports.models import Report

# Above this many cited entries, their tlog-proofs travel in one ZIP attachment
# instead of one attachment each (a PDF viewer lists attachments one per line).
PROOFS_AS_FILES_MAX = 300
# A report cites entries about any record (the audit trail of an organization).
ANY_SUBJECT = "*"


class RecordUnreadable(Exception):
    """A record the report must state cannot be read: the report fails with
    ``reason`` rather than say that nothing is on the record."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RecordDoesNotSupport(RecordUnreadable):
    """The record does not back what the document would state (a declaration of
    conformity for a system that is not high-risk): the report fails with ``reason``
    and produces no PDF. Never retried: the record must change first."""


@dataclass
class Gathered:
    """What a kind's ``gather`` reads from the record: the template's context, the
    records attached as JSON, what is missing, extra attachments (file name, bytes,
    description), and the names its title is formatted with."""

    context: dict[str, Any]
    records: dict[str, Any]
    about: dict[str, str]
    missing: list[str] = field(default_factory=list)
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)


@dataclass
class Document:
    """A gathered report, ready to render: template, title and context, the records
    behind it, what is missing, and extra attachments."""

    template: str
    title: str
    context: dict[str, Any]
    records: dict[str, Any]
    missing: list[str] = field(default_factory=list)
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    cited_table: bool = True


class Citations:
    """The ledger entries about a set of records, by (kind, id, type), and which of
    them the document cites."""

    def __init__(self, log: Any) -> None:
        self.log = log
        self.by_subject: dict[tuple[str, str, str], int] = {}
        self.last_by_subject: dict[tuple[str, str, str], int] = {}
        self.cited: set[int] = set()

    def load(self, subjects: dict[str, Iterable[Any]]) -> None:
        for kind, sid, type_, seq in ledger_selectors.entry_seqs_about(
            log=self.log, subjects=subjects
        ):
            self.by_subject.setdefault((kind, sid, type_), seq)
            self.last_by_subject[(kind, sid, type_)] = seq

    def seq(self, kind: str, id: Any, type: str) -> int | None:
        return self.add(self.by_subject.get((kind, str(id), type)))

    def last(self, kind: str, id: Any, type: str) -> int | None:
        """The latest entry of that type about the record (a risk's last update)."""
        return self.add(self.last_by_subject.get((kind, str(id), type)))

    def first(self, kind: str, id: Any, type: str) -> int | None:
        """The first entry of that type about a record not loaded (one query)."""
        return self.add(
            ledger_selectors.entry_seq_first(
                log=self.log, subject_kind=kind, subject_id=id, type=type
            )
        )

    def add(self, seq: int | None) -> int | None:
        if seq is not None:
            self.cited.add(seq)
        return seq


@dataclass(frozen=True)
class ReportKind:
    """One kind of report, declared in one place.

    ``title`` is formatted with the gathered ``about`` names; ``sections`` are the
    headings its template renders, in order; ``gather`` reads the record; ``cites``
    names the subject kinds of the ledger entries it may cite (``ANY_SUBJECT``: any);
    ``cited_table`` says whether the PDF lists the cited entries in a table.
    """

    key: Report.Kind
    title: str
    template: str
    sections: tuple[str, ...]
    gather: Callable[[Report, Citations], Gathered]
    cites: frozenset[str]
    cited_table: bool = True

    def build(self, report: Report, cite: Citations) -> Document:
        gathered = self.gather(report, cite)
        return Document(
            template=self.template,
            title=self.title.format(**gathered.about),
            context=gathered.context,
            records=gathered.records,
            missing=gathered.missing,
            attachments=gathered.attachments,
            cited_table=self.cited_table,
        )


# --- Formatting ---------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def records_json(records: dict[str, Any]) -> bytes:
    return json.dumps(records, indent=1, sort_keys=True, default=_json_default).encode()


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def readable(value: Any) -> str:
    """A stored value in words for a reader, never as JSON: a mapping as "key: value"
    clauses, a list as a comma-separated enumeration, a flag as yes or no."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return "; ".join(f"{words(k)}: {readable(v)}" for k, v in sorted(value.items())) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(readable(v) for v in value) or "none"
    return str(value)


def pairs(value: Any) -> list[tuple[str, str]]:
    """A stored mapping as (key, value) rows, both in words (``bias_examination`` →
    ``bias examination``)."""
    if not isinstance(value, dict):
        return []
    return [(words(k), readable(v)) for k, v in sorted(value.items())]


def metric_value(value: Any) -> float | None:
    """A metric's number: as recorded, or the ``value`` of one recorded with its
    interval (``{"value", "low", "high"}``), so no metric is dropped for its interval."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def metric_interval(value: Any) -> tuple[float, float] | None:
    """The interval recorded with a metric (``low``/``high``, or ``ci``), if any."""
    if not isinstance(value, dict):
        return None
    low, high = value.get("low"), value.get("high")
    if low is None and isinstance(value.get("ci"), list | tuple) and len(value["ci"]) == 2:
        low, high = value["ci"]
    if isinstance(low, int | float) and isinstance(high, int | float):
        return float(low), float(high)
    return None


def metric_pairs(metrics: Any) -> list[tuple[str, str]]:
    """Recorded metrics as (name in words, value with its interval where recorded)."""
    if not isinstance(metrics, dict):
        return []
    rows = []
    for name, value in sorted(metrics.items()):
        number, bounds = metric_value(value), metric_interval(value)
        text = readable(value) if number is None else f"{number:g}"
        if bounds is not None:
            text += f" (interval {bounds[0]:g} to {bounds[1]:g})"
        rows.append((words(name), text))
    return rows


def numeric_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    return {
        k: number for k, v in (metrics or {}).items() if (number := metric_value(v)) is not None
    }


def serving(deployment: Any) -> str:
    if deployment.model_version is not None:
        return str(deployment.model_version)
    return "nothing (stopped)" if deployment.status == "stopped" else "nothing yet"


# How SHAP values were computed (apps/explainability), in words.
SHAP_METHODS = {
    "xgboost_pred_contribs": "exact tree SHAP built into XGBoost",
    "lightgbm_pred_contrib": "exact tree SHAP built into LightGBM",
    "shap_tree_explainer": "SHAP tree explainer",
    "shap_linear_explainer": "SHAP linear explainer",
    "shap_permutation_explainer": "SHAP permutation explainer (sampled)",
}


def words(value: Any) -> str:
    """A stored key in words: ``annex_iii`` → ``annex iii``, ``in_service`` → ``in
    service``; nothing (None or empty) is a dash. The templates' ``words`` filter too."""
    if value is None or value == "":
        return "—"
    return str(value).replace("_", " ")


def system_facts(system: Any, cite: Citations) -> dict[str, Any]:
    # Loaded here, not only with the lifecycle: every kind starts with these facts.
    cite.load({"ai_system": [system.pk]})
    return {
        "name": system.name,
        "intended_purpose": system.intended_purpose,
        "role": system.role,
        "status": system.status,
        "status_label": system.get_status_display(),
        # The last status change (none: the status it was registered with).
        "status_seq": cite.last("ai_system", system.pk, "ai_system.status_changed"),
        "created_at": when(system.created_at),
        "seq": cite.seq("ai_system", system.pk, "ai_system.registered"),
    }


def versions_covered(report: Report) -> list[Any]:
    """The model versions a document about a system covers: the one named in the
    request, else the ones its active deployments serve now (never merely the latest
    registered)."""
    from apps.registry.models import Deployment, ModelVersion

    if report.model_version_id is not None:
        return [report.model_version]
    serving_ids = (
        Deployment.objects.filter(
            system=report.system, status=Deployment.Status.ACTIVE, model_version__isnull=False
        )
        .values_list("model_version_id", flat=True)
        .distinct()
    )
    return list(
        ModelVersion.objects.filter(pk__in=list(serving_ids)).select_related("model").order_by("pk")
    )


class People:
    """The organization's members by name and role, for documents: a person is named,
    never "user 12". Someone no longer a member keeps their id."""

    def __init__(self, organization: Any) -> None:
        from apps.tenancy.selectors import memberships_of

        self.by_user: dict[str, str] = {}
        for membership in memberships_of(organization=organization):
            user = membership.user
            name = user.get_full_name().strip() or user.email or user.get_username()
            self.by_user[str(user.pk)] = f"{name} ({words(membership.role)})"

    def user(self, user_id: Any) -> str:
        if user_id is None:
            return "not assigned"
        return self.by_user.get(str(user_id), f"user {user_id} (no longer a member)")

    def actor(self, kind: str, id: Any, name: str = "") -> str:
        """Who acted, as the ledger names them (``kind``/``id``/``name``)."""
        if kind == "user":
            return self.user(id)
        if kind == "api_key":
            return f"API key {name or id} (prefix {id})" if name else f"API key {id}"
        if kind == "system":
            return f"the service ({words(name or id)})"
        return f"{words(kind)} {id}"

    def who(self, text: str) -> str:
        """A row's ``created_by`` / ``requested_by`` (``user:12``, ``api_key:ab12``)."""
        kind, _, ident = (text or "").partition(":")
        return self.actor(kind, ident)


# --- The ledger facts every document ends with ----------------------------------------


def cited_entries(*, log: Any, seqs: Iterable[int]) -> list[dict[str, Any]]:
    """The appendix of cited entries: seq, time, type, subject, leaf hash."""
    return [
        {
            "seq": entry.seq,
            "time": when(entry.time),
            "type": entry.type,
            "subject": f"{words(entry.subject_kind)} {entry.subject_id}",
            "leaf_hash": entry.leaf_hash.hex(),
        }
        for entry in ledger_selectors.entry_summaries(log=log, seqs=seqs)
    ]


def checkpoint_facts(checkpoint: Any) -> dict[str, Any]:
    facts = ledger_selectors.checkpoint_facts(checkpoint=checkpoint)
    return {**asdict(facts), "created_at": when(facts.created_at)}


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Inside it, a stored record of a shape the report cannot read (a missing key, a
    list for a mapping) fails the report with ``RecordUnreadable`` naming ``what``."""
    try:
        yield
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise RecordUnreadable(
            f"The report cannot read {what}: {type(exc).__name__}: {exc}"
        ) from exc
