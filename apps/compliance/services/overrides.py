"""Human oversight (Art. 14(4)(d)): a person overrides a decision of the system."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.compliance import events
from apps.compliance.models import DecisionOverride
from apps.compliance.services._common import who
from apps.ledger.digests import json_sha256, text_sha256
from apps.ledger.types import Receipt
from apps.registry.models import Deployment
from apps.registry.models import PredictionBatch as RegistryBatch
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal


def decision_override_record(
    *,
    actor: Principal,
    deployment: Deployment,
    original_decision: Any,
    new_decision: Any,
    reason: str,
    prediction_batch: RegistryBatch | None = None,
    row_index: int | None = None,
) -> tuple[DecisionOverride, Receipt]:
    """A person overrides an output of the system (Art. 14(4)(d))."""
    _override_check(
        deployment=deployment,
        original_decision=original_decision,
        new_decision=new_decision,
        prediction_batch=prediction_batch,
        row_index=row_index,
    )
    with transaction.atomic():
        override = DecisionOverride(
            deployment=deployment,
            prediction_batch=prediction_batch,
            row_index=row_index,
            original_decision=original_decision,
            new_decision=new_decision,
            reason=reason,
            created_by=who(actor),
            ledger_seq=0,
        )
        receipt = record_event(
            actor=actor,
            event=events.DECISION_OVERRIDDEN,
            id=deployment.pk,
            data={
                "prediction_batch": record_ref("prediction_batch", prediction_batch),
                "row_index": row_index,
                "original_decision_sha256": json_sha256(original_decision),
                "new_decision_sha256": json_sha256(new_decision),
                "reason_sha256": text_sha256(reason),
            },
        )
        override.ledger_seq = receipt.seq
        override.save()
    return override, receipt


def _override_check(
    *,
    deployment: Deployment,
    original_decision: Any,
    new_decision: Any,
    prediction_batch: RegistryBatch | None,
    row_index: int | None,
) -> None:
    """Refuses a batch of another deployment, a row outside the batch, and an override
    that leaves the decision as it was."""
    if prediction_batch is not None and prediction_batch.deployment_id != deployment.pk:
        raise RuleViolation(
            f"Prediction batch {prediction_batch.pk} belongs to another deployment."
        )
    if row_index is not None and prediction_batch is None:
        raise InvalidInput(
            "row_index needs prediction_batch_id.",
            fields={"prediction_batch_id": ["Required with row_index."]},
        )
    if (
        row_index is not None
        and prediction_batch.row_count is not None
        and not (0 <= row_index < prediction_batch.row_count)
    ):
        raise InvalidInput(
            f"Batch {prediction_batch.pk} has {prediction_batch.row_count} rows.",
            fields={"row_index": ["Out of range."]},
        )
    if original_decision == new_decision:
        raise InvalidInput(
            "An override changes the decision.", fields={"new_decision": ["Same as original."]}
        )
