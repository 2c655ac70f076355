"""Time the offline verifier on a generated, signed N-entry export bundle.

Usage: python benchmarks/bench_verify_bundle.py [N] [--workers W] [--keep PATH]

N defaults to 1,000,000. Entries look like real ones (about 460 bytes: a dataset
version registration with a digest, size and URI), the bundle holds a checkpoint
every N/10 entries plus the final one, and a few tlog-proofs. Prints the generation
time, then the verification time and entries per second.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apps.ledger.core.bundle import verifier_sources, write_bundle
from apps.ledger.core.checkpoint import Checkpoint, sign_checkpoint
from apps.ledger.core.entry import build_entry, format_time
from apps.ledger.core.hashing import leaf_hash
from apps.ledger.core.merkle import CompactRange, inclusion_proof
from apps.ledger.core.note import NoteSigner
from apps.ledger.core.tlogproof import format_tlog_proof
from apps.ledger.offline_verifier import verify_bundle

ORIGIN = "audit.example.eu/acme-bank"
START = datetime(2026, 1, 1, tzinfo=UTC)
CHECKED_WITH_BUILD_ENTRY = 1000


def fields(seq: int, prev: bytes) -> dict:
    return {
        "log": ORIGIN,
        "seq": seq,
        "time": START + timedelta(milliseconds=37 * seq),
        "type": "dataset_version.registered",
        "actor": {"kind": "api_key", "id": f"key_{seq % 17}", "name": "training pipeline"},
        "subject": {"kind": "dataset_version", "id": f"dsv_{seq}"},
        "data": {
            "sha256": hashlib.sha256(seq.to_bytes(8, "big")).hexdigest(),
            "size_bytes": 1_000_000 + seq,
            "uri": f"s3://acme-ml-datasets/credit/v{seq}/train.parquet",
        },
        "prev": prev,
    }


def fast_entry(f: dict) -> bytes:
    # For ASCII text without floats, sorted compact JSON is the JCS form; checked
    # against build_entry for the first entries.
    obj = dict(f, v=1, time=format_time(f["time"]), prev=f["prev"].hex())
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode("ascii")


def generate(path: Path, n: int) -> None:
    signer = NoteSigner.generate(ORIGIN)
    tree = CompactRange()
    leaves_wanted = {0, n // 2, n - 1} if n else set()
    kept_leaves: dict[int, bytes] = {}
    entries: list[bytes] = []
    checkpoint_sizes = {0, n, *range(0, n, max(1, n // 10))}
    roots = {0: tree.root()}
    prev = bytes(32)
    for seq in range(n):
        f = fields(seq, prev)
        body = fast_entry(f)
        if seq < CHECKED_WITH_BUILD_ENTRY:
            assert body == build_entry(**f), "fast generator drifted from build_entry"
        prev = leaf_hash(body)
        tree.append(prev)
        entries.append(body)
        if seq in leaves_wanted:
            kept_leaves[seq] = prev
        if seq + 1 in checkpoint_sizes:
            roots[seq + 1] = tree.root()
    checkpoints = {
        s: sign_checkpoint(Checkpoint(origin=ORIGIN, size=s, root=roots[s]), [signer])
        for s in checkpoint_sizes
    }
    proofs = {}
    if n:
        leaf_hashes = [leaf_hash(e) for e in entries]
        for seq in sorted(leaves_wanted):
            proofs[seq] = format_tlog_proof(
                entry_bytes=entries[seq],
                index=seq,
                proof=inclusion_proof(seq, n, leaf_hashes),
                checkpoint_note=checkpoints[n],
            )
        del leaf_hashes
    with path.open("wb") as out:
        write_bundle(
            out,
            origin=ORIGIN,
            tree_size=n,
            root=roots[n],
            entries=entries,
            checkpoints=checkpoints,
            vkeys=[signer.vkey],
            created=START,
            proofs=proofs,
            verify_md="# Verify\n",
            verifier_sources=verifier_sources(),
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="write the bundle here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bundle.zip"
        t0 = time.perf_counter()
        generate(path, args.n)
        t1 = time.perf_counter()
        print(f"generated {args.n} entries in {t1 - t0:.1f} s ({path.stat().st_size >> 20} MiB)")
        t2 = time.perf_counter()
        report = verify_bundle(path, workers=args.workers)
        t3 = time.perf_counter()
        print("\n".join(report.lines))
        seconds = t3 - t2
        rate = args.n / seconds
        print(f"verify_bundle: {args.n} entries in {seconds:.2f} s = {rate:,.0f} entries/s")
        return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
