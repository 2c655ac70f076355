"""Serious-incident report (Art. 73), initial or follow-up: the incident asked for (or
the system's latest), the facts the Commission's reporting template asks for (where,
to whom, when, what harm, other regimes), its reporting duties and timeliness, its
report texts with root cause and corrective actions, and the system's deployments."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.compliance import rules
from apps.compliance import selectors as compliance
from apps.registry.models import AISystem, Deployment
from apps.reports.kinds.common import (
    Citations,
    Gathered,
    People,
    RecordUnreadable,
    ReportKind,
    serving,
    system_facts,
    when,
)
from apps.reports.models import Report

# The Member States by the ISO 3166-1 code the incident records (Art. 73(1)).
MEMBER_STATE_NAMES = {
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CY": "Cyprus", "CZ": "Czechia",
    "DE": "Germany", "DK": "Denmark", "EE": "Estonia", "ES": "Spain", "FI": "Finland",
    "FR": "France", "GR": "Greece", "HR": "Croatia", "HU": "Hungary", "IE": "Ireland",
    "IT": "Italy", "LT": "Lithuania", "LU": "Luxembourg", "LV": "Latvia", "MT": "Malta",
    "NL": "Netherlands", "PL": "Poland", "PT": "Portugal", "RO": "Romania", "SE": "Sweden",
    "SI": "Slovenia", "SK": "Slovakia",
}  # fmt: skip
REPORT_STAGE_LABELS = {"initial": "Initial", "follow_up": "Follow-up", "final": "Final"}
# The reporting template's facts an incident may still lack, in words, with their source.
DETAIL_LABELS = {
    "member_state": "Member State where the incident occurred (Art. 73(1))",
    "receiving_authority": "Market surveillance authority receiving the report (Art. 73(1))",
    "occurred_at": "When the incident occurred",
    "causal_link_established_at": "When the causal link with the AI system was established "
    "(Art. 73(2))",
    "harm_category": "Harm category (Art. 3(49))",
}

# Art. 73: the paragraph that sets each kind's reporting period.
INCIDENT_DEADLINE_BASIS = {
    "general": "Art. 73(2)",
    "death": "Art. 73(4)",
    "widespread_infringement": "Art. 73(3)",
    "critical_infrastructure": "Art. 73(3)",
}


def _timeliness(incident: Any) -> str:
    informed = incident.authority_informed_at
    if informed is not None:
        return "on time" if informed <= incident.reporting_deadline else "late"
    if timezone.now() > incident.reporting_deadline:
        return "overdue: the authority has not been informed"
    return "not informed yet"


def _member_state(code: str) -> str:
    return f"{MEMBER_STATE_NAMES.get(code, code)} ({code})" if code else "—"


def _harm(category: str) -> str:
    if not category:
        return "—"
    source, text = rules.HARM_CATEGORIES[category]
    return f"{text[0].upper()}{text[1:]} ({source})"


def _details_missing(incident: Any, reports: list[Any]) -> list[str]:
    """The reporting template's facts the record does not hold yet, in words."""
    missing = [label for name, label in DETAIL_LABELS.items() if not getattr(incident, name)]
    for name, label in (("root_cause", "Root cause"), ("corrective_actions", "Corrective actions")):
        if not any(getattr(r, name) for r in reports):
            missing.append(f"{label} (Art. 73(6)): stated in no report on the record")
    return missing


def _facts(incident: Any) -> dict[str, Any]:
    """The reporting template's facts (where, to whom, when, what harm, other regimes)."""
    return {
        "member_state": _member_state(incident.member_state),
        "receiving_authority": incident.receiving_authority or "—",
        "occurred_at": when(incident.occurred_at),
        "became_aware_at": when(incident.became_aware_at),
        "causal_link_established_at": when(incident.causal_link_established_at),
        "harm_category": incident.harm_category,
        "harm": _harm(incident.harm_category),
        "parallel_regimes": [
            {
                "regime": r["regime"],
                "label": rules.PARALLEL_REGIMES.get(r["regime"], r["regime"]),
                "reference": r["reference"],
            }
            for r in incident.parallel_regimes
        ],
    }


def _duties(incident: Any) -> list[dict[str, str]]:
    """The immediate duty after the causal link beside the outer deadline (Art. 73)."""
    return [
        {
            "duty": d["duty"],
            "legal_source": d["legal_source"],
            "due": when(d["due"])
            if d["due"]
            else "not yet due: no causal link is established on the record",
        }
        for d in compliance.incident_deadlines(incident=incident)
    ]


