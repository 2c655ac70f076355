"""The database itself refuses to change or remove ledger rows."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

TABLES = ["ledger_entry", "ledger_treenode", "ledger_checkpoint"]


def _refused(sql: str) -> str:
    with (
        pytest.raises(DatabaseError) as caught,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    return str(caught.value)


@pytest.fixture
def ledger_rows(org, append):
    append(3)


@pytest.mark.embedded
@pytest.mark.parametrize("table", TABLES)
def test_update_is_refused(ledger_rows, table):
    column = {"ledger_entry": "type", "ledger_treenode": "level", "ledger_checkpoint": "note"}[
        table
    ]
    value = {"ledger_entry": "'forged'", "ledger_treenode": "7", "ledger_checkpoint": "'forged'"}[
        table
    ]
    message = _refused(f"UPDATE {table} SET {column} = {value}")
    assert "append-only" in message


@pytest.mark.embedded
@pytest.mark.parametrize("table", TABLES)
def test_delete_is_refused(ledger_rows, table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        before = cursor.fetchone()[0]
    assert "append-only" in _refused(f"DELETE FROM {table}")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone()[0] == before


@pytest.mark.parametrize("table", TABLES)
def test_truncate_is_refused_on_postgres(postgres, ledger_rows, table):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for deferred FK checks
    assert "append-only" in _refused(f"TRUNCATE {table} CASCADE")


@pytest.mark.parametrize("table", TABLES)
def test_replica_role_does_not_silence_the_triggers(postgres, ledger_rows, table):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(f"DELETE FROM {table}")
