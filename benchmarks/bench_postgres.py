"""Shared set-up of the benchmarks that run on PostgreSQL (not a benchmark itself):
a database of their own on the local server, made afresh and dropped at the end, and
Django configured on it as a production worker runs."""

from __future__ import annotations

import os

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


def database_recreate(name: str) -> str:
    """Drops database ``name`` on the local server if it is there, creates it empty
    and returns its URL."""
    import psycopg

    with psycopg.connect(f"{DEFAULT_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{DEFAULT_SERVER}/{name}"


def database_drop(name: str) -> None:
    """Closes Django's connections and drops database ``name``."""
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{DEFAULT_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def setup_django(url: str, *, media: str | None = None, migrate: bool = True) -> None:
    """Django on ``url`` (migrated unless ``migrate`` is false), production-like: no
    query log kept in memory."""
    os.environ["DATABASE_URL"] = url
    if media is not None:
        os.environ["MEDIA_ROOT"] = media
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audit_platform.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