def _reports(reports: list[Any], people: People, cite: Citations) -> list[dict[str, Any]]:
    return [
        {
            "kind": r.kind,
            "kind_label": REPORT_STAGE_LABELS.get(r.kind, r.kind),
            "content": r.content,
            "root_cause": r.root_cause,
            "corrective_actions": r.corrective_actions,
            "by": people.who(r.created_by),
            "at": when(r.created_at),
            "seq": cite.add(r.ledger_seq or None),
        }
        for r in reports
    ]


def _incident(
    system: AISystem, stage: str, cite: Citations, incident_id: int | None = None
) -> dict[str, Any] | None:
    """The incident the report is about (``incident_id``, else the system's latest),
    its reporting facts and duties, and its reports; None when the system has none."""
    if incident_id is not None:
        incident = compliance.incident_of_system(system=system, incident_id=incident_id)
        if incident is None:
            raise RecordUnreadable(
                f"Incident {incident_id}, which the report was requested for, is not an "
                f"incident of AI system {system.pk}."
            )
    else:
        incident = compliance.incidents_of_system(system=system).first()
        if incident is None:
            return None
    cite.load({"incident": [incident.pk]})
    people = People(system.organization)
    reports = sorted(incident.reports.all(), key=lambda r: (r.created_at, r.pk))
    if stage == "initial":
        reports = [r for r in reports if r.kind == "initial"]
    days = (incident.reporting_deadline - incident.became_aware_at).days
    opened_seq = cite.seq("incident", incident.pk, "incident.opened")
    # The facts as last recorded: the later entry when any were learnt after opening.
    details_seq = cite.last("incident", incident.pk, "incident.details_recorded") or opened_seq
    return {
        "id": str(incident.pk),
        "kind": incident.kind,
        "kind_label": incident.get_kind_display(),
        "description": incident.description,
        "opened_by": people.who(incident.created_by),
        **_facts(incident),
        "details_seq": details_seq,
        "duties": _duties(incident),
        "reporting_deadline": when(incident.reporting_deadline),
        "deadline_basis": f"{days} days, {INCIDENT_DEADLINE_BASIS.get(incident.kind, 'Art. 73')}",
        "status": incident.status,
        "authority_informed_at": when(incident.authority_informed_at),
        "timeliness": _timeliness(incident),
        "seq": opened_seq,
        "informed_seq": cite.seq("incident", incident.pk, "incident.authority_informed"),
        "closed_seq": cite.seq("incident", incident.pk, "incident.closed"),
        "stages_filed": [REPORT_STAGE_LABELS[r.kind] for r in reports],
        "details_missing": _details_missing(incident, reports),
        "reports": _reports(reports, people, cite),
    }


def gather(report: Report, cite: Citations) -> Gathered:
    system = report.system
    assert system is not None
    facts = system_facts(system, cite)
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
    else:
        if not incident["reports"]:
            missing.append(f"No {stage.replace('_', '-')} report text is on the record yet.")
        missing.extend(f"{m}." for m in incident["details_missing"])
    final = incident is not None and any(r["kind"] == "final" for r in incident["reports"])
    context = {
        "system": facts,
        "stage": stage,
        # A follow-up document that carries the final report (Art. 73(6)) is the final one.
        "stage_label": "final" if final else stage.replace("_", "-"),
        "provider": report.organization.name,
        "incident": incident,
        "deployments": [
            {
                "environment": d.environment,
                "serving": serving(d),
                "seq": cite.seq("deployment", d.pk, "deployment.created"),
            }
            for d in deployments
        ],
        "missing": missing,
    }
    records = {
        "system": facts,
        "stage": stage,
        "incident_id": report.params.get("incident_id"),
        "incident": incident,
        "deployments": context["deployments"],
    }
    return Gathered(
        context=context,
        records=records,
        about={"system": system.name, "stage": stage.replace("_", "-")},
        missing=missing,
    )


SERIOUS_INCIDENT = ReportKind(
    key=Report.Kind.SERIOUS_INCIDENT,
    title="Serious-incident report ({stage}): {system}",
    template="reports/serious_incident.html",
    sections=(
        "1. Provider and AI system",
        "2. The incident",
        "3. Causal link, investigation and corrective actions",
    ),
    gather=gather,
    cites=frozenset({"ai_system", "deployment", "incident"}),
)
