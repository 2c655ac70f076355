"""What each report kind says, gathered from the record (registry + ledger).

Each builder returns a :class:`Document`: the template and its context, the records
behind it (attached to the PDF as JSON), and the ledger ``seq`` of every entry it
cites (their tlog-proofs are attached too). Sections whose data is not on the
record say so in words and are listed as gaps; compliance, monitoring and
explainability data are read only when those apps are installed, never imported
at module level.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from apps.ledger import selectors as ledger_selectors
from apps.ledger.models import Checkpoint, Entry, Log
from apps.registry.models import (
    AISystem,
    Dataset,
    DatasetVersion,
    Deployment,
    DeploymentEvent,
    Model,
    ModelVersion,
    PredictionBatch,
    TrainingRun,
)
from apps.reports import charts
from apps.reports.models import Report

# Above this many cited entries, their tlog-proofs travel in one ZIP attachment
# instead of one attachment each (a PDF viewer lists attachments one per line).
PROOFS_AS_FILES_MAX = 300
ENTRY_LINES_PER_BLOCK = 60


@dataclass
class Document:
    template: str
    title: str
    context: dict[str, Any]
    records: dict[str, Any]
    cited: set[int] = field(default_factory=set)
    missing: list[str] = field(default_factory=list)
    # Extra attachments: (file name, bytes, description).
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    cited_table: bool = True


class Citations:
    """The ledger entries about a set of records, by (kind, id, type), and which of
    them the document cites."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.by_subject: dict[tuple[str, str, str], int] = {}
        self.last_by_subject: dict[tuple[str, str, str], int] = {}
        self.cited: set[int] = set()

    def load(self, subjects: dict[str, Iterable[Any]]) -> None:
        condition = Q()
        for kind, ids in subjects.items():
            ids = [str(i) for i in ids]
            if ids:
                condition |= Q(subject_kind=kind, subject_id__in=ids)
        if not condition:
            return
        rows = (
            Entry.objects.filter(condition, log=self.log)
            .values_list("subject_kind", "subject_id", "type", "seq")
            .order_by("seq")
        )
        for kind, sid, type_, seq in rows.iterator(chunk_size=5000):
            self.by_subject.setdefault((kind, sid, type_), seq)
            self.last_by_subject[(kind, sid, type_)] = seq

    def seq(self, kind: str, id: Any, type: str) -> int | None:
        seq = self.by_subject.get((kind, str(id), type))
        if seq is not None:
            self.cited.add(seq)
        return seq

    def last(self, kind: str, id: Any, type: str) -> int | None:
        """The latest entry of that type about the record (a risk's last update)."""
        return self.add(self.last_by_subject.get((kind, str(id), type)))

    def add(self, seq: int | None) -> int | None:
        if seq is not None:
            self.cited.add(seq)
        return seq


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def records_json(records: dict[str, Any]) -> bytes:
    return json.dumps(records, indent=1, sort_keys=True, default=_json_default).encode()


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def _pairs(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return []
    return [
        (str(k), v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str))
        for k, v in sorted(value.items())
    ]


def _numeric_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in (metrics or {}).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def _serving(deployment: Deployment) -> str:
    if deployment.model_version is not None:
        return str(deployment.model_version)
    return "nothing (stopped)" if deployment.status == "stopped" else "nothing yet"


def _optional_app(label: str) -> bool:
    from django.apps import apps

    return apps.is_installed(label)


# --- Kind: Annex IV technical documentation ------------------------------------


def _system_facts(system: AISystem, cite: Citations) -> dict[str, Any]:
    # Loaded here, not only with the lifecycle: every kind starts with these facts.
    cite.load({"ai_system": [system.pk]})
    return {
        "name": system.name,
        "intended_purpose": system.intended_purpose,
        "role": system.role,
        "status": system.status,
        "created_at": _time(system.created_at),
        "seq": cite.seq("ai_system", system.pk, "ai_system.registered"),
    }


