"""Reads for row receipts (spec §6): one decision's proof, checkable offline."""

from __future__ import annotations

import base64
import json
from typing import Any

from apps.inference.scoring import read_leaf
from apps.ledger import selectors as ledger_selectors
from apps.ledger.core.merkle import inclusion_proof
from apps.registry.models import PredictionBatch
from audit_platform.errors import InvalidInput, RuleViolation

RECEIPT_FORMAT = "audit-platform/row-receipt@v1"


def row_receipt(*, batch: PredictionBatch, row: int) -> dict[str, Any]:
    """The row's leaf bytes, its inclusion proof in the batch's rows tree, and the
    batch's completion entry with that entry's tlog-proof."""
    if batch.status != PredictionBatch.Status.COMPLETED or batch.rows_artifact is None:
        raise RuleViolation(
            f"Prediction batch {batch.pk} is {batch.status}; row receipts exist for batches "
            "our workers completed."
        )
    if not 0 <= row < (batch.row_count or 0):
        raise InvalidInput(
            f"Row {row} is not in the batch; rows are 0..{(batch.row_count or 0) - 1}.",
            fields={"n": ["Out of range."]},
        )
    with batch.rows_artifact.file.open("rb") as stream:
        leaf, hashes = read_leaf(stream=stream, row=row)
    proof = inclusion_proof(row, len(hashes), hashes)
    log = ledger_selectors.log_for(organization=batch.deployment.system.organization)
    entry = ledger_selectors.entry_at(log=log, seq=batch.ledger_seq)
    return {
        "format": RECEIPT_FORMAT,
        "prediction_batch": batch.pk,
        "row": row,
        "rows": batch.row_count,
        "rows_root": batch.rows_root,
        "leaf": base64.b64encode(leaf).decode("ascii"),
        "leaf_json": json.loads(leaf),
        "inclusion_proof": [base64.b64encode(h).decode("ascii") for h in proof],
        "entry_seq": batch.ledger_seq,
        "entry": json.loads(bytes(entry.body)),
        "tlog_proof": ledger_selectors.tlog_proof(log=log, seq=batch.ledger_seq),
    }
