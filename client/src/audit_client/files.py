"""Local file work: SHA-256 as the file streams by, progress bars, and what a dataset
version needs to say about a CSV file (rows and column types)."""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

_BLOCK = 1 << 20


class Progress(Protocol):
    def update(self, n: int) -> object: ...


class _Silent:
    def update(self, n: int) -> None:
        return None


@contextmanager
def progress(total: int | None, description: str, *, enabled: bool) -> Iterator[Progress]:
    """A tqdm bar on stderr when tqdm is installed, enabled and stderr is a terminal
    (CI logs get no bar noise); a no-op otherwise."""
    if enabled and sys.stderr.isatty():
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            with tqdm(total=total, desc=description, unit="B", unit_scale=True) as bar:
                yield bar
            return
    yield _Silent()


def sha256_file(path: Path, *, show_progress: bool = False) -> tuple[str, int]:
    """Hex SHA-256 and size of the file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    size = 0
    with (
        path.open("rb") as f,
        progress(path.stat().st_size, f"sha256 {path.name}", enabled=show_progress) as bar,
    ):
        while block := f.read(_BLOCK):
            digest.update(block)
            size += len(block)
            bar.update(len(block))
    return digest.hexdigest(), size


class ProgressReader:
    """A read-only binary file that reports each read to a progress bar. httpx streams
    the upload from it block by block, and learns its length by seeking (so the request
    carries a Content-Length, not a chunked body)."""

    def __init__(self, f: IO[bytes], bar: Progress) -> None:
        self._f = f
        self._bar = bar

    def read(self, size: int = -1) -> bytes:
        data = self._f.read(size)
        self._bar.update(len(data))
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()


def _column_type(values: list[str]) -> str:
    present = [v for v in values if v != ""]
    if not present:
        return "string"
    for kind, check in (("integer", int), ("number", float)):
        try:
            for v in present:
                check(v)
        except ValueError:
            continue
        return kind
    if all(v.lower() in ("true", "false") for v in present):
        return "boolean"
    return "string"


def csv_profile(path: Path, *, sample_rows: int = 1000) -> tuple[int, list[dict[str, str]]]:
    """Row count (without the header) and column schema of a CSV file, types guessed
    from the first ``sample_rows`` rows; pass ``schema`` yourself to be exact."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header:
            raise ValueError(f"{path} has no header row")
        samples: list[list[str]] = []
        rows = 0
        for row in reader:
            if rows < sample_rows:
                samples.append(row)
            rows += 1
    schema = [
        {"name": name, "type": _column_type([r[i] for r in samples if i < len(r)])}
        for i, name in enumerate(header)
    ]
    return rows, schema