def _lifecycle(system: AISystem, cite: Citations) -> dict[str, Any]:
    """Datasets, runs, models and deployments of a system, each with its seqs."""
    datasets = list(Dataset.objects.filter(system=system).order_by("name"))
    versions = list(
        DatasetVersion.objects.filter(dataset__system=system).order_by("dataset_id", "created_at")
    )
    runs = list(
        TrainingRun.objects.filter(system=system)
        .select_related("model")
        .prefetch_related("dataset_versions")
        .order_by("started_at")
    )
    models = list(Model.objects.filter(system=system).order_by("name"))
    model_versions = list(
        ModelVersion.objects.filter(model__system=system)
        .select_related("model")
        .prefetch_related("dataset_versions")
        .order_by("model__name", "created_at")
    )
    deployments = list(Deployment.objects.filter(system=system).select_related("model_version"))
    events = list(
        DeploymentEvent.objects.filter(deployment__system=system)
        .select_related("deployment", "model_version", "previous_model_version")
        .order_by("ledger_seq")
    )
    cite.load(
        {
            "ai_system": [system.pk],
            "dataset": [d.pk for d in datasets],
            "dataset_version": [v.pk for v in versions],
            "training_run": [r.pk for r in runs],
            "model": [m.pk for m in models],
            "model_version": [v.pk for v in model_versions],
            "deployment": [d.pk for d in deployments],
        }
    )
    by_dataset: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for v in versions:
        by_dataset[v.dataset_id].append(
            {
                "id": v.pk,
                "version": v.version,
                "split": v.split,
                "rows": v.row_count,
                "size_bytes": v.size_bytes,
                "sha256": v.sha256,
                "uri": v.uri,
                "personal": v.contains_personal_data,
                "special": v.contains_special_category_data,
                "datasheet": _pairs(v.datasheet),
                "schema": ", ".join(f"{c.get('name')}:{c.get('type')}" for c in v.schema or []),
                "statistics_state": v.statistics_state,
                "created_at": _time(v.created_at),
                "seq": cite.seq("dataset_version", v.pk, "dataset_version.registered"),
                "stats_seq": cite.seq(
                    "dataset_version", v.pk, "dataset_version.statistics_computed"
                ),
            }
        )
    dataset_rows = [
        {
            "name": d.name,
            "description": d.description,
            "seq": cite.seq("dataset", d.pk, "dataset.created"),
            "versions": by_dataset.get(d.pk, []),
        }
        for d in datasets
    ]
    run_rows = []
    for r in runs:
        finish_type = {
            "completed": "training_run.completed",
            "failed": "training_run.failed",
            "abandoned": "training_run.abandoned",
        }.get(r.status)
        run_rows.append(
            {
                "id": r.pk,
                "model": r.model.name if r.model else "—",
                "status": r.status,
                "params": _pairs(r.params),
                "metrics": _pairs(r.metrics),
                "code_revision": r.code_revision or "—",
                "environment": _pairs(r.environment),
                "hardware": _pairs(r.hardware),
                "energy_joules": r.energy_joules,
                "started_at": _time(r.started_at),
                "finished_at": _time(r.finished_at),
                "datasets": ", ".join(str(v) for v in r.dataset_versions.all()) or "—",
                "seq": cite.seq("training_run", r.pk, "training_run.started"),
                "end_seq": cite.seq("training_run", r.pk, finish_type) if finish_type else None,
            }
        )
    version_rows = [
        {
            "id": v.pk,
            "model": v.model.name,
            "version": v.version,
            "format": v.artifact_format,
            "framework": f"{v.framework} {v.framework_version}",
            "sha256": v.artifact_sha256,
            "metrics": _pairs(v.metrics),
            "numeric": _numeric_metrics(v.metrics),
            "training_run": v.training_run_id,
            "datasets": ", ".join(str(d) for d in v.dataset_versions.all()) or "—",
            "created_at": _time(v.created_at),
            "seq": cite.seq("model_version", v.pk, "model_version.registered"),
        }
        for v in model_versions
    ]
    batches = PredictionBatch.objects.filter(deployment__system=system)
    batch_summary = batches.aggregate(
        count=Count("pk"), rows=Sum("row_count"), first=Min("pk"), last=Max("pk")
    )
    for key in ("first", "last"):
        pk = batch_summary[key]
        batch_summary[f"{key}_seq"] = (
            cite.add(
                Entry.objects.filter(
                    log=cite.log,
                    subject_kind="prediction_batch",
                    subject_id=str(pk),
                    type="prediction_batch.recorded",
                )
                .values_list("seq", flat=True)
                .first()
            )
            if pk
            else None
        )
    deployment_rows = [
        {
            "environment": d.environment,
            "status": d.status,
            "serving": _serving(d),
            "resources": _pairs(d.resources),
            "seq": cite.seq("deployment", d.pk, "deployment.created"),
        }
        for d in deployments
    ]
    event_rows = [
        {
            "deployment": e.deployment.environment,
            "kind": e.kind,
            "model_version": str(e.model_version),
            "previous": str(e.previous_model_version) if e.previous_model_version else "—",
            "reason": e.reason or "—",
            "at": _time(e.at),
            "seq": cite.add(e.ledger_seq),
        }
        for e in events
    ]
    test_logs = [
        {"what": f"dataset {d['name']} {v['version']} ({v['split']})", **v}
        for d in dataset_rows
        for v in d["versions"]
        if v["split"] in ("validation", "test")
    ]
    return {
        "datasets": dataset_rows,
        "runs": run_rows,
        "models": [
            {"name": m.name, "seq": cite.seq("model", m.pk, "model.created")} for m in models
        ],
        "versions": version_rows,
        "deployments": deployment_rows,
        "events": event_rows,
        "batches": batch_summary,
        "test_logs": test_logs,
    }


def _performance_chart(versions: list[dict[str, Any]]) -> str:
    names: list[str] = []
    for v in versions:
        for name in v["numeric"]:
            if name not in names:
                names.append(name)
    names = names[:4]
    if not names or not versions:
        return ""
    return charts.line_chart(
        {n: [v["numeric"].get(n) for v in versions] for n in names},
        [f"{v['model']}@{v['version']}" for v in versions],
        title="Performance by model version (as registered)",
    )


def _declaration_on_record(system: AISystem, cite: Citations) -> dict[str, Any] | None:
    report = (
        Report.objects.filter(
            system=system, kind=Report.Kind.DECLARATION, status=Report.Status.SUCCEEDED
        )
        .order_by("-generated_at")
        .first()
    )
    if report is None:
        return None
    return {
        "id": report.pk,
        "sha256": report.sha256,
        "generated_at": _time(report.generated_at),
        "seq": cite.add(report.ledger_seq),
    }


# --- The compliance record (apps.compliance, read through its selectors) -----------------

