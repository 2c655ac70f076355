"""bin/serve, the README's first command, as a user runs it: on the embedded default it
migrates, creates the demo organization and the admin login (password printed once),
tells the demo bank's story once (its logins printed at every start), and serves
through gunicorn on 127.0.0.1 only, docs and all."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _checkout(tmp_path: Path) -> Path:
    """This checkout as bin/serve sees it, with bin/bootstrap a no-op: the test's
    virtualenv is installed already (bootstrap is CI's first step)."""
    checkout = tmp_path / "checkout"
    (checkout / "bin").mkdir(parents=True)
    shutil.copy2(ROOT / "bin" / "serve", checkout / "bin" / "serve")
    bootstrap = checkout / "bin" / "bootstrap"
    bootstrap.write_text("#!/usr/bin/env bash\n")
    bootstrap.chmod(0o755)
    for name in ("manage.py", "audit_platform", "apps", "templates", "static", ".venv"):
        (checkout / name).symlink_to(ROOT / name)
    return checkout


def _get(port: int, path: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _serve(checkout: Path, env: dict[str, str], port: int, log: Path) -> str:
    """Runs bin/serve until /healthz answers, checks what it serves, stops it and
    returns what it printed."""
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(checkout / "bin" / "serve")], cwd=checkout, env=env, stdout=out, stderr=out
        )
        try:
            deadline = time.monotonic() + 420
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    health = _get(port, "/healthz")
                    break
                except OSError:
                    time.sleep(0.3)
            else:
                raise AssertionError(f"bin/serve did not come up:\n{log.read_text()}")
            assert health.status == 200
            assert health.getheader("Server", "").startswith("gunicorn")
            docs = _get(port, "/api/docs/")
            assert docs.status == 200
            assert "script-src 'self'" in docs.getheader("Content-Security-Policy")
            assert _get(port, "/static/css/base.css").status == 200
            assert _get(port, "/admin/login/").status == 200
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    return log.read_text()


def test_bin_serve_serves_the_demo_through_gunicorn_on_loopback(tmp_path):
    checkout, port = _checkout(tmp_path), _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DB_", "WEB_", "API_", "CELERY_"))
        and k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
    }
    env.update(PORT=str(port), VAR_DIR=str(tmp_path / "var"))
    first = _serve(checkout, env, port, tmp_path / "first.log")
    assert f"Log in at http://127.0.0.1:{port}/admin/ as 'admin'" in first
    assert first.count("password:") == 1
    assert "The demo story was told in" in first
    assert "officer@nordbank.example" in first and "Ledger verified: OK" in first
    assert f"Listening at: http://127.0.0.1:{port}" in first
    assert (tmp_path / "var" / "db.sqlite3").is_file()
    # A second start keeps the database and the login: no new password.
    second = _serve(checkout, env, port, tmp_path / "second.log")
    assert "password:" not in second
    assert "exists already" in second and "The demo story was told" not in second
    assert "officer@nordbank.example" in second and "Ledger verified: OK" in second
    assert f"Log in at http://127.0.0.1:{port}/admin/ as 'admin'" in second
