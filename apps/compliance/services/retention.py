"""Retention settings: how long a system's documentation and logs are kept (Art. 18,
Art. 19, Art. 26(6)). The duties count as met only when the current setting covers them."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from apps.compliance import events
from apps.compliance.models import RetentionSetting
from apps.compliance.services._common import same_org, who
from apps.ledger.types import Receipt
from apps.registry.models import AISystem
from apps.tenancy.records import record_event
from audit_platform.errors import InvalidInput
from audit_platform.principal import Principal

# The upper bounds only catch typing errors (months for years); the Act sets minimums.
MAX_DOCUMENTATION_YEARS = 100
MAX_LOG_MONTHS = 1200


def retention_setting_record(
    *, actor: Principal, system: AISystem, documentation_years: int, log_months: int
) -> tuple[RetentionSetting, Receipt]:
    """A new version of the system's retention setting. Shorter than the Act's minimum is
    allowed (the checklist then shows the duty missing), never negative or absurd."""
    same_org(actor, system)
    problems: dict[str, list[str]] = {}
    if not 0 < documentation_years <= MAX_DOCUMENTATION_YEARS:
        problems["documentation_years"] = [f"Between 1 and {MAX_DOCUMENTATION_YEARS}."]
    if not 0 < log_months <= MAX_LOG_MONTHS:
        problems["log_months"] = [f"Between 1 and {MAX_LOG_MONTHS}."]
    if problems:
        raise InvalidInput(
            "Retention periods out of range: " + ", ".join(sorted(problems)) + ".",
            fields=problems,
        )
    with transaction.atomic():
        AISystem.objects.select_for_update().get(pk=system.pk)
        latest = RetentionSetting.objects.filter(system=system).aggregate(v=Max("version"))["v"]
        setting = RetentionSetting(
            system=system,
            version=(latest or 0) + 1,
            documentation_years=documentation_years,
            log_months=log_months,
            created_by=who(actor),
            ledger_seq=0,
        )
        receipt = record_event(
            actor=actor,
            event=events.RETENTION_SET,
            id=system.pk,
            data={
                "version": setting.version,
                "supersedes": latest,
                "documentation_years": documentation_years,
                "log_months": log_months,
            },
        )
        setting.ledger_seq = receipt.seq
        setting.save()
    return setting, receipt