# Art. 73: the paragraph that sets each kind's reporting period.
INCIDENT_DEADLINE_BASIS = {
    "general": "Art. 73(2)",
    "death": "Art. 73(4)",
    "widespread_infringement": "Art. 73(3)",
    "critical_infrastructure": "Art. 73(3)",
}
# Annex IV topics the reports used to call missing on their own, and the obligations
# of the compliance checklist that answer for them.
TOPIC_OBLIGATIONS = {
    "oversight": {"art_14", "art_26"},
    "risks": {"art_9"},
    "datasheets": {"art_10"},
    "post_market_plan": {"art_72"},
}


def _short(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "not computed" if value is None else str(value)
    return _short(value)


def _interval(ci: Any) -> str:
    if not isinstance(ci, list | tuple) or len(ci) != 2 or None in ci:
        return "not recorded"
    return f"[{_short(ci[0])}, {_short(ci[1])}]"


def _threshold(outcome: dict[str, Any] | None) -> str:
    if not outcome:
        return "none fixed"
    low, high = outcome.get("min"), outcome.get("max")
    if low is not None and high is not None:
        return f"{low:g} to {high:g}"
    return f"≥ {low:g}" if low is not None else f"≤ {high:g}"


def _assessment_metrics(assessment: Any) -> list[dict[str, Any]]:
    """Metric, value, 95% interval, threshold and verdict of a finished assessment;
    fairness metrics per protected attribute (``sex.demographic_parity_difference``)."""
    results = assessment.results if isinstance(assessment.results, dict) else {}
    outcomes = assessment.outcomes if isinstance(assessment.outcomes, dict) else {}
    if "attributes" in results:
        scopes = [
            (f"{attribute}.", (result or {}).get("metrics") or {})
            for attribute, result in sorted((results.get("attributes") or {}).items())
        ]
    else:
        scopes = [("", results.get("metrics") or {})]
    rows: list[dict[str, Any]] = []
    for prefix, metrics in scopes:
        for name, metric in sorted(metrics.items()):
            key = prefix + name
            outcome = outcomes.get(key)
            metric = metric if isinstance(metric, dict) else {"value": metric}
            rows.append(
                {
                    "metric": key,
                    "value": _number(metric.get("value")),
                    "interval": _interval(metric.get("ci")),
                    "threshold": _threshold(outcome),
                    "result": ("pass" if outcome["passed"] else "fail") if outcome else "—",
                }
            )
    shown = {row["metric"] for row in rows}
    for key, outcome in sorted(outcomes.items()):
        if key not in shown:  # thresholded but not computed: it failed
            rows.append(
                {
                    "metric": key,
                    "value": _number(outcome.get("value")),
                    "interval": "not recorded",
                    "threshold": _threshold(outcome),
                    "result": "pass" if outcome.get("passed") else "fail",
                }
            )
    return rows


def _assessment_rows(assessments: list[Any], cite: Citations) -> list[dict[str, Any]]:
    cite.load({"assessment": [a.pk for a in assessments]})
    return [
        {
            "id": a.pk,
            "kind": a.kind,
            "task": a.learning_task,
            "status": a.status,
            "model_version": str(a.model_version) if a.model_version else "—",
            "dataset_version": str(a.dataset_version),
            "finished_at": _time(a.finished_at),
            "requested_seq": cite.seq("assessment", a.pk, "assessment.requested"),
            "seq": cite.seq("assessment", a.pk, "assessment.completed"),
            "metrics": _assessment_metrics(a),
        }
        for a in assessments
    ]


def _actor_label(who: str) -> str:
    """``user:12`` → ``user 12``: people by id (and role where known), never by name."""
    kind, _, ident = who.partition(":")
    return f"{kind.replace('_', ' ')} {ident}".strip()


def _oversight(system: AISystem, compliance: Any, cite: Citations) -> dict[str, Any]:
    """Human-oversight facts (Art. 14): the gate, approval requests and decisions, stop
    events and overrides, each with its ledger entry."""
    requests = list(compliance.approval_requests_of_system(system=system))
    cite.load({"approval_request": [r.pk for r in requests]})
    served = {
        (deployment_id, version_id): (at, seq)
        for deployment_id, version_id, at, seq in DeploymentEvent.objects.filter(
            deployment__system=system,
            kind__in=[DeploymentEvent.Kind.ACTIVATED, DeploymentEvent.Kind.ROLLED_BACK],
        )
        .order_by("-ledger_seq")
        .values_list("deployment_id", "model_version_id", "at", "ledger_seq")
    }
    request_rows = []
    approved: set[tuple[int, int]] = set()
    for r in requests:
        key = (r.deployment_id, r.model_version_id)
        if r.status == "approved":
            approved.add(key)
        request_rows.append(
            {
                "id": r.pk,
                "deployment": r.deployment.environment,
                "model_version": str(r.model_version),
                "served": key in served,
                "requested_by": _actor_label(r.requested_by),
                "required": r.required_approvals,
                "status": r.status,
                "at": _time(r.created_at),
                "seq": cite.seq("approval_request", r.pk, "approval.requested"),
                "decisions": [
                    {
                        "decision": d.decision,
                        "by": f"user {d.decided_by_id} ({d.role})",
                        "at": _time(d.created_at),
                        "seq": cite.add(d.ledger_seq or None),
                    }
                    for d in sorted(r.decisions.all(), key=lambda d: (d.created_at, d.pk))
                ],
            }
        )
    unapproved = []
    if served:
        versions = ModelVersion.objects.select_related("model").in_bulk(
            [version_id for _, version_id in served]
        )
        environments = dict(
            Deployment.objects.filter(system=system).values_list("pk", "environment")
        )
        for (deployment_id, version_id), (at, seq) in sorted(
            served.items(), key=lambda item: item[1][1]
        ):
            if (deployment_id, version_id) not in approved:
                unapproved.append(
                    {
                        "deployment": environments.get(deployment_id, deployment_id),
                        "model_version": str(versions[version_id]),
                        "at": _time(at),
                        "seq": cite.add(seq),
                    }
                )
    stops = [
        {
            "deployment": e.deployment.environment,
            "model_version": str(e.model_version),
            "reason": e.reason or "—",
            "at": _time(e.at),
            "seq": cite.add(e.ledger_seq),
        }
        for e in DeploymentEvent.objects.filter(
            deployment__system=system, kind=DeploymentEvent.Kind.STOPPED
        )
        .select_related("deployment", "model_version__model")
        .order_by("ledger_seq")
    ]
    overrides = [
        {
            "deployment": o.deployment.environment,
            "batch": o.prediction_batch_id,
            "row": o.row_index,
            "by": _actor_label(o.created_by),
            "reason": o.reason,
            "at": _time(o.created_at),
            "seq": cite.add(o.ledger_seq or None),
        }
        for o in compliance.decision_overrides_of_system(system=system)
    ]
    return {
        "required_approvals": compliance.required_approvals(),
        "requests": request_rows,
        "unapproved": unapproved,
        "stops": stops,
        "overrides": overrides,
        "any": bool(request_rows or stops or overrides),
    }


def _risks(system: AISystem, compliance: Any, cite: Citations) -> list[dict[str, Any]]:
    from apps.tenancy.selectors import memberships_of

    risks = list(compliance.risks_of_system(system=system))
    cite.load({"risk": [r.pk for r in risks]})
    owners = {r.owner_id for r in risks if r.owner_id}
    roles = dict(
        memberships_of(organization=system.organization)
        .filter(user_id__in=owners)
        .values_list("user_id", "role")
    )
    return [
        {
            "id": r.pk,
            "hazard": r.hazard,
            "affected_persons": r.affected_persons,
            "likelihood": r.likelihood,
            "severity": r.severity,
            "mitigation": r.mitigation or "none recorded",
            "residual_risk": r.residual_risk,
            "review_date": r.review_date.isoformat(),
            "status": r.status,
            "revision": r.revision,
            # Owners by user id and role only: the document carries no personal names.
            "owner": (
                f"user {r.owner_id} ({roles.get(r.owner_id, 'no longer a member')})"
                if r.owner_id
                else "not assigned"
            ),
            "seq": cite.seq("risk", r.pk, "risk.created"),
            "updated_seq": cite.last("risk", r.pk, "risk.updated"),
        }
        for r in risks
    ]


def _classification(system: AISystem, compliance: Any, cite: Citations) -> dict[str, Any] | None:
    current = compliance.classification_current(system=system)
    if current is None:
        return None
    return {
        "version": current.version,
        "category": current.category,
        "category_label": current.get_category_display(),
        "role": current.role,
        "high_risk_basis": current.high_risk_basis or None,
        "annex_iii_area": current.annex_iii_area or None,
        "exemption": current.exemption or None,
        "rationale": current.rationale,
        "citations": [str(c) for c in current.citations or []],
        "classified_at": _time(current.created_at),
        "seq": cite.add(current.ledger_seq),
    }


def _gap_line(gap: dict[str, Any]) -> str:
    applies = gap["applies_from"]
    when = "applies from" if gap["status"] == "upcoming" else "applied from"
    return (
        f"{gap['article']}: {gap['requirement']} Status {gap['status']} "
        f"({when} {applies.isoformat() if hasattr(applies, 'isoformat') else applies}; "
        f"{gap['legal_source']})."
    )


def _compliance_record(system: AISystem, cite: Citations) -> dict[str, Any] | None:
    """What the compliance app records about the system, or None when it is not
    installed (the sections then say nothing is on the record)."""
    if not _optional_app("apps.compliance"):
        return None
    from apps.compliance import selectors as compliance

    assessments = _assessment_rows(list(compliance.assessments_completed(system=system)), cite)
    plan = [
        {
            "description": e.description,
            "uri": e.uri or "—",
            "sha256": e.sha256 or "—",
            "at": _time(e.created_at),
            "seq": cite.add(e.ledger_seq or None),
        }
        for e in compliance.obligation_evidence_of_system(system=system, obligation="art_72")
    ]
    gaps = compliance.gap_analysis(organization=system.organization, system_id=system.pk)
    return {
        "classification": _classification(system, compliance, cite),
        "risks": _risks(system, compliance, cite),
        "oversight": _oversight(system, compliance, cite),
        "assessments": assessments,
        "post_market_plan": plan,
        "gaps": gaps,
    }


def _annex_iv_missing(
    life: dict[str, Any], compliance: dict[str, Any] | None, declaration: Any
) -> list[str]:
    """The closing list: what Annex IV's own sections lack, then the compliance app's
    gap analysis. A topic the gap analysis answers for (risk register, oversight,
    datasheets, post-market plan) is not guessed at here as well."""
    missing: list[str] = []
    if not life["datasets"]:
        missing.append("Annex IV 2(d): no dataset (data requirements, datasheets) is registered.")
    if not life["runs"]:
        missing.append("Annex IV 2(c): no training run (training methods) is on the record.")
    if not life["versions"]:
        missing.append("Annex IV 2(b): no model version is registered.")
    if not life["test_logs"]:
        missing.append(
            "Annex IV 2(g): no validation or test dataset version, so no dated test log."
        )
    if not life["deployments"]:
        missing.append("Annex IV 3: no deployment is recorded (functioning and control).")
    gaps = compliance["gaps"] if compliance else []
    answered = {gap["code"] for gap in gaps}
    empty = {
        "datasheets": not any(d["versions"] for d in life["datasets"]),
        "oversight": not (compliance and compliance["oversight"]["any"]),
        "risks": not (compliance and compliance["risks"]),
        "post_market_plan": not (compliance and compliance["post_market_plan"]),
    }
    guesses = {
        "datasheets": "Art. 10: no dataset version with its datasheet is on the record.",
        "oversight": "Annex IV 3 / Art. 14: no human-oversight measures are on the record yet.",
        "risks": "Annex IV 5 / Art. 9: no risk management system (risk register) is on the "
        "record yet.",
        "post_market_plan": "Annex IV 9 / Art. 72: no post-market monitoring plan is on the "
        "record yet.",
    }
    for topic, text in guesses.items():
        if empty[topic] and not (TOPIC_OBLIGATIONS[topic] & answered):
            missing.append(text)
    # The compliance app records no harmonised standards: always stated.
    missing.append(
        "Annex IV 7: no harmonised standards or other solutions adopted are on the record yet."
    )
    if declaration is None:
        missing.append("Annex IV 8: no EU declaration of conformity has been generated yet.")
    if not any(v["numeric"] for v in life["versions"]) and not (
        compliance and compliance["assessments"]
    ):
        missing.append("Annex IV 4: no performance metrics are recorded for any model version.")
    missing += [f"Compliance gap analysis: {_gap_line(gap)}" for gap in gaps]
    return missing


def annex_iv(report: Report, cite: Citations) -> Document:
    system = report.system
    assert system is not None
    facts = _system_facts(system, cite)
    life = _lifecycle(system, cite)
    declaration = _declaration_on_record(system, cite)
    compliance = _compliance_record(system, cite)
    missing = _annex_iv_missing(life, compliance, declaration)
    context = {
        "system": facts,
        **life,
        "declaration": declaration,
        "performance_chart": _performance_chart(life["versions"]),
        "compliance": compliance,
        "missing": missing,
    }
    records = {
        "system": facts,
        "datasets": life["datasets"],
        "training_runs": life["runs"],
        "model_versions": life["versions"],
        "deployments": life["deployments"],
        "deployment_events": life["events"],
        "prediction_batches": life["batches"],
        "declaration_of_conformity": declaration,
    }
    if compliance is not None:
        records.update(
            classification=compliance["classification"],
            risk_register=compliance["risks"],
            human_oversight=compliance["oversight"],
            assessments=compliance["assessments"],
            post_market_monitoring_plan=compliance["post_market_plan"],
            compliance_gaps=compliance["gaps"],
        )
    return Document(
        template="reports/annex_iv.html",
        title=f"Technical documentation (Annex IV): {system.name}",
        context=context,
        records=records,
        missing=missing,
    )


# --- Kind: audit trail ------------------------------------------------------------


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
    *, log: Log, system: AISystem | None, time_from: datetime, time_to: datetime
) -> Any:
    """The queryset of entries an audit-trail report lists (also used to refuse an
    empty range before anything is queued)."""
    entries = ledger_selectors.entries_filtered(log=log, time_from=time_from, time_to=time_to)
    if system is not None:
        condition = Q()
        for kind, ids in _system_subjects(system).items():
            if ids:
                condition |= Q(subject_kind=kind, subject_id__in=ids)
        entries = entries.filter(condition)
    return entries


