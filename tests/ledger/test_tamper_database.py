"""``manage.py ledger_verify`` catches whoever edits the stored ledger directly, as a
database superuser who switched the append-only triggers off."""

from __future__ import annotations

import base64
import json

import pytest
import rfc8785
from django.core.management import CommandError, call_command
from django.db import connection

from apps.ledger.core.hashing import leaf_hash
from apps.ledger.models import Checkpoint, Entry, Log
from tests.support import ledger_triggers_disabled


@pytest.fixture
def log(org, append):
    append(12)
    return Log.objects.get(organization=org)


def sql(statement: str, params: list | None = None) -> None:
    with ledger_triggers_disabled(), connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def body_of(log: Log, seq: int) -> bytes:
    return bytes(Entry.objects.get(log=log, seq=seq).body)


def verify() -> str:
    with pytest.raises(CommandError) as caught:
        call_command("ledger_verify", "--org", "acme")
    return str(caught.value)


def test_untouched_log_verifies(log, capsys):
    call_command("ledger_verify", "--org", "acme")
    assert capsys.readouterr().out.startswith("OK localhost/acme: 13 entries canonical")


def test_one_bit_flipped_in_an_entry(log):
    body = bytearray(body_of(log, 5))
    body[body.index(b'"sha256":"') + 12] ^= 0x01
    sql("UPDATE ledger_entry SET body = %s WHERE log_id = %s AND seq = 5", [bytes(body), log.pk])
    assert "at seq 5" in verify()


def test_edited_field_recanonicalized_with_its_leaf_hash(log):
    entry = json.loads(body_of(log, 6))
    entry["data"]["size_bytes"] = 999
    forged = rfc8785.dumps(entry)
    sql(
        "UPDATE ledger_entry SET body = %s, leaf_hash = %s WHERE log_id = %s AND seq = 6",
        [forged, leaf_hash(forged), log.pk],
    )
    message = verify()
    # The first signed statement the forged entry contradicts is the checkpoint over it.
    assert "checkpoint of size 7 does not match the tree of entries 0..6" in message


def test_entry_deleted_from_the_middle(log):
    sql("DELETE FROM ledger_entry WHERE log_id = %s AND seq = 4", [log.pk])
    message = verify()
    assert "at seq 4" in message and "expected seq 4 next, found seq 5" in message


def test_entry_inserted(log):
    sql("UPDATE ledger_entry SET seq = seq + 1000 WHERE log_id = %s AND seq >= 8", [log.pk])
    sql("UPDATE ledger_entry SET seq = seq - 999 WHERE log_id = %s AND seq >= 1008", [log.pk])
    forged = body_of(log, 7)
    sql(
        "INSERT INTO ledger_entry (log_id, seq, leaf_hash, body, time, type, subject_kind,"
        " subject_id, actor_kind, actor_id) SELECT log_id, 8, leaf_hash, body, time, type,"
        " subject_kind, subject_id, actor_kind, actor_id FROM ledger_entry"
        " WHERE log_id = %s AND seq = 7",
        [log.pk],
    )
    assert forged
    assert "at seq 8" in verify()


def test_two_entries_swapped(log):
    sql("UPDATE ledger_entry SET seq = -1 WHERE log_id = %s AND seq = 3", [log.pk])
    sql("UPDATE ledger_entry SET seq = 3 WHERE log_id = %s AND seq = 4", [log.pk])
    sql("UPDATE ledger_entry SET seq = 4 WHERE log_id = %s AND seq = -1", [log.pk])
    assert "at seq 3" in verify()


def test_tail_cut_off(log):
    sql("DELETE FROM ledger_entry WHERE log_id = %s AND seq >= 10", [log.pk])
    message = verify()
    assert "checkpoint of size 11 exists but the log has only 10 entries" in message


def test_checkpoint_root_edited(log):
    note = Checkpoint.objects.get(log=log, size=9).note
    lines = note.split("\n")
    lines[2] = base64.b64encode(bytes(32)).decode()
    sql(
        "UPDATE ledger_checkpoint SET note = %s WHERE log_id = %s AND size = 9",
        ["\n".join(lines), log.pk],
    )
    assert "checkpoint of size 9 does not verify" in verify()


def test_checkpoint_size_edited(log):
    note = Checkpoint.objects.get(log=log, size=9).note.replace("\n9\n", "\n10\n", 1)
    sql("UPDATE ledger_checkpoint SET note = %s WHERE log_id = %s AND size = 9", [note, log.pk])
    assert "checkpoint of size 9 does not verify" in verify()


def test_em_dash_replaced_by_hyphen(log):
    note = Checkpoint.objects.get(log=log, size=9).note.replace("\u2014", "-")
    sql("UPDATE ledger_checkpoint SET note = %s WHERE log_id = %s AND size = 9", [note, log.pk])
    assert "checkpoint of size 9 does not verify" in verify()


def test_signature_bit_flipped(log):
    note = Checkpoint.objects.get(log=log, size=9).note
    text, _, signature_line = note.rpartition("\n\u2014 ")
    name, _, encoded = signature_line.rstrip("\n").rpartition(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[10] ^= 0x01
    forged = f"{text}\n\u2014 {name} {base64.b64encode(bytes(raw)).decode()}\n"
    sql("UPDATE ledger_checkpoint SET note = %s WHERE log_id = %s AND size = 9", [forged, log.pk])
    assert "checkpoint of size 9 does not verify" in verify()


def test_checkpoint_signed_by_an_unknown_key(log):
    from apps.ledger.core.checkpoint import Checkpoint as CheckpointText
    from apps.ledger.core.checkpoint import sign_checkpoint
    from apps.ledger.core.note import NoteSigner

    stored = Checkpoint.objects.get(log=log, size=9)
    forged = sign_checkpoint(
        CheckpointText(origin=log.origin, size=9, root=bytes(stored.root)),
        [NoteSigner.generate(log.origin)],
    )
    sql("UPDATE ledger_checkpoint SET note = %s WHERE log_id = %s AND size = 9", [forged, log.pk])
    assert "checkpoint of size 9 does not verify" in verify()


def test_tree_node_replaced(log):
    sql(
        'UPDATE ledger_treenode SET hash = %s WHERE log_id = %s AND level = 2 AND "index" = 1',
        [bytes(32), log.pk],
    )
    assert "stored tree node (2, 1) is missing or wrong" in verify()
