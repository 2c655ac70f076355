"""Serious incidents (Art. 73): opened with their reporting deadline, reported,
the authority informed, closed."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.compliance import events
from apps.compliance.models import Incident, IncidentReport
from apps.compliance.services._common import same_org, who
from apps.ledger.digests import text_sha256
from apps.ledger.types import Receipt
from apps.registry.models import AISystem
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal

# Art. 73(2), (3), (4): days from awareness to the report.
REPORTING_DAYS = {
    Incident.Kind.GENERAL: 15,
    Incident.Kind.DEATH: 10,
    Incident.Kind.WIDESPREAD_INFRINGEMENT: 2,
    Incident.Kind.CRITICAL_INFRASTRUCTURE: 2,
}


def incident_deadline(*, kind: str, became_aware_at: datetime) -> datetime:
    return became_aware_at + timedelta(days=REPORTING_DAYS[kind])


def incident_open(
    *, actor: Principal, system: AISystem, kind: str, description: str, became_aware_at: datetime
) -> tuple[Incident, Receipt]:
    same_org(actor, system)
    if became_aware_at > timezone.now() + timedelta(minutes=5):
        raise InvalidInput(
            "became_aware_at is in the future.", fields={"became_aware_at": ["In the future."]}
        )
    with transaction.atomic():
        incident = Incident.objects.create(
            system=system,
            kind=kind,
            description=description,
            became_aware_at=became_aware_at,
            reporting_deadline=incident_deadline(kind=kind, became_aware_at=became_aware_at),
            created_by=who(actor),
        )
        receipt = record_event(
            actor=actor,
            event=events.INCIDENT_OPENED,
            id=incident.pk,
            data={
                "kind": kind,
                "became_aware_at": became_aware_at.isoformat(),
                "reporting_deadline": incident.reporting_deadline.isoformat(),
                "reporting_days": REPORTING_DAYS[kind],
                "description_sha256": text_sha256(description),
                "parent": record_ref("ai_system", system),
            },
        )
    return incident, receipt


def incident_report_add(
    *, actor: Principal, incident: Incident, kind: str, content: str
) -> tuple[IncidentReport, Receipt]:
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status == Incident.Status.CLOSED:
            raise RuleViolation(f"Incident {incident.pk} is closed.")
        kinds = set(incident.reports.values_list("kind", flat=True))
        if kind == IncidentReport.Kind.INITIAL and IncidentReport.Kind.INITIAL in kinds:
            raise RuleViolation(f"Incident {incident.pk} has its initial report already.")
        if kind != IncidentReport.Kind.INITIAL and IncidentReport.Kind.INITIAL not in kinds:
            raise RuleViolation(
                f"Incident {incident.pk} has no initial report yet; file that first (Art. 73(5))."
            )
        if IncidentReport.Kind.FINAL in kinds:
            raise RuleViolation(f"Incident {incident.pk} has its final report already.")
        report = IncidentReport(
            incident=incident, kind=kind, content=content, created_by=who(actor), ledger_seq=0
        )
        receipt = record_event(
            actor=actor,
            event=events.INCIDENT_REPORT_ADDED,
            id=incident.pk,
            data={"report": kind, "content_sha256": text_sha256(content)},
        )
        report.ledger_seq = receipt.seq
        report.save()
    return report, receipt


def incident_authority_informed(
    *, actor: Principal, incident: Incident, informed_at: datetime
) -> tuple[Incident, Receipt]:
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.authority_informed_at is not None:
            raise RuleViolation(f"The authority was informed of incident {incident.pk} already.")
        if informed_at < incident.became_aware_at:
            raise InvalidInput(
                "informed_at is before the provider became aware of the incident.",
                fields={"informed_at": ["Before became_aware_at."]},
            )
        if informed_at > timezone.now() + timedelta(minutes=5):
            raise InvalidInput(
                "informed_at is in the future.", fields={"informed_at": ["In the future."]}
            )
        if not incident.reports.filter(kind=IncidentReport.Kind.INITIAL).exists():
            raise RuleViolation(
                f"Incident {incident.pk} has no initial report; record the report the "
                "authority was given first."
            )
        incident.authority_informed_at = informed_at
        incident.status = Incident.Status.AUTHORITY_INFORMED
        incident.save(update_fields=["authority_informed_at", "status"])
        receipt = record_event(
            actor=actor,
            event=events.INCIDENT_AUTHORITY_INFORMED,
            id=incident.pk,
            data={
                "informed_at": informed_at.isoformat(),
                "reporting_deadline": incident.reporting_deadline.isoformat(),
                "on_time": informed_at <= incident.reporting_deadline,
            },
        )
    return incident, receipt


def incident_close(*, actor: Principal, incident: Incident) -> tuple[Incident, Receipt]:
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status == Incident.Status.CLOSED:
            raise RuleViolation(f"Incident {incident.pk} is closed already.")
        if incident.authority_informed_at is None:
            raise RuleViolation(
                f"Incident {incident.pk} cannot be closed before the authority is informed "
                "(Art. 73)."
            )
        incident.status = Incident.Status.CLOSED
        incident.closed_at = timezone.now()
        incident.save(update_fields=["status", "closed_at"])
        receipt = record_event(actor=actor, event=events.INCIDENT_CLOSED, id=incident.pk, data={})
    return incident, receipt