def _entry_line(seq: int, time: datetime, type_: str, kind: str, sid: str, actor: str) -> str:
    return (
        f"{seq:>7}  {time.strftime('%Y-%m-%d %H:%M:%S')}  {type_[:34]:<34}  "
        f"{(kind + '/' + sid)[:30]:<30}  {actor[:24]}"
    )


def audit_trail(report: Report, cite: Citations) -> Document:
    params = report.params
    time_from = datetime.fromisoformat(params["time_from"])
    time_to = datetime.fromisoformat(params["time_to"])
    entries = audit_entries(
        log=cite.log, system=report.system, time_from=time_from, time_to=time_to
    )
    rows = entries.values_list(
        "seq", "time", "type", "subject_kind", "subject_id", "actor_kind", "actor_id", "body"
    )
    # Streamed: the page text and entries.jsonl grow with the document, nothing else.
    blocks: list[str] = []
    lines: list[str] = []
    jsonl: list[bytes] = []
    count = 0
    first = last = None
    for seq, time, type_, kind, sid, actor_kind, actor_id, body in rows.iterator(chunk_size=2000):
        cite.add(seq)
        count += 1
        first = seq if first is None else first
        last = seq
        lines.append(_entry_line(seq, time, type_, kind, sid, f"{actor_kind}/{actor_id}"))
        jsonl.append(bytes(body))
        if len(lines) == ENTRY_LINES_PER_BLOCK:
            blocks.append("\n".join(lines))
            lines = []
    if lines:
        blocks.append("\n".join(lines))
    header = f"{'seq':>7}  {'time (UTC)':<19}  {'type':<34}  {'subject':<30}  actor"
    subject = report.system.name if report.system else f"organization {report.organization.name}"
    context = {
        "scope": subject,
        "time_from": _time(time_from),
        "time_to": _time(time_to),
        "count": count,
        "first_seq": first,
        "last_seq": last,
        "entry_header": header,
        "entry_blocks": blocks,
    }
    return Document(
        template="reports/audit_trail.html",
        title=f"Audit-trail report: {subject}",
        context=context,
        records={
            "scope": subject,
            "system_id": report.system_id,
            "time_from": time_from,
            "time_to": time_to,
            "entries": count,
            "first_seq": first,
            "last_seq": last,
            "entries_file": "entries.jsonl (canonical bytes of each entry, one per line)",
        },
        attachments=[
            (
                "entries.jsonl",
                b"\n".join(jsonl) + (b"\n" if jsonl else b""),
                "RFC 8785 bytes of each listed ledger entry, one per line, in seq order",
            )
        ],
        cited_table=False,
    )


