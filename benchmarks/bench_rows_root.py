"""Spec §6 rows root at column speed: the C hashing against the pure-Python path.

Usage: python benchmarks/bench_rows_root.py [--rows 1000000] [--features 30] [--rounds 3]

Synthetic float64 features (no download); one float32 output per row. Both sides run
the same code in ``apps.inference.rowhash`` over chunks of 16,384 rows, as the scoring
loop does: canonical JSON text of the inputs (Arrow kernels), hex SHA-256 of each
input, the leaf texts, the leaf hashes and the RFC 6962 tree. Named baseline: the same
run with the C module switched off, i.e. what a machine without a compiler does
(hashlib once per row and per tree node). Rounds alternate A B B A; medians are printed
with the rows/s of each and their ratio (target: at least 1,000,000 rows/s ours).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apps.inference import rowhash

CHUNK_ROWS = 16_384


def cpu_model() -> str:
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def rows_root(chunks: list[tuple[pa.RecordBatch, np.ndarray]]) -> tuple[str, float]:
    start = time.perf_counter()
    tree = rowhash.RowsAccumulator()
    first_row = 0
    for batch, outputs in chunks:
        leaves = rowhash.leaves(
            first_row=first_row, digests=rowhash.input_digests(batch), outputs=outputs
        )
        tree.add(rowhash.leaf_hashes(leaves))
        first_row += batch.num_rows
    root = tree.root_hex()
    return root, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if rowhash.compiled is None:
        print(
            "apps.inference._rowhash is not built here: install gcc and libssl-dev, then "
            "reinstall the project (bin/bootstrap)",
            file=sys.stderr,
        )
        return 1

    rng = np.random.default_rng(7)
    features = rng.normal(size=(args.rows, args.features))
    outputs = rng.random(args.rows, dtype=np.float32)
    names = [f"f{j:02d}" for j in range(args.features)]
    table = pa.table({name: features[:, j] for j, name in enumerate(names)})
    chunks = [
        (batch, outputs[i * CHUNK_ROWS : i * CHUNK_ROWS + batch.num_rows])
        for i, batch in enumerate(table.to_batches(max_chunksize=CHUNK_ROWS))
    ]
    compiled = rowhash.compiled

    def ours() -> tuple[str, float]:
        rowhash.compiled = compiled
        return rows_root(chunks)

    def python_path() -> tuple[str, float]:
        rowhash.compiled = None
        return rows_root(chunks)

    load_at_start = os.getloadavg()[0]
    times: dict[str, list[float]] = {"ours": [], "python": []}
    roots = set()
    for _ in range(args.rounds):
        for name, run in (
            ("python", python_path),
            ("ours", ours),
            ("ours", ours),
            ("python", python_path),
        ):
            root, elapsed = run()
            roots.add(root)
            times[name].append(elapsed)
    rowhash.compiled = compiled
    assert len(roots) == 1, "the two paths gave different roots"
    mine, base = statistics.median(times["ours"]), statistics.median(times["python"])
    print(f"cpu: {cpu_model()}, cores: {os.cpu_count()}")
    print(
        f"rows: {args.rows:,} x {args.features} float64 features, chunks of {CHUNK_ROWS:,}, "
        f"rounds (ABBA): {args.rounds}"
    )
    print(f"load average (1 min): {load_at_start:.2f} at start, {os.getloadavg()[0]:.2f} at end")
    print(f"baseline (pure-Python hashing): median {base:.3f} s  ({args.rows / base:,.0f} rows/s)")
    print(f"ours (C hashing):              median {mine:.3f} s  ({args.rows / mine:,.0f} rows/s)")
    print(f"speed-up ours/baseline: {base / mine:.2f}x; target >= 1,000,000 rows/s ours")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
