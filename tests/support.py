"""Helpers shared by tests: service requirements and ledger tampering."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest
from django.db import connection

IN_CI = os.environ.get("CI", "").lower() == "true"
LEDGER_TABLES = ("ledger_entry", "ledger_treenode", "ledger_checkpoint")


def require_service(name: str, available: bool, reason: str) -> None:
    if available:
        return
    message = f"{name} is needed for this test: {reason}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextlib.contextmanager
def ledger_triggers_disabled() -> Iterator[None]:
    """What a database superuser can always do: switch the append-only triggers off.
    Tests use it to tamper with the ledger, and to let a transactional test's flush
    through."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Django's foreign keys are deferred; ALTER TABLE waits for none pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in LEDGER_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_truncate")
        else:
            for table in LEDGER_TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for table in LEDGER_TABLES:
                    cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only")
                    cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate")
            else:
                for table in LEDGER_TABLES:
                    for operation in ("UPDATE", "DELETE"):
                        cursor.execute(
                            f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} "
                            f"ON {table} BEGIN SELECT RAISE(ABORT, 'ledger: {operation} on {table} "
                            "refused; the ledger is append-only'); END"
                        )


def worker_database_url() -> str:
    """The URL of the database this test run uses, for worker processes we start."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}"