# --- Kind: EU declaration of conformity --------------------------------------------


def declaration(report: Report, cite: Citations) -> Document:
    system = report.system
    assert system is not None
    facts = _system_facts(system, cite)
    versions = list(
        ModelVersion.objects.filter(model__system=system)
        .select_related("model")
        .order_by("-created_at")[:1]
    )
    cite.load(
        {"model_version": [v.pk for v in versions], "organization": [report.organization.slug]}
    )
    latest = versions[0] if versions else None
    org_seq = cite.seq("organization", report.organization.slug, "organization.created")
    missing = [
        "Annex V 5: the conformity statement of other Union legislation is not on the record.",
        "Annex V 6: no harmonised standards or common specifications are on the record yet.",
        "Annex V 7: no notified body or conformity-assessment procedure is on the record yet.",
    ]
    context = {
        "system": facts,
        "provider": report.organization.name,
        "provider_seq": org_seq,
        "latest": (
            {
                "label": str(latest),
                "sha256": latest.artifact_sha256,
                "seq": cite.seq("model_version", latest.pk, "model_version.registered"),
            }
            if latest
            else None
        ),
        "missing": missing,
    }
    return Document(
        template="reports/declaration.html",
        title=f"EU declaration of conformity: {system.name}",
        context=context,
        records={
            "system": facts,
            "provider": report.organization.name,
            "latest": context["latest"],
        },
        missing=missing,
    )


