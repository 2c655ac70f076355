"""Serious incidents (Art. 73): opened with their reporting deadline and the facts the
Commission's reporting template asks for, reported (initial, follow-up, final), the
authority informed, closed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.compliance import events, rules
from apps.compliance.models import Incident, IncidentReport
from apps.compliance.services._common import same_org, who
from apps.ledger.digests import text_sha256
from apps.ledger.types import Receipt
from apps.registry.models import AISystem
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal

# Art. 73(2), (3), (4): days from awareness to the report at the latest.
REPORTING_DAYS = {kind: days for kind, (days, _) in rules.INCIDENT_DEADLINES.items()}
INCIDENT_DETAILS = (
    "member_state",
    "receiving_authority",
    "occurred_at",
    "causal_link_established_at",
    "harm_category",
    "parallel_regimes",
)


def incident_deadline(*, kind: str, became_aware_at: datetime) -> datetime:
    return became_aware_at + timedelta(days=REPORTING_DAYS[kind])


def _regimes_problem(value: Any) -> str | None:
    if not isinstance(value, list):
        return "Must be a list of {regime, reference}."
    seen = set()
    for item in value:
        if not isinstance(item, dict) or set(item) != {"regime", "reference"}:
            return "Each item is {regime, reference}."
        if item["regime"] not in rules.PARALLEL_REGIMES:
            return f"regime must be one of: {', '.join(rules.PARALLEL_REGIMES)}."
        if not isinstance(item["reference"], str) or not item["reference"].strip():
            return "reference must name the report under that regime."
        if item["regime"] in seen:
            return f"{item['regime']} is listed twice."
        seen.add(item["regime"])
    return None


def _details_problems(
    details: Mapping[str, Any], *, kind: str, became_aware_at: datetime
) -> dict[str, list[str]]:
    """What is wrong with the reporting facts, per field; conflicts named."""
    problems: dict[str, list[str]] = {}
    now = timezone.now() + timedelta(minutes=5)
    for name in sorted(set(details) - set(INCIDENT_DETAILS)):
        problems[name] = ["Unknown field."]
    state = details.get("member_state")
    if state and state not in rules.EU_MEMBER_STATES:
        problems["member_state"] = [
            f"Must be an EU Member State code: {', '.join(rules.EU_MEMBER_STATES)}."
        ]
    occurred = details.get("occurred_at")
    if occurred and (occurred > became_aware_at or occurred > now):
        problems["occurred_at"] = ["After became_aware_at: it must have occurred first."]
    link = details.get("causal_link_established_at")
    if link and (link < became_aware_at or link > now):
        problems["causal_link_established_at"] = [
            "Between became_aware_at and now: a link is established after awareness."
        ]
    harm = details.get("harm_category")
    if harm and harm not in rules.HARM_CATEGORIES:
        problems["harm_category"] = [f"Must be one of: {', '.join(rules.HARM_CATEGORIES)}."]
    elif harm and rules.KIND_HARM.get(kind, harm) != harm:
        problems["harm_category"] = [
            f"Conflict: an incident of kind '{kind}' is harm '{rules.KIND_HARM[kind]}' "
            f"({rules.HARM_CATEGORIES[rules.KIND_HARM[kind]][0]}), not '{harm}'."
        ]
    if "parallel_regimes" in details:
        problem = _regimes_problem(details["parallel_regimes"])
        if problem:
            problems["parallel_regimes"] = [problem]
    return problems


def _check_details(
    details: Mapping[str, Any], *, kind: str, became_aware_at: datetime
) -> dict[str, Any]:
    """The facts, checked (InvalidInput naming every problem) and made plain data."""
    problems = _details_problems(details, kind=kind, became_aware_at=became_aware_at)
    if problems:
        conflict = any(m.startswith("Conflict") for ms in problems.values() for m in ms)
        raise InvalidInput(
            ("The incident's facts contradict each other: " if conflict else "")
            + "Fix: "
            + ", ".join(sorted(problems))
            + ".",
            fields=problems,
        )
    clean = dict(details)
    if "parallel_regimes" in clean:
        clean["parallel_regimes"] = [dict(r) for r in clean["parallel_regimes"]]
    return clean


def _details_data(incident: Incident) -> dict[str, Any]:
    """The reporting facts as the ledger holds them (references as digests)."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "member_state": incident.member_state or None,
        "receiving_authority": incident.receiving_authority or None,
        "occurred_at": iso(incident.occurred_at),
        "causal_link_established_at": iso(incident.causal_link_established_at),
        "harm_category": incident.harm_category or None,
        "parallel_regimes": [
            {"regime": r["regime"], "reference_sha256": text_sha256(r["reference"])}
            for r in incident.parallel_regimes
        ],
    }


def incident_open(
    *,
    actor: Principal,
    system: AISystem,
    kind: str,
    description: str,
    became_aware_at: datetime,
    **details: Any,
) -> tuple[Incident, Receipt]:
    """Opens an incident with its reporting deadline; ``details`` are the reporting
    template's facts known so far (INCIDENT_DETAILS), the rest recorded later."""
    same_org(actor, system)
    if became_aware_at > timezone.now() + timedelta(minutes=5):
        raise InvalidInput(
            "became_aware_at is in the future.", fields={"became_aware_at": ["In the future."]}
        )
    if "harm_category" not in details and kind in rules.KIND_HARM:
        details["harm_category"] = rules.KIND_HARM[kind]
    details = _check_details(details, kind=kind, became_aware_at=became_aware_at)
    with transaction.atomic():
        incident = Incident.objects.create(
            system=system,
            kind=kind,
            description=description,
            became_aware_at=became_aware_at,
            reporting_deadline=incident_deadline(kind=kind, became_aware_at=became_aware_at),
            created_by=who(actor),
            **details,
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
                **_details_data(incident),
                "parent": record_ref("ai_system", system),
            },
        )
    return incident, receipt


