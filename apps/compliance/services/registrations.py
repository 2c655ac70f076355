"""Registration data (Art. 49, Annex VIII): what a provider or public-authority
deployer records for the EU database or the national register, checked against the
registration duty the system's checklist names."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from apps.compliance import events, rules, selectors
from apps.compliance.models import RegistrationRecord
from apps.compliance.services._common import same_org, who
from apps.ledger.digests import json_sha256
from apps.ledger.types import Receipt
from apps.registry.models import AISystem
from apps.tenancy.records import record_event
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal

REGISTRATION_DUTIES = ("art_49", "art_49_2", "art_26_8")


def registration_target(*, system: AISystem) -> tuple[str, str, str]:
    """(duty code, Annex VIII section, database) of the system's registration duty;
    RuleViolation when its checklist has none."""
    checklist = selectors.obligations_for_system(system=system)
    for item in checklist["obligations"]:
        if item["code"] in REGISTRATION_DUTIES:
            section, database = rules.REGISTRATION_TARGETS[item["article"]]
            return item["code"], section, database
    raise RuleViolation(
        f"System {system.pk} has no registration duty in its checklist (Art. 49): "
        + (
            "classify it first."
            if checklist["classification"] is None
            else "an Annex I-only system registers under its sectoral legislation, and "
            "other systems do not register."
        )
    )


def _problems(section: str, data: Any) -> dict[str, list[str]]:
    if not isinstance(data, dict):
        return {"data": ["Must be an object keyed by field."]}
    fields = {f.key: f for f in rules.ANNEX_VIII_SECTIONS[section][1]}
    problems = {
        k: [f"Not a field of Annex VIII Section {section}."] for k in set(data) - set(fields)
    }
    for key, spec in fields.items():
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 5000):
            problems[key] = ["Must be text (at most 5000 characters)."]
        elif spec.required and not (value or "").strip():
            problems[key] = [f"Required (Annex VIII Section {section}, point {spec.point})."]
    return problems


def registration_record(
    *, actor: Principal, system: AISystem, database: str, data: Any
) -> tuple[RegistrationRecord, Receipt]:
    """A new version of the system's registration data. The database must be the one
    the checklist's duty names: a point 2 system flagged for the EU database is a
    conflict, as is a non-public registration for a public one."""
    same_org(actor, system)
    duty, section, expected = registration_target(system=system)
    if database != expected:
        raise InvalidInput(
            f"Conflict: the system's registration duty ({duty}) is in "
            f"{rules.REGISTRATION_DATABASES[expected]}, not in "
            f"{rules.REGISTRATION_DATABASES.get(database, database)}.",
            fields={"database": [f"Must be '{expected}' for this system."]},
        )
    problems = _problems(section, data)
    if problems:
        raise InvalidInput(
            f"The registration data does not fit Annex VIII Section {section}: "
            + ", ".join(sorted(problems))
            + ".",
            fields={f"data.{k}": v for k, v in problems.items()},
        )
    clean = {k: v for k, v in data.items() if v is not None}
    with transaction.atomic():
        AISystem.objects.select_for_update().get(pk=system.pk)
        latest = RegistrationRecord.objects.filter(system=system).aggregate(v=Max("version"))["v"]
        record = RegistrationRecord(
            system=system,
            version=(latest or 0) + 1,
            section=section,
            database=database,
            duty=duty,
            data=clean,
            created_by=who(actor),
            ledger_seq=0,
        )
        receipt = record_event(
            actor=actor,
            event=events.REGISTRATION_RECORDED,
            id=system.pk,
            data={
                "version": record.version,
                "supersedes": latest,
                "duty": duty,
                "section": section,
                "database": database,
                "fields": sorted(clean),
                "data_sha256": json_sha256(clean),
            },
        )
        record.ledger_seq = receipt.seq
        record.save()
    return record, receipt