# --- Kind: post-market monitoring ---------------------------------------------------


def post_market(report: Report, cite: Citations) -> Document:
    system = report.system
    assert system is not None
    time_from = datetime.fromisoformat(report.params["time_from"])
    time_to = datetime.fromisoformat(report.params["time_to"])
    facts = _system_facts(system, cite)
    batches = list(
        PredictionBatch.objects.filter(
            deployment__system=system, created_at__gte=time_from, created_at__lt=time_to
        )
        .select_related("deployment", "model_version")
        .order_by("created_at")[:500]
    )
    events = list(
        DeploymentEvent.objects.filter(deployment__system=system, at__gte=time_from, at__lt=time_to)
        .select_related("deployment", "model_version")
        .order_by("ledger_seq")
    )
    cite.load({"prediction_batch": [b.pk for b in batches]})
    by_day: dict[str, int] = defaultdict(int)
    for b in batches:
        by_day[b.created_at.strftime("%Y-%m-%d")] += b.row_count or 0
    volume_chart = charts.bar_chart(
        [(day, float(rows)) for day, rows in sorted(by_day.items())[-31:]],
        title="Decisions (rows scored) per day, last 31 days of the period",
    )
    context = {
        "system": facts,
        "time_from": _time(time_from),
        "time_to": _time(time_to),
        "batches": [
            {
                "id": b.pk,
                "deployment": b.deployment.environment,
                "model_version": str(b.model_version),
                "rows": b.row_count,
                "status": b.status,
                "at": _time(b.created_at),
                "seq": cite.seq("prediction_batch", b.pk, "prediction_batch.recorded"),
            }
            for b in batches
        ],
        "events": [
            {
                "deployment": e.deployment.environment,
                "kind": e.kind,
                "model_version": str(e.model_version),
                "reason": e.reason or "—",
                "at": _time(e.at),
                "seq": cite.add(e.ledger_seq),
            }
            for e in events
        ],
        "volume_chart": volume_chart,
    }
    missing = [
        "No drift measurement is on the record yet for this period.",
        "No performance measurement on production data is on the record yet.",
        "No monitoring alert is on the record yet.",
    ]
    context["missing"] = missing
    return Document(
        template="reports/post_market.html",
        title=f"Post-market monitoring report: {system.name}",
        context=context,
        records={
            "system": facts,
            "time_from": time_from,
            "time_to": time_to,
            "prediction_batches": context["batches"],
            "deployment_events": context["events"],
        },
        missing=missing,
    )


# --- Kind: serious incident -------------------------------------------------------------


