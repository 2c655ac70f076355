"""The client is a package of its own: it imports no Django, and its CLI, run as a
process, answers a failure with one line and its exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLIENT_SRC = Path(__file__).resolve().parents[2] / "client" / "src"

NO_DJANGO = """
import importlib.abc, sys

class Forbidden(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"django", "rest_framework", "celery", "audit_platform"}:
            raise ImportError(f"the client imported {name}")
        return None

sys.meta_path.insert(0, Forbidden())
import audit_client, audit_client.cli, audit_client.offline
count, root = audit_client.rows_root([({"age": 30}, 0.5)])
print(count, root)
"""


def _run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("AUDIT_PLATFORM_", "DJANGO_"))
    }
    environment["PYTHONPATH"] = str(CLIENT_SRC)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=environment, check=False
    )


def test_the_client_and_its_offline_checks_import_no_django():
    done = _run("-c", NO_DJANGO)
    assert done.returncode == 0, done.stderr
    count, root = done.stdout.split()
    assert count == "1" and len(root) == 64


def test_the_cli_process_fails_with_one_line_and_its_code():
    done = _run("-m", "audit_client", "gate", "scorer:1", "--deployment", "1")
    assert done.returncode == 3
    assert done.stderr == "audit-client: No server URL: set AUDIT_PLATFORM_URL or --url.\n"
    done = _run(
        "-m",
        "audit_client",
        "--retries",
        "0",
        "run",
        "start",
        "--system",
        "1",
        env={"AUDIT_PLATFORM_URL": "http://127.0.0.1:9", "AUDIT_PLATFORM_API_KEY": "k"},
    )
    assert done.returncode == 6
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
