"""Offline checks, with no server: export bundles, row receipts, tlog-proofs of single
entries, and report PDFs against the proof of their ``report.generated`` entry.

They are the ledger's own offline verifier (``apps.ledger.offline_verifier``, the code
every export bundle carries), called in-process; this module only turns its answers
into ``ok:`` lines or a :class:`VerificationFailed`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from apps.ledger.core.tlogproof import parse_tlog_proof
from apps.ledger.offline_verifier import verify_bundle as _verify_bundle
from apps.ledger.offline_verifier import verify_proof_file
from apps.ledger.offline_verifier import verify_receipt as _verify_receipt
from audit_client.errors import VerificationFailed


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise VerificationFailed(f"{path}: cannot read the {what}: {exc.strerror}") from None


def verify_bundle(
    path: str | Path,
    *,
    trusted_vkeys: Sequence[str] = (),
    trusted_checkpoint: str | None = None,
) -> list[str]:
    """Every check of ledger format §5 on an export bundle; the ``ok:`` lines and the
    final ``OK`` line, or :class:`VerificationFailed` naming the first check that failed.
    Without ``trusted_vkeys`` the bundle's own keys are used, and the lines say so."""
    path = Path(path)
    if not path.is_file():
        raise VerificationFailed(f"{path}: no such file")
    report = _verify_bundle(
        path, trusted_vkeys=list(trusted_vkeys), trusted_checkpoint=trusted_checkpoint
    )
    if not report.ok:
        raise VerificationFailed(f"{path}: {report.failure}")
    return report.lines


def verify_receipt(
    receipt: str | Path | dict[str, Any],
    *,
    trusted_vkeys: Sequence[str],
    row_input: dict[str, Any] | None = None,
) -> list[str]:
    """A row receipt (a file or the parsed JSON): the batch entry's proof against a
    trusted key, the row's leaf in the batch's ``rows_root`` and, given the row's input,
    its digest."""
    where = "receipt"
    if not isinstance(receipt, dict):
        where = str(receipt)
        try:
            receipt = json.loads(_read(Path(receipt), "receipt"))
        except ValueError as exc:
            raise VerificationFailed(f"{where}: not valid JSON ({exc})") from None
    try:
        return _verify_receipt(receipt, list(trusted_vkeys), row_input)
    except ValueError as exc:
        raise VerificationFailed(f"{where}: {exc}") from None


def verify_proof(text: str, *, trusted_vkeys: Sequence[str], where: str = "proof") -> list[str]:
    """A C2SP tlog-proof of one entry (the text ``Client.entry_proof`` returns)."""
    try:
        return verify_proof_file(text, list(trusted_vkeys))
    except ValueError as exc:
        raise VerificationFailed(f"{where}: {exc}") from None


def verify_report(pdf: str | Path, *, proof: str, trusted_vkeys: Sequence[str]) -> list[str]:
    """A report PDF is the one the service generated: ``proof``, the tlog-proof of its
    ``report.generated`` entry, verifies against a trusted key, and that entry records
    this file's SHA-256 (one changed byte and it does not)."""
    pdf = Path(pdf)
    digest = hashlib.sha256(_read(pdf, "report")).hexdigest()
    lines = verify_proof(proof, trusted_vkeys=trusted_vkeys)
    entry = json.loads(parse_tlog_proof(proof).extra)
    if entry.get("type") != "report.generated":
        raise VerificationFailed(f"the proven entry is a {entry.get('type')}, not report.generated")
    recorded = entry.get("data", {}).get("sha256")
    report_id = entry.get("subject", {}).get("id")
    if recorded != digest:
        raise VerificationFailed(
            f"{pdf}: SHA-256 {digest} is not the {recorded} that report {report_id} "
            "recorded: not the generated file"
        )
    lines.append(f"ok: {pdf.name} is report {report_id} as generated (sha256 {digest})")
    return lines