def _incident(
    system: AISystem, stage: str, cite: Citations, incident_id: int | None = None
) -> dict[str, Any] | None:
    """The incident the report is about (``incident_id``, else the system's latest) and
    its reports, read through the compliance app's selectors; None when there is none."""
    if not _optional_app("apps.compliance"):
        return None
    from apps.compliance import selectors as compliance

    if incident_id is not None:
        incident = compliance.incident_of_system(system=system, incident_id=incident_id)
    else:
        incident = compliance.incidents_of_system(system=system).first()
    if incident is None:
        return None
    cite.load({"incident": [incident.pk]})
    reports = sorted(incident.reports.all(), key=lambda r: (r.created_at, r.pk))
    if stage == "initial":
        reports = [r for r in reports if r.kind == "initial"]
    days = (incident.reporting_deadline - incident.became_aware_at).days
    informed = incident.authority_informed_at
    if informed is not None:
        timeliness = "on time" if informed <= incident.reporting_deadline else "late"
    elif timezone.now() > incident.reporting_deadline:
        timeliness = "overdue: the authority has not been informed"
    else:
        timeliness = "not informed yet"
    return {
        "id": incident.pk,
        "kind": incident.kind,
        "kind_label": incident.get_kind_display(),
        "description": incident.description,
        "became_aware_at": _time(incident.became_aware_at),
        "reporting_deadline": _time(incident.reporting_deadline),
        "deadline_basis": f"{days} days, {INCIDENT_DEADLINE_BASIS.get(incident.kind, 'Art. 73')}",
        "status": incident.status,
        "authority_informed_at": _time(informed),
        "timeliness": timeliness,
        "seq": cite.seq("incident", incident.pk, "incident.opened"),
        "informed_seq": cite.seq("incident", incident.pk, "incident.authority_informed"),
        "closed_seq": cite.seq("incident", incident.pk, "incident.closed"),
        "reports": [
            {
                "kind": r.kind,
                "kind_label": r.kind.replace("_", "-").capitalize(),
                "content": r.content,
                "at": _time(r.created_at),
                "seq": cite.add(r.ledger_seq or None),
            }
            for r in reports
        ],
    }


def serious_incident(report: Report, cite: Citations) -> Document:
    system = report.system
    assert system is not None
    facts = _system_facts(system, cite)
    stage = report.params.get("stage", "initial")
    deployments = list(Deployment.objects.filter(system=system).select_related("model_version"))
    cite.load({"deployment": [d.pk for d in deployments]})
    incident = _incident(system, stage, cite, report.params.get("incident_id"))
    missing = []
    if incident is None:
        missing.append(
            "No serious incident is on the record yet for this system: the incident's "
            "description, date of awareness, harm, causal link and corrective actions "
            "(Art. 73(2)-(6)) cannot be reported from the record."
        )
    elif not incident["reports"]:
        missing.append(f"No {stage.replace('_', '-')} report text is on the record yet.")
    context = {
        "system": facts,
        "stage": stage,
        "provider": report.organization.name,
        "incident": incident,
        "deployments": [
            {
                "environment": d.environment,
                "serving": _serving(d),
                "seq": cite.seq("deployment", d.pk, "deployment.created"),
            }
            for d in deployments
        ],
        "missing": missing,
    }
    return Document(
        template="reports/serious_incident.html",
        title=f"Serious-incident report ({stage.replace('_', '-')}): {system.name}",
        context=context,
        records={
            "system": facts,
            "stage": stage,
            "incident_id": report.params.get("incident_id"),
            "incident": incident,
            "deployments": context["deployments"],
        },
        missing=missing,
    )


def _shap_importance(version: ModelVersion, cite: Citations) -> dict[str, Any] | None:
    """The latest completed SHAP explanation of the version, when the explainability
    app is installed (read through the app registry: no import of it here)."""
    if not _optional_app("apps.explainability"):
        return None
    from django.apps import apps

    try:
        explanation_model = apps.get_model("explainability", "Explanation")
        explanation = (
            explanation_model.objects.filter(model_version=version, status="completed")
            .order_by("-finished_at", "-pk")
            .first()
        )
    except (LookupError, ValueError, TypeError):  # the app changed shape: leave it out
        return None
    if explanation is None or not explanation.global_importance:
        return None
    top = sorted(
        ((str(k), float(v)) for k, v in explanation.global_importance.items()),
        key=lambda item: -item[1],
    )[:15]
    return {
        "id": explanation.pk,
        "method": explanation.method,
        "rows": explanation.rows,
        "seq": cite.add(explanation.ledger_seq),
        "chart": charts.bar_chart(top, title="Global importance: mean |SHAP value| per feature"),
    }


def _fairness(version: ModelVersion, cite: Citations) -> list[dict[str, Any]] | None:
    """Per-group results of the latest fairness assessment of the version that ran
    (passed or failed), read through the compliance app's selectors; None when there is
    none or its results cannot be read."""
    if not _optional_app("apps.compliance"):
        return None
    from apps.compliance import selectors as compliance

    assessment = compliance.assessments_completed(model_version=version, kind="fairness").first()
    if assessment is None or not isinstance(assessment.results, dict):
        return None
    cite.load({"assessment": [assessment.pk]})
    seq = cite.seq("assessment", assessment.pk, "assessment.completed")
    verdicts = {row["metric"]: row for row in _assessment_metrics(assessment)}
    try:
        attributes = assessment.results.get("attributes") or {}
        out = []
        for attribute, result in sorted(attributes.items()):
            groups = result.get("groups") or {}
            rates = [
                (str(level), float(row["selection_rate"]))
                for level, row in sorted(groups.items())
                if isinstance(row.get("selection_rate"), int | float)
            ]
            metrics = []
            for name, value in sorted((result.get("metrics") or {}).items()):
                verdict = verdicts.get(f"{attribute}.{name}", {})
                metrics.append(
                    {
                        "name": name,
                        "value": value.get("value"),
                        "interval": _interval(value.get("ci")),
                        "threshold": verdict.get("threshold", "none fixed"),
                        "result": verdict.get("result", "—"),
                    }
                )
            out.append(
                {
                    "attribute": attribute,
                    "assessment": assessment.pk,
                    "status": assessment.status,
                    "seq": seq,
                    "groups": [
                        {"level": level, **{k: v for k, v in row.items() if k != "ci"}}
                        for level, row in sorted(groups.items())
                    ],
                    "metrics": metrics,
                    "chart": charts.bar_chart(rates, title=f"Selection rate by {attribute}"),
                }
            )
        return out or None
    except (AttributeError, KeyError, TypeError, ValueError):
        return None  # results of another shape: the section says nothing is on the record


