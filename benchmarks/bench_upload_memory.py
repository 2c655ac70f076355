"""Peak memory of a 200 MB artifact upload through the real HTTP server.

Starts the service (runserver, SQLite in a temporary folder), streams a 200 MB file
to POST /api/v1/artifacts/ in 1 MiB chunks, and reads the server process's peak
resident memory (VmHWM). Baseline, same run: a process that reads the same file
whole into memory, as a naive ``request.body`` handler would. Prints both and the
ratio. Usage: .venv/bin/python benchmarks/bench_upload_memory.py [size_mb]
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CHUNK = 1 << 20


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    env = {
        **os.environ,
        "VAR_DIR": str(work),
        "DATABASE_URL": f"sqlite:///{work}/db.sqlite3",
        "ARTIFACT_MAX_BYTES": str(4 * 1024**3),
    }
    env.pop("CELERY_BROKER_URL", None)

    def manage(*args: str) -> str:
        return subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    manage("migrate", "--noinput")
    manage("create_org", "bench", "--name", "Bench")
    key = manage("create_api_key", "--org", "bench", "--role", "pipeline")
    payload = work / "payload.bin"
    digest = write_payload(payload, size_mb)

    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port)
        idle = peak_rss_mb(server.pid)
        elapsed = upload(port=port, key=key, payload=payload, digest=digest)
        ours = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait()

    naive = naive_peak_rss_mb(payload)
    print(f"upload of {size_mb} MB: {elapsed:.1f} s, {size_mb / elapsed:.0f} MB/s")
    print(
        f"server peak RSS: {ours:.0f} MB "
        f"(idle {idle:.0f} MB, so +{ours - idle:.0f} MB for the upload)"
    )
    print(f"baseline (read the file whole): peak RSS {naive:.0f} MB")
    print(f"ratio ours/baseline: {ours / naive:.2f}")


def write_payload(payload: Path, size_mb: int) -> str:
    """Writes ``size_mb`` MiB that do not compress; their SHA-256 (hex)."""
    digest = hashlib.sha256()
    with payload.open("wb") as f:
        block = os.urandom(CHUNK)
        for i in range(size_mb):
            chunk = block[:-8] + i.to_bytes(8, "big")
            digest.update(chunk)
            f.write(chunk)
    return digest.hexdigest()


def wait_listening(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.2)


def upload(*, port: int, key: str, payload: Path, digest: str) -> float:
    """Streams the payload to POST /api/v1/artifacts/ in chunks, as a multipart form
    with its digest; the seconds it took, once the server answered 201."""
    boundary = uuid.uuid4().hex
    disposition = "Content-Disposition: form-data; name="
    head = (
        f'--{boundary}\r\n{disposition}"sha256"\r\n\r\n{digest}\r\n'
        f'--{boundary}\r\n{disposition}"file"; filename="payload.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.putrequest("POST", "/api/v1/artifacts/")
    connection.putheader("Authorization", f"Bearer {key}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + payload.stat().st_size + len(tail)))
    connection.endheaders()
    started = time.perf_counter()
    connection.send(head)
    with payload.open("rb") as f:
        while chunk := f.read(CHUNK):
            connection.send(chunk)
    connection.send(tail)
    response = connection.getresponse()
    body = json.loads(response.read())
    elapsed = time.perf_counter() - started
    assert response.status == 201, body
    assert body["sha256"] == digest
    return elapsed


def naive_peak_rss_mb(payload: Path) -> float:
    """The baseline: peak RSS of a process that reads the file whole."""
    baseline = subprocess.run(
        [
            PYTHON,
            "-c",
            f"import resource; d = open({str(payload)!r}, 'rb').read(); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(baseline.stdout)


if __name__ == "__main__":
    main()
