"""The documentation of a general-purpose AI model (Art. 53, Art. 55): the facts only its
provider can state, recorded field by field (rules.GPAI_FIELDS). What the record can
compute (training compute, time, energy, evaluations, incidents) is never typed here."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from apps.compliance import events, rules, selectors
from apps.compliance.models import GpaiDocumentation
from apps.compliance.services._common import same_org, who
from apps.ledger.digests import json_sha256
from apps.ledger.types import Receipt
from apps.registry.models import AISystem
from apps.tenancy.records import record_event
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal

MAX_FIELD = 20_000


def _problems(data: Any, *, systemic: bool) -> dict[str, list[str]]:
    if not isinstance(data, dict) or not data:
        return {"data": ["Must be an object of at least one field (key -> text, or null)."]}
    problems: dict[str, list[str]] = {}
    for key, value in data.items():
        spec = rules.GPAI_FIELDS.get(key)
        if spec is None:
            problems[key] = ["Not a field of the GPAI documentation (see docs/compliance.md)."]
        elif spec.systemic_only and not systemic:
            problems[key] = [
                f"Conflict: {'; '.join(spec.sources)} is for models with systemic risk, but "
                "the classification answers systemic_risk false."
            ]
        elif value is not None and (not isinstance(value, str) or len(value) > MAX_FIELD):
            problems[key] = [f"Must be text (at most {MAX_FIELD} characters) or null."]
    return problems


def gpai_documentation_record(
    *, actor: Principal, system: AISystem, data: Any
) -> tuple[GpaiDocumentation, Receipt]:
    """A new version of the model's documentation: the previous fields with those given
    (null removes one). Only for a general-purpose AI model the organization provides."""
    same_org(actor, system)
    flags = selectors.gpai_flags(system=system)
    if flags is None:
        raise RuleViolation(
            f"System {system.pk} is not classified as a general-purpose AI model that the "
            "organization provides (Art. 53): classify it first (general_purpose_ai_model)."
        )
    problems = _problems(data, systemic=flags["systemic_risk"])
    if problems:
        raise InvalidInput(
            "The GPAI documentation cannot be recorded: " + ", ".join(sorted(problems)) + ".",
            fields={f"data.{k}": v for k, v in problems.items()},
        )
    with transaction.atomic():
        AISystem.objects.select_for_update().get(pk=system.pk)
        latest = GpaiDocumentation.objects.filter(system=system).order_by("-version").first()
        merged = {**(latest.data if latest else {}), **data}
        merged = {k: v for k, v in merged.items() if v is not None and v.strip()}
        version = (
            GpaiDocumentation.objects.filter(system=system).aggregate(v=Max("version"))["v"] or 0
        ) + 1
        doc = GpaiDocumentation(
            system=system, version=version, data=merged, created_by=who(actor), ledger_seq=0
        )
        receipt = record_event(
            actor=actor,
            event=events.GPAI_DOCUMENTATION_RECORDED,
            id=system.pk,
            data={
                "version": version,
                "supersedes": latest.version if latest else None,
                "changed": sorted(data),
                "fields": sorted(merged),
                "data_sha256": json_sha256(merged),
            },
        )
        doc.ledger_seq = receipt.seq
        doc.save()
    return doc, receipt
