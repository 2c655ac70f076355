"""The lifecycle of an AI system as data: the statuses a system may move to from each
status. A change goes through ``services.ai_system_status_change`` with a reason and
is put on the ledger (``ai_system.status_changed``).

- development → validation: the system is being validated (Annex IV 2(g)) before it
  is placed on the market or put into service;
- validation → in service: placed on the market or put into service (Art. 3(9), (11));
  back to development when validation fails;
- in service → withdrawn: taken out of service or withdrawn from the market (Art. 3(16),
  Art. 20 corrective action); → validation for a change to revalidate;
- withdrawn → in service once corrected, or → retired;
- retired is final: a retired system's record is kept (Art. 18, 19), nothing changes it.
"""

from __future__ import annotations

from apps.registry.models import AISystem

Status = AISystem.Status

STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DEVELOPMENT: frozenset({Status.VALIDATION, Status.RETIRED}),
    Status.VALIDATION: frozenset({Status.DEVELOPMENT, Status.IN_SERVICE, Status.RETIRED}),
    Status.IN_SERVICE: frozenset({Status.VALIDATION, Status.WITHDRAWN, Status.RETIRED}),
    Status.WITHDRAWN: frozenset({Status.IN_SERVICE, Status.RETIRED}),
    Status.RETIRED: frozenset(),
}


def status_label(status: str) -> str:
    """The status in words ("in service"), for documents and pages."""
    try:
        return str(Status(status).label)
    except ValueError:
        return status.replace("_", " ")
