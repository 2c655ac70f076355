"""Drift of a 10,000,000-row window streamed from Parquet against a reference summary.

Writes, in a temporary folder, a 100,000-row reference and a 10,000,000-row window
(8 float64 features, 2 string features; shift planted in 2 of them) as Parquet. Then,
each in a fresh process so that its peak resident memory (VmHWM) is its own:

- ours: ``reference_summary`` of the reference (read whole: 100,000 rows), then
  ``drift_against_summary`` over ``parquet_chunks`` of the window (65,536 rows a
  batch); prints rows/s, the peak memory (target: under 500 MB) and the verdict;
- baseline 1, reading only: the same batches read by ``pyarrow.parquet.ParquetFile
  .iter_batches`` and dropped (the floor for any streamed computation); rows/s;
- baseline 2, the naive way: ``pyarrow.parquet.read_table`` of the whole window (what
  an exact in-memory test would have to hold before sorting); peak memory.

Usage: .venv/bin/python benchmarks/bench_drift_stream.py [rows] [folder]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NUMERICAL, STRINGS = 8, 2
SHIFTED = ("x1", "s1")
CITIES = np.array(["Lyon", "Gent", "Porto", "Graz", "Turku", "Cork"])


def batch(rng: np.random.Generator, rows: int, shifted: bool) -> pa.Table:
    columns = {}
    for i in range(NUMERICAL):
        moved = shifted and f"x{i}" in SHIFTED
        columns[f"x{i}"] = rng.normal(0.3 if moved else 0.0, 1.0 + i / 4, rows)
    for i in range(STRINGS):
        moved = shifted and f"s{i}" in SHIFTED
        shares = [0.3, 0.2, 0.2, 0.1, 0.1, 0.1] if not moved else [0.1, 0.1, 0.2, 0.2, 0.2, 0.2]
        columns[f"s{i}"] = CITIES[rng.choice(len(CITIES), rows, p=shares)]
    return pa.table(columns)


def write(path: Path, rows: int, shifted: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    step = 1_000_000
    with pq.ParquetWriter(path, batch(rng, 1, shifted).schema) as writer:
        for start in range(0, rows, step):
            writer.write_table(batch(rng, min(step, rows - start), shifted), row_group_size=131_072)


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def child(mode: str, reference: str, window: str) -> None:
    """One measured run, in its own process; prints a JSON line."""
    start = time.perf_counter()
    if mode == "ours":
        from apps.monitoring.summaries import (
            drift_against_summary,
            parquet_chunks,
            reference_summary,
        )

        summary = reference_summary(reference=pq.read_table(reference))
        start = time.perf_counter()
        result = drift_against_summary(summary=summary, chunks=parquet_chunks(window))
        extra = {"drifted": list(result.drifted_features), "rows": result.current_rows}
    elif mode == "read":
        parquet = pq.ParquetFile(window, pre_buffer=False)  # as parquet_chunks reads
        rows = sum(b.num_rows for b in parquet.iter_batches(batch_size=65_536))
        extra = {"rows": rows}
    else:
        extra = {"rows": pq.read_table(window).num_rows}
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), **extra}))


def measure(mode: str, reference: Path, window: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(reference), str(window)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="drift-"))
    folder.mkdir(parents=True, exist_ok=True)
    from benchmarks.bench_drift import machine

    print(f"machine: {machine()}")
    reference, window = folder / "reference.parquet", folder / "window.parquet"
    started = time.perf_counter()
    write(reference, 100_000, shifted=False, seed=1)
    write(window, rows, shifted=True, seed=2)
    size = window.stat().st_size / 1e6
    print(
        f"wrote {rows:,} rows x {NUMERICAL + STRINGS} features ({size:,.0f} MB Parquet) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    ours = measure("ours", reference, window)
    read = measure("read", reference, window)
    whole = measure("whole", reference, window)
    print(
        f"ours: {ours['rows'] / ours['seconds']:,.0f} rows/s ({ours['seconds']:.1f} s), "
        f"peak memory {ours['peak_mb']:.0f} MB (target < 500 MB); drifted: {ours['drifted']} "
        f"(planted: {list(SHIFTED)})"
    )
    print(
        f"reading the batches only: {read['rows'] / read['seconds']:,.0f} rows/s "
        f"({read['seconds']:.1f} s), peak {read['peak_mb']:.0f} MB; ours / reading "
        f"{ours['seconds'] / read['seconds']:.1f}x the time"
    )
    print(f"read_table of the whole window: peak {whole['peak_mb']:.0f} MB")
    if len(sys.argv) <= 2:
        for path in (reference, window):
            os.unlink(path)
        os.rmdir(folder)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
    else:
        main()
