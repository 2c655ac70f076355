"""Settings come from the environment and fail loudly on values we cannot use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k" * 20 + "9f2c1e7d3b5a8f0e6d4c2b1a9e8d7c6b5a4f3e2d1c",
    "ALLOWED_HOSTS": "audit.example.eu",
    "LEDGER_HOST": "audit.example.eu",
    "LEDGER_KEY_ENCRYPTION_KEY": "q0Bq8pD2x8H1b5c6y7Zl3sVv1w2E4r5T6y7U8i9O0pA=",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/audit_platform",
    "REPORT_TSA_URL": "https://tsa.example.eu/",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DEBUG"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "WARNING" not in result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_report_signatures_would_have_no_timestamp():
    without = {k: v for k, v in PRODUCTION.items() if k != "REPORT_TSA_URL"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=without)
    assert result.returncode != 0
    assert "reports.W001" in result.stderr + result.stdout
    assert "REPORT_TSA_URL is not set" in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be a fresh random value"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must be set"),
        ({"LEDGER_KEY_ENCRYPTION_KEY": "not-a-key"}, "LEDGER_KEY_ENCRYPTION_KEY must be 32 bytes"),
        ({"DEBUG": "true"}, "DEBUG must be off"),
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
        ({"DJANGO_ENV": "staging"}, "DJANGO_ENV must be one of"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL must be postgres"),
        ({"API_MAX_BODY_BYTES": "lots"}, "API_MAX_BODY_BYTES must be an integer"),
        ({"IDEMPOTENCY_RETENTION_HOURS": "0"}, "IDEMPOTENCY_RETENTION_HOURS must be at least 1"),
        ({"REPORT_TSA_URL": "tsa.example.eu"}, "REPORT_TSA_URL must be an http:// or https://"),
        ({"REPORT_TRUST_ROOTS": "/no.pem"}, "REPORT_TRUST_ROOTS='/no.pem' is not a readable"),
    ],
)
def test_bad_setting_fails_loudly(change, message):
    result = manage("check", env={**PRODUCTION, **change})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_no_environment_runs_on_the_embedded_default(tmp_path):
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; "
        "from audit_platform.celery import app; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.MEDIA_ROOT, "
        "app.connection_for_write().transport.driver_type)",
        env={"VAR_DIR": str(tmp_path), "DATABASE_URL": "", "CELERY_BROKER_URL": ""},
    )
    assert result.returncode == 0, result.stderr
    engine, eager, media, transport = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert eager == "True"
    # Eager tasks still borrow a producer: it must not reach for a broker server.
    assert transport == "memory"
    assert media == str(tmp_path / "media")


@pytest.mark.parametrize(
    ("flag", "threshold", "options"),
    [
        (None, "5", "-c work_mem=8MB -c plan_cache_mode=force_generic_plan"),
        ("false", "None", "-c work_mem=8MB"),
    ],
)
def test_postgresql_prepares_the_ledger_statements_unless_told_not_to(flag, threshold, options):
    env = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x?options=-c%20work_mem%3D8MB"}
    if flag is not None:
        env["DB_PREPARED_STATEMENTS"] = flag
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; o = s.DATABASES['default']['OPTIONS']; "
        "print(o.get('prepare_threshold')); print(o.get('options'))",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [threshold, options]
