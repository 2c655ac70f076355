"""What the compliance app records about a system, read through its selectors:
classification, risk register (Art. 9), human oversight (Art. 14), assessments with
their verdicts, the post-market monitoring plan (Art. 72) and the gap analysis.

A stored record of a shape this module cannot read fails the report
(:class:`RecordUnreadable`); it is never reported as absent.
"""

from __future__ import annotations

from typing import Any

from apps.compliance import selectors as compliance
from apps.registry.models import AISystem, Deployment, DeploymentEvent, ModelVersion
from apps.reports.kinds.common import Citations, People, RecordUnreadable, reading, when, words
from audit_platform.ids import id_text

# The basis of a high-risk classification, as the declaration states it.
BASIS = {"annex_i": "Annex I (Art. 6(1))", "annex_iii": "Annex III (Art. 6(2))"}


def _short(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "not computed" if value is None else str(value)
    return _short(value)


def interval(ci: Any) -> str:
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


def _metric_scopes(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(prefix, metrics): fairness metrics per protected attribute, others as one."""
    if "attributes" in results:
        return [
            (f"{attribute}.", (result or {}).get("metrics") or {})
            for attribute, result in sorted((results.get("attributes") or {}).items())
        ]
    return [("", results.get("metrics") or {})]


def assessment_metrics(assessment: Any) -> list[dict[str, Any]]:
    """Metric, value, 95% interval, threshold and verdict of a finished assessment;
    fairness metrics per protected attribute (``sex.demographic_parity_difference``)."""
    what = f"the results of {assessment.kind} assessment {assessment.pk}"
    # No outcomes: no threshold was fixed. Results of a finished assessment are a must.
    results = assessment.results
    outcomes = {} if assessment.outcomes is None else assessment.outcomes
    if not isinstance(results, dict) or not isinstance(outcomes, dict):
        raise RecordUnreadable(f"The report cannot read {what}: they are not a JSON object.")
    rows: list[dict[str, Any]] = []
    with reading(what):
        for prefix, metrics in _metric_scopes(results):
            for name, metric in sorted(metrics.items()):
                key = prefix + name
                outcome = outcomes.get(key)
                metric = metric if isinstance(metric, dict) else {"value": metric}
                rows.append(
                    {
                        "metric": _metric_name(key),
                        "value": _number(metric.get("value")),
                        "interval": interval(metric.get("ci")),
                        "threshold": _threshold(outcome),
                        "result": ("pass" if outcome["passed"] else "fail") if outcome else "—",
                    }
                )
        shown = {row["metric"] for row in rows}
        for key, outcome in sorted(outcomes.items()):
            if _metric_name(key) not in shown:  # thresholded but not computed: it failed
                rows.append(
                    {
                        "metric": _metric_name(key),
                        "value": _number(outcome.get("value")),
                        "interval": "not recorded",
                        "threshold": _threshold(outcome),
                        "result": "pass" if outcome.get("passed") else "fail",
                    }
                )
    return rows


def _metric_name(key: str) -> str:
    """``sex.demographic_parity_difference`` → ``demographic parity difference (by sex)``."""
    attribute, dot, name = key.rpartition(".")
    return f"{words(name)} (by {words(attribute)})" if dot else words(key)


def _assessment_rows(assessments: list[Any], cite: Citations) -> list[dict[str, Any]]:
    cite.load({"assessment": [a.pk for a in assessments]})
    return [
        {
            "id": str(a.pk),
            "kind": words(a.kind),
            "task": words(a.learning_task),
            "status": words(a.status),
            "model_version": str(a.model_version) if a.model_version else "—",
            "dataset_version": str(a.dataset_version),
            "finished_at": when(a.finished_at),
            "requested_seq": cite.seq("assessment", a.pk, "assessment.requested"),
            "seq": cite.seq("assessment", a.pk, "assessment.completed"),
            "metrics": assessment_metrics(a),
        }
        for a in assessments
    ]


def _approval_rows(
    requests: list[Any], served: dict, cite: Citations, people: People
) -> list[dict[str, Any]]:
    return [
        {
            "id": str(r.pk),
            "deployment": r.deployment.environment,
            "model_version": str(r.model_version),
            "served": (r.deployment_id, r.model_version_id) in served,
            "requested_by": people.who(r.requested_by),
            "required": r.required_approvals,
            "status": words(r.status),
            "at": when(r.created_at),
            "seq": cite.seq("approval_request", r.pk, "approval.requested"),
            "decisions": [
                {
                    "decision": words(d.decision),
                    "by": people.user(d.decided_by_id),
                    "at": when(d.created_at),
                    "seq": cite.add(d.ledger_seq or None),
                }
                for d in sorted(r.decisions.all(), key=lambda d: (d.created_at, d.pk))
            ],
        }
        for r in requests
    ]


def _unapproved(
    system: AISystem, served: dict, approved: set[tuple[int, int]], cite: Citations
) -> list[dict[str, Any]]:
    """Versions a deployment served (activated or rolled back to) with no approval."""
    if not served:
        return []
    versions = ModelVersion.objects.select_related("model").in_bulk(
        [version_id for _, version_id in served]
    )
    environments = dict(Deployment.objects.filter(system=system).values_list("pk", "environment"))
    return [
        {
            "deployment": environments.get(deployment_id, deployment_id),
            "model_version": str(versions[version_id]),
            "at": when(at),
            "seq": cite.add(seq),
        }
        for (deployment_id, version_id), (at, seq) in sorted(
            served.items(), key=lambda item: item[1][1]
        )
        if (deployment_id, version_id) not in approved
    ]


def _stops(system: AISystem, cite: Citations) -> list[dict[str, Any]]:
    return [
        {
            "deployment": e.deployment.environment,
            "model_version": str(e.model_version),
            "reason": e.reason or "—",
            "at": when(e.at),
            "seq": cite.add(e.ledger_seq),
        }
        for e in DeploymentEvent.objects.filter(
            deployment__system=system, kind=DeploymentEvent.Kind.STOPPED
        )
        .select_related("deployment", "model_version__model")
        .order_by("ledger_seq")
    ]


def _oversight(system: AISystem, cite: Citations, people: People) -> dict[str, Any]:
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
    approved = {(r.deployment_id, r.model_version_id) for r in requests if r.status == "approved"}
    request_rows = _approval_rows(requests, served, cite, people)
    stops = _stops(system, cite)
    overrides = [
        {
            "deployment": o.deployment.environment,
            "batch": id_text(o.prediction_batch_id),
            "row": o.row_index,
            "by": people.who(o.created_by),
            "reason": o.reason,
            "at": when(o.created_at),
            "seq": cite.add(o.ledger_seq or None),
        }
        for o in compliance.decision_overrides_of_system(system=system)
    ]
    return {
        "required_approvals": compliance.required_approvals(),
        "requests": request_rows,
        "unapproved": _unapproved(system, served, approved, cite),
        "stops": stops,
        "overrides": overrides,
        "any": bool(request_rows or stops or overrides),
    }


def _risks(system: AISystem, cite: Citations, people: People) -> list[dict[str, Any]]:
    risks = list(compliance.risks_of_system(system=system))
    cite.load({"risk": [r.pk for r in risks]})
    return [
        {
            "id": str(r.pk),
            "hazard": r.hazard,
            "affected_persons": r.affected_persons,
            "likelihood": words(r.likelihood),
            "severity": words(r.severity),
            "mitigation": r.mitigation or "none recorded",
            "residual_risk": words(r.residual_risk),
            "review_date": r.review_date.isoformat(),
            "status": words(r.status),
            "revision": r.revision,
            "owner": people.user(r.owner_id),
            "seq": cite.seq("risk", r.pk, "risk.created"),
            "updated_seq": cite.last("risk", r.pk, "risk.updated"),
        }
        for r in risks
    ]


def _classification(system: AISystem, cite: Citations) -> dict[str, Any] | None:
    current = compliance.classification_current(system=system)
    if current is None:
        return None
    return {
        "version": current.version,
        "category": current.category,
        "category_label": current.get_category_display(),
        "role": words(current.role),
        "high_risk_basis": current.high_risk_basis or None,
        "basis_label": BASIS.get(current.high_risk_basis, words(current.high_risk_basis)),
        "annex_iii_area": words(current.annex_iii_area) if current.annex_iii_area else None,
        "exemption": words(current.exemption) if current.exemption else None,
        "rationale": current.rationale,
        "citations": [str(c) for c in current.citations or []],
        "classified_at": when(current.created_at),
        "seq": cite.add(current.ledger_seq),
    }


def open_incidents(system: AISystem, cite: Citations) -> list[dict[str, Any]]:
    """The system's serious incidents that are not closed (Art. 73), latest first."""
    incidents = [i for i in compliance.incidents_of_system(system=system) if i.status != "closed"]
    cite.load({"incident": [i.pk for i in incidents]})
    return [
        {
            "id": str(i.pk),
            "kind": i.kind.replace("_", " "),
            "description": i.description,
            "became_aware": when(i.became_aware_at),
            "deadline": when(i.reporting_deadline),
            "status": i.status.replace("_", " "),
            "authority_informed": when(i.authority_informed_at),
            "seq": cite.seq("incident", i.pk, "incident.opened"),
        }
        for i in incidents
    ]


def gap_line(gap: dict[str, Any]) -> str:
    applies = gap["applies_from"]
    verb = "applies from" if gap["status"] == "upcoming" else "applied from"
    return (
        f"{gap['article']}: {gap['requirement']} Status {words(gap['status'])} "
        f"({verb} {applies.isoformat() if hasattr(applies, 'isoformat') else applies}; "
        f"{gap['legal_source']})."
    )


def compliance_record(system: AISystem, cite: Citations) -> dict[str, Any]:
    """What the compliance app records about the system."""
    assessments = _assessment_rows(list(compliance.assessments_completed(system=system)), cite)
    plan = [
        {
            "description": e.description,
            "uri": e.uri or "—",
            "sha256": e.sha256 or "—",
            "at": when(e.created_at),
            "seq": cite.add(e.ledger_seq or None),
        }
        for e in compliance.obligation_evidence_of_system(system=system, obligation="art_72")
    ]
    people = People(system.organization)
    return {
        "classification": _classification(system, cite),
        "risks": _risks(system, cite, people),
        "oversight": _oversight(system, cite, people),
        "assessments": assessments,
        "post_market_plan": plan,
        "gaps": compliance.gap_analysis(organization=system.organization, system_id=system.pk),
    }
