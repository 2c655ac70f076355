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
RECEIPT_STATUSES = (PredictionBatch.Status.COMPLETED, PredictionBatch.Status.RECORDED)


def row_receipt(*, batch: PredictionBatch, row: int) -> dict[str, Any]:
    """The row's leaf bytes, its inclusion proof in the batch's rows tree, and the
    batch's entry (completed by our workers, or recorded by a pipeline) with that
    entry's tlog-proof. The same receipt whoever ran the batch: a recorded batch has
    one once its rows file is on the record (its input and output files, or its
    pipeline's rows file, uploaded and found to yield the recorded rows_root)."""
    if batch.status not in RECEIPT_STATUSES:
        raise RuleViolation(
            f"Prediction batch {batch.pk} is {batch.status}; row receipts exist for batches "
            "our workers completed and for batches recorded with their rows file."
        )
    if batch.rows_artifact is None:
        raise RuleViolation(
            f"Prediction batch {batch.pk} was recorded without its rows: upload its input "
            f"and output (POST /api/v1/prediction-batches/{batch.pk}/files) or its rows file "
            f"(POST /api/v1/prediction-batches/{batch.pk}/rows) to get row receipts."
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
    seq = batch.ledger_seq
    if seq is None:  # recorded before batches kept the seq of their entry
        seq = ledger_selectors.entry_seq_first(
            log=log,
            subject_kind="prediction_batch",
            subject_id=batch.pk,
            type="prediction_batch.recorded",
        )
    entry = ledger_selectors.entry_at(log=log, seq=seq)
    return {
        "format": RECEIPT_FORMAT,
        "prediction_batch": str(batch.pk),
        "row": row,
        "rows": batch.row_count,
        "rows_root": batch.rows_root,
        "leaf": base64.b64encode(leaf).decode("ascii"),
        "leaf_json": json.loads(leaf),
        "inclusion_proof": [base64.b64encode(h).decode("ascii") for h in proof],
        "entry_seq": seq,
        "entry": json.loads(bytes(entry.body)),
        "tlog_proof": ledger_selectors.tlog_proof(log=log, seq=seq),
    }