# --- Kind: model card -------------------------------------------------------------------


def model_card(report: Report, cite: Citations) -> Document:
    version = (
        ModelVersion.objects.select_related("model__system", "training_run")
        .prefetch_related("dataset_versions__dataset")
        .get(pk=report.model_version_id)
    )
    system = version.model.system
    datasets = list(version.dataset_versions.all())
    cite.load(
        {
            "ai_system": [system.pk],
            "model_version": [version.pk],
            "dataset_version": [d.pk for d in datasets],
            "training_run": [version.training_run_id] if version.training_run_id else [],
        }
    )
    metrics = version.metrics or {}
    numeric = _numeric_metrics(metrics)
    shap = _shap_importance(version, cite)
    fairness = _fairness(version, cite)
    run = version.training_run
    context = {
        "system": _system_facts(system, cite),
        "version": {
            "label": str(version),
            "format": version.artifact_format,
            "framework": f"{version.framework} {version.framework_version}",
            "sha256": version.artifact_sha256,
            "created_at": _time(version.created_at),
            "seq": cite.seq("model_version", version.pk, "model_version.registered"),
        },
        "metrics": [
            {
                "name": k,
                "value": v if not isinstance(v, dict) else v.get("value"),
                "interval": (
                    f"[{v.get('low')}, {v.get('high')}]"
                    if isinstance(v, dict) and "low" in v
                    else "not recorded"
                ),
            }
            for k, v in sorted(metrics.items())
        ],
        "metrics_chart": charts.bar_chart(sorted(numeric.items()), title="Recorded metrics"),
        "shap": shap,
        "fairness": fairness,
        "datasets": [
            {
                "label": str(d),
                "split": d.split,
                "rows": d.row_count,
                "personal": d.contains_personal_data,
                "gaps": (d.datasheet or {}).get("data_gaps", "—"),
                "bias": (d.datasheet or {}).get("bias_examination", "—"),
                "seq": cite.seq("dataset_version", d.pk, "dataset_version.registered"),
            }
            for d in datasets
        ],
        "run": (
            {
                "id": run.pk,
                "params": _pairs(run.params),
                "seq": cite.seq("training_run", run.pk, "training_run.started"),
            }
            if run
            else None
        ),
    }
    missing = []
    if not numeric:
        missing.append("No metrics are recorded for this model version.")
    if not any(isinstance(v, dict) and "low" in v for v in metrics.values()):
        missing.append("No confidence intervals are recorded for the metrics.")
    # Limitations the data's own datasheets declare come first.
    for d in datasets:
        sheet = d.datasheet or {}
        for key, label in (("data_gaps", "Known data gaps"), ("assumptions", "Assumptions")):
            if sheet.get(key):
                missing.insert(0, f"{label} ({d}): {sheet[key]}")
    if fairness is None:
        missing.append("No fairness assessment by group is on the record yet.")
    if shap is None:
        missing.append("No SHAP global feature importance is on the record yet.")
    context["missing"] = missing
    return Document(
        template="reports/model_card.html",
        title=f"Model card: {version}",
        context=context,
        records={
            "model_version": context["version"],
            "metrics": metrics,
            "datasets": context["datasets"],
            "training_run": context["run"],
            "shap": {k: v for k, v in shap.items() if k != "chart"} if shap else None,
            "fairness": [{k: v for k, v in f.items() if k != "chart"} for f in fairness or []],
        },
        missing=missing,
    )


BUILDERS = {
    Report.Kind.ANNEX_IV: annex_iv,
    Report.Kind.AUDIT_TRAIL: audit_trail,
    Report.Kind.DECLARATION: declaration,
    Report.Kind.POST_MARKET: post_market,
    Report.Kind.SERIOUS_INCIDENT: serious_incident,
    Report.Kind.MODEL_CARD: model_card,
}


def cited_entries(*, log: Log, seqs: Iterable[int]) -> list[dict[str, Any]]:
    """The appendix of cited entries: seq, time, type, subject, leaf hash."""
    ordered = sorted(set(seqs))
    rows = Entry.objects.filter(log=log, seq__in=ordered).values_list(
        "seq", "time", "type", "subject_kind", "subject_id", "leaf_hash"
    )
    return [
        {
            "seq": seq,
            "time": _time(time),
            "type": type_,
            "subject": f"{kind}/{sid}",
            "leaf_hash": bytes(leaf).hex(),
        }
        for seq, time, type_, kind, sid, leaf in rows.order_by("seq")
    ]


def checkpoint_facts(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "size": checkpoint.size,
        "root": base64.b64encode(bytes(checkpoint.root)).decode("ascii"),
        "note": checkpoint.note,
        "created_at": _time(checkpoint.created_at),
    }
