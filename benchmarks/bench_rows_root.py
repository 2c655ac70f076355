"""Spec §6 rows root at column speed: the compiled texts and hashing against Python.

Usage: python benchmarks/bench_rows_root.py [--rows 1000000] [--features 30] [--rounds 3]

Synthetic float64 features (no download); one float32 output per row. Both sides run
the same code in ``apps.inference.rowhash`` over chunks of 16,384 rows, as the scoring
loop does: canonical JSON text of the inputs, hex SHA-256 of each input, the leaf
texts, the leaf hashes and the RFC 6962 tree. Ours: the compiled modules (_rowtext.cpp
texts, _rowhash.c hashing, both outside the GIL), chunks on one thread and on one
thread per core. Named baseline: the same run with both modules switched off, i.e.
what a machine without a compiler does (Arrow kernels for the texts, hashlib once per
row and per tree node). Rounds alternate A B B A; medians are printed with the rows/s
of each and their ratio (target: at least 1,000,000 rows/s ours on all cores).
"""

from __future__ import annotations

import argparse
import concurrent.futures
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


def chunk_leaf_hashes(first_row: int, batch: pa.RecordBatch, outputs: np.ndarray) -> pa.Array:
    leaves = rowhash.leaves(
        first_row=first_row, digests=rowhash.input_digests(batch), outputs=outputs
    )
    return rowhash.leaf_hashes(leaves)


def rows_root(
    chunks: list[tuple[pa.RecordBatch, np.ndarray]], *, threads: int
) -> tuple[str, float]:
    start = time.perf_counter()
    tree = rowhash.RowsAccumulator()
    firsts = np.cumsum([0] + [batch.num_rows for batch, _ in chunks[:-1]])
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        # map() keeps chunk order, which the tree needs.
        for hashes in pool.map(chunk_leaf_hashes, firsts, *zip(*chunks, strict=True), chunksize=1):
            tree.add(hashes)
    root = tree.root_hex()
    return root, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if rowhash.compiled is None or rowhash.compiled_text is None:
        print(
            "apps.inference._rowhash or _rowtext is not built here: install gcc, g++, "
            "libssl-dev and libdouble-conversion-dev, then reinstall (bin/bootstrap)",
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
    compiled, compiled_text = rowhash.compiled, rowhash.compiled_text
    cores = os.cpu_count() or 1

    def use_compiled(on: bool) -> None:
        rowhash.compiled = compiled if on else None
        rowhash.compiled_text = compiled_text if on else None

    def ours() -> tuple[str, float]:
        use_compiled(True)
        return rows_root(chunks, threads=cores)

    def ours_one_thread() -> tuple[str, float]:
        use_compiled(True)
        return rows_root(chunks, threads=1)

    def python_path() -> tuple[str, float]:
        use_compiled(False)
        return rows_root(chunks, threads=1)

    load_at_start = os.getloadavg()[0]
    times: dict[str, list[float]] = {"ours": [], "ours, one thread": [], "python": []}
    roots = set()
    for _ in range(args.rounds):
        for name, run in (
            ("python", python_path),
            ("ours", ours),
            ("ours, one thread", ours_one_thread),
            ("ours", ours),
            ("python", python_path),
        ):
            root, elapsed = run()
            roots.add(root)
            times[name].append(elapsed)
    use_compiled(True)
    assert len(roots) == 1, "the paths gave different roots"
    mine, base = statistics.median(times["ours"]), statistics.median(times["python"])
    single = statistics.median(times["ours, one thread"])
    print(f"cpu: {cpu_model()}, cores: {os.cpu_count()}")
    print(
        f"rows: {args.rows:,} x {args.features} float64 features, chunks of {CHUNK_ROWS:,}, "
        f"rounds (ABBA): {args.rounds}"
    )
    print(f"load average (1 min): {load_at_start:.2f} at start, {os.getloadavg()[0]:.2f} at end")
    print(f"baseline (no compiled modules): median {base:.3f} s  ({args.rows / base:,.0f} rows/s)")
    print(
        f"ours, one thread:               median {single:.3f} s  ({args.rows / single:,.0f} rows/s)"
    )
    print(
        f"ours, {cores} threads:              median {mine:.3f} s  ({args.rows / mine:,.0f} rows/s)"
    )
    print(f"speed-up ours/baseline: {base / mine:.2f}x; target >= 1,000,000 rows/s ours")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