def incident_details_record(
    *, actor: Principal, incident: Incident, changes: Mapping[str, Any]
) -> tuple[Incident, Receipt]:
    """Records reporting facts learnt later (the causal link, the receiving authority, other
    regimes); the entry names what changed and the facts after the change."""
    if not changes:
        raise InvalidInput("Nothing to change.", fields={"non_field_errors": ["No changes."]})
    changes = _check_details(changes, kind=incident.kind, became_aware_at=incident.became_aware_at)
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status == Incident.Status.CLOSED:
            raise RuleViolation(f"Incident {incident.pk} is closed.")
        changed = sorted(k for k, v in changes.items() if getattr(incident, k) != v)
        if not changed:
            raise RuleViolation(f"Incident {incident.pk} already has these values.")
        for name in changed:
            setattr(incident, name, changes[name])
        incident.save(update_fields=changed)
        receipt = record_event(
            actor=actor,
            event=events.INCIDENT_DETAILS_RECORDED,
            id=incident.pk,
            data={**_details_data(incident), "changed": changed},
        )
    return incident, receipt


def _report_order_refusal(incident: Incident, kind: str) -> str | None:
    kinds = set(incident.reports.values_list("kind", flat=True))
    if incident.status == Incident.Status.CLOSED:
        return f"Incident {incident.pk} is closed."
    if kind == IncidentReport.Kind.INITIAL and IncidentReport.Kind.INITIAL in kinds:
        return f"Incident {incident.pk} has its initial report already."
    if kind != IncidentReport.Kind.INITIAL and IncidentReport.Kind.INITIAL not in kinds:
        return f"Incident {incident.pk} has no initial report yet; file that first (Art. 73(5))."
    if IncidentReport.Kind.FINAL in kinds:
        return f"Incident {incident.pk} has its final report already."
    return None


def incident_report_add(
    *,
    actor: Principal,
    incident: Incident,
    kind: str,
    content: str,
    root_cause: str = "",
    corrective_actions: str = "",
) -> tuple[IncidentReport, Receipt]:
    """Files an initial (possibly incomplete, Art. 73(5)), follow-up or final report.
    The final report states the root cause and the corrective actions (Art. 73(6))."""
    if kind == IncidentReport.Kind.FINAL:
        missing = {
            name: ["Required in the final report (Art. 73(6))."]
            for name, value in (
                ("root_cause", root_cause),
                ("corrective_actions", corrective_actions),
            )
            if not value.strip()
        }
        if missing:
            raise InvalidInput(
                "The final report must state " + " and ".join(sorted(missing)) + ".",
                fields=missing,
            )
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        refusal = _report_order_refusal(incident, kind)
        if refusal:
            raise RuleViolation(refusal)
        report = IncidentReport(
            incident=incident,
            kind=kind,
            content=content,
            root_cause=root_cause,
            corrective_actions=corrective_actions,
            created_by=who(actor),
            ledger_seq=0,
        )
        receipt = record_event(
            actor=actor,
            event=events.INCIDENT_REPORT_ADDED,
            id=incident.pk,
            data={
                "report": kind,
                "content_sha256": text_sha256(content),
                **({"root_cause_sha256": text_sha256(root_cause)} if root_cause else {}),
                **(
                    {"corrective_actions_sha256": text_sha256(corrective_actions)}
                    if corrective_actions
                    else {}
                ),
            },
        )
        report.ledger_seq = receipt.seq
        report.save()
    return report, receipt


def _informed_refusal(incident: Incident, informed_at: datetime) -> None:
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
    missing = [f for f in ("member_state", "receiving_authority") if not getattr(incident, f)]
    if missing:
        raise InvalidInput(
            "Name the Member State where the incident occurred and the market surveillance "
            "authority that received the report (Art. 73(1)): " + ", ".join(missing) + ".",
            fields={f: ["Required to record the report to the authority."] for f in missing},
        )


def incident_authority_informed(
    *,
    actor: Principal,
    incident: Incident,
    informed_at: datetime,
    member_state: str = "",
    receiving_authority: str = "",
) -> tuple[Incident, Receipt]:
    """Records that the market surveillance authority of the Member State where the
    incident occurred received the report (Art. 73(1)); both named here or before."""
    given = {
        k: v
        for k, v in (("member_state", member_state), ("receiving_authority", receiving_authority))
        if v
    }
    _check_details(given, kind=incident.kind, became_aware_at=incident.became_aware_at)
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        for name, value in given.items():
            setattr(incident, name, value)
        _informed_refusal(incident, informed_at)
        incident.authority_informed_at = informed_at
        incident.status = Incident.Status.AUTHORITY_INFORMED
        incident.save(
            update_fields=["authority_informed_at", "status", "member_state", "receiving_authority"]
        )
        receipt = record_event(
            actor=actor,
            event=events.INCIDENT_AUTHORITY_INFORMED,
            id=incident.pk,
            data={
                "informed_at": informed_at.isoformat(),
                "reporting_deadline": incident.reporting_deadline.isoformat(),
                "on_time": informed_at <= incident.reporting_deadline,
                "member_state": incident.member_state,
                "receiving_authority": incident.receiving_authority,
            },
        )
    return incident, receipt


def incident_close(*, actor: Principal, incident: Incident) -> tuple[Incident, Receipt]:
    actor.require_second_factor(act="Closing an incident")
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
