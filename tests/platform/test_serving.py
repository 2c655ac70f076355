"""How the service is served: API docs from our own files under a Content-Security-
Policy, the schema closed in production unless opened on purpose, and PostgreSQL
through a bounded connection pool that keeps the ledger's prepared statements."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from apps.ledger.services import entry_append
from apps.ledger.types import Actor, Subject

ROOT = Path(__file__).resolve().parents[2]
DOCS_PAGES = ("/api/docs/", "/api/redoc/")
ATTRIBUTE_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", re.I)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k" * 20 + "9f2c1e7d3b5a8f0e6d4c2b1a9e8d7c6b5a4f3e2d1c",
    "ALLOWED_HOSTS": "testserver",
    "LEDGER_HOST": "audit.example.eu",
    "LEDGER_KEY_ENCRYPTION_KEY": "q0Bq8pD2x8H1b5c6y7Zl3sVv1w2E4r5T6y7U8i9O0pA=",
}


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy"
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def manage_shell(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DB_", "API_"))}
    keep.pop("DEBUG", None)
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env={**keep, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_docs_pages_load_everything_from_our_own_static_files(client, db):
    for page in DOCS_PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert "http://" not in html and "https://" not in html, page
        urls = ATTRIBUTE_URL.findall(html)
        assert urls, page
        for url in urls:
            assert url.startswith("/") and not url.startswith("//"), (page, url)
            if url.startswith("/static/"):
                assert client.get(url).status_code == 200, url
    # Swagger UI's start-up script is its own request, and points at our schema.
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    body = script.content.decode()
    assert '"/api/schema/"' in body
    assert "https://" not in body and '"validatorUrl": null' in body


def test_every_page_carries_a_policy_that_allows_no_inline_script(client, db):
    pages = ("/", "/admin/login/", *DOCS_PAGES, "/api/schema/", "/healthz", "/api/v1/systems/")
    for page in (*pages, "/static/css/base.css", "/no-such-page"):
        response = client.get(page)
        directives = policy(response)
        assert directives["script-src"] == ["'self'"], page
        assert directives["default-src"] == ["'self'"], page
        assert directives["object-src"] == ["'none'"], page
        assert directives["frame-ancestors"] == ["'none'"], page
        if page in pages and "html" in response.get("Content-Type", ""):
            html = response.content.decode()
            assert not INLINE_SCRIPT.search(html), page
            assert "<style" not in html, page


def test_only_redoc_may_style_inline_and_start_a_worker(client, db):
    assert policy(client.get("/api/docs/"))["style-src"] == ["'self'"]
    redoc = policy(client.get("/api/redoc/"))
    assert redoc["style-src"] == ["'self'", "'unsafe-inline'"]
    assert redoc["worker-src"] == ["'self'", "blob:"]
    assert redoc["script-src"] == ["'self'"]


@pytest.mark.parametrize(("public", "status"), [(None, 401), ("true", 200)])
def test_schema_and_docs_are_closed_in_production_unless_opened(public, status):
    env = dict(PRODUCTION)
    if public is not None:
        env["API_SCHEMA_PUBLIC"] = public
    result = manage_shell(
        "from django.test import Client; c = Client(); "
        "print(*(c.get(p, secure=True).status_code for p in "
        "('/api/schema/', '/api/docs/', '/api/docs/?script=', '/api/redoc/')))",
        env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(status)] * 4


def test_schema_stays_open_in_development():
    result = manage_shell(
        "from django.test import Client; print(Client().get('/api/schema/').status_code)",
        {"DATABASE_URL": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "{'min_size': 1, 'max_size': 8, 'timeout': 30} 0 5"),
        ({"DB_POOL_MAX_SIZE": "20", "DB_POOL_MIN_SIZE": "4"}, "{'min_size': 4, 'max_size': 20, "),
        ({"DB_POOL": "false"}, "None 60 5"),
        ({"DB_POOL": "false", "DB_CONN_MAX_AGE": "0"}, "None 0 5"),
    ],
)
def test_postgresql_goes_through_a_bounded_pool_by_default(env, expected):
    result = manage_shell(
        "from django.conf import settings as s; d = s.DATABASES['default']; "
        "print(d['OPTIONS'].get('pool'), d['CONN_MAX_AGE'], d['OPTIONS']['prepare_threshold'])",
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x", **env},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(expected)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DB_POOL_MAX_SIZE": "0"}, "DB_POOL_MAX_SIZE must be at least 1"),
        ({"DB_POOL_MIN_SIZE": "9"}, "DB_POOL_MIN_SIZE (9) must not exceed DB_POOL_MAX_SIZE (8)"),
        ({"DB_POOL": "perhaps"}, "DB_POOL must be true or false"),
        ({"API_SCHEMA_PUBLIC": "perhaps"}, "API_SCHEMA_PUBLIC must be true or false"),
    ],
)
def test_bad_serving_settings_fail_loudly(env, message):
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DB_", "API_"))}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**keep, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_pooled_connections_keep_the_ledger_statement_prepared(postgres, transactional_db, org):
    # Each request hands its connection back to the pool and the next one borrows one
    # with its server session: the append statement stays prepared, with its generic
    # plan, from one borrowing to the next.
    assert connection.pool is not None
    # Start from a fresh pool: live servers of earlier tests in this process may have
    # grown it, and borrowings would then spread over several server sessions.
    connection.close_pool()
    options = connection.settings_dict["OPTIONS"]
    threshold, max_size = options["prepare_threshold"], options["pool"]["max_size"]
    appends_on: dict[int, int] = {}
    for i in range(30):
        entry_append(
            organization=org,
            actor=Actor(kind="api_key", id="ak_pool", name="pipeline"),
            type="dataset_version.registered",
            subject=Subject(kind="dataset_version", id=str(i)),
            data={"sha256": f"{i:064x}", "size_bytes": i},
        )
        pid = _backend_pid()
        appends_on[pid] = appends_on.get(pid, 0) + 1
        connection.close()  # what Django does at the end of every request
    assert len(appends_on) <= max_size
    pid = _backend_pid()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE %s",
            ["%INSERT INTO ledger_entry%"],
        )
        plans = cursor.fetchall()
    assert appends_on[pid] >= threshold + 2
    assert len(plans) == 1
    generic, custom = plans[0]
    assert custom == 0
    # Every append on this session after the first few ran the one prepared plan.
    assert generic >= appends_on[pid] - threshold


def test_production_serves_the_collected_docs_assets_itself(tmp_path):
    # No separate web server: gunicorn's processes answer /static/ from collectstatic's
    # STATIC_ROOT (WhiteNoise), so the docs pages work offline in production too.
    env = {**PRODUCTION, "STATIC_ROOT": str(tmp_path / "static"), "API_SCHEMA_PUBLIC": "true"}
    result = manage_shell(
        "from django.core.management import call_command; "
        "call_command('collectstatic', interactive=False, verbosity=0); "
        "from django.test import Client; c = Client(); "
        "html = c.get('/api/docs/', secure=True).content.decode(); "
        'import re; urls = re.findall(r\'(?:src|href)="(/static/[^"]+)"\', html); '
        "print(len(urls), *(c.get(u, secure=True).status_code for u in urls))",
        env,
    )
    assert result.returncode == 0, result.stderr
    count, *statuses = result.stdout.split()
    assert int(count) >= 4
    assert statuses == ["200"] * int(count)
