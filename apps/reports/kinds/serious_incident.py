"""Serious-incident report (Art. 73), initial or follow-up: the incident asked for (or
the system's latest), its deadline and timeliness, its report texts, and the system's
deployments."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.compliance import selectors as compliance
from apps.registry.models import AISystem, Deployment
from apps.reports.kinds.common import (
    Citations,
    Gathered,
    RecordUnreadable,
    ReportKind,
    serving,
    system_facts,
    when,
)
from apps.reports.models import Report

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


def _incident(
    system: AISystem, stage: str, cite: Citations, incident_id: int | None = None
) -> dict[str, Any] | None:
    """The incident the report is about (``incident_id``, else the system's latest) and
    its reports; None when the system has none."""
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
    reports = sorted(incident.reports.all(), key=lambda r: (r.created_at, r.pk))
    if stage == "initial":
        reports = [r for r in reports if r.kind == "initial"]
    days = (incident.reporting_deadline - incident.became_aware_at).days
    return {
        "id": incident.pk,
        "kind": incident.kind,
        "kind_label": incident.get_kind_display(),
        "description": incident.description,
        "became_aware_at": when(incident.became_aware_at),
        "reporting_deadline": when(incident.reporting_deadline),
        "deadline_basis": f"{days} days, {INCIDENT_DEADLINE_BASIS.get(incident.kind, 'Art. 73')}",
        "status": incident.status,
        "authority_informed_at": when(incident.authority_informed_at),
        "timeliness": _timeliness(incident),
        "seq": cite.seq("incident", incident.pk, "incident.opened"),
        "informed_seq": cite.seq("incident", incident.pk, "incident.authority_informed"),
        "closed_seq": cite.seq("incident", incident.pk, "incident.closed"),
        "reports": [
            {
                "kind": r.kind,
                "kind_label": r.kind.replace("_", "-").capitalize(),
                "content": r.content,
                "at": when(r.created_at),
                "seq": cite.add(r.ledger_seq or None),
            }
            for r in reports
        ],
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
