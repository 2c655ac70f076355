from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command

from apps.ledger.core.checkpoint import open_checkpoint
from apps.ledger.core.note import NoteVerifier
from apps.ledger.models import Checkpoint, Entry, SigningKey
from apps.ledger.stored_log_check import log_verify


def test_rotation_records_both_keys_and_double_signs_the_covering_checkpoint(org, append):
    append(2)
    old_vkey = SigningKey.objects.get(log__organization=org).vkey
    out = StringIO()
    call_command("ledger_rotate_key", "--org", "acme", stdout=out)
    new_vkey = SigningKey.objects.get(log__organization=org, retired_at__isnull=True).vkey
    assert new_vkey in out.getvalue() and new_vkey != old_vkey

    rotated = Entry.objects.get(log__organization=org, type="ledger_key.rotated")
    assert json.loads(bytes(rotated.body))["data"] == {"vkey": new_vkey, "old_vkey": old_vkey}
    covering = Checkpoint.objects.get(log__organization=org, size=rotated.seq + 1)
    # A verifier that knows only the old key, or only the new one, accepts it.
    for vkey in (old_vkey, new_vkey):
        checkpoint, signed_by = open_checkpoint(covering.note, [NoteVerifier.from_vkey(vkey)])
        assert checkpoint.size == rotated.seq + 1 and [v.vkey for v in signed_by] == [vkey]
    assert covering.note.count("\u2014 localhost/acme ") == 2

    append(1)  # later checkpoints carry the new key only
    latest = Checkpoint.objects.filter(log__organization=org).latest("size")
    open_checkpoint(latest.note, [NoteVerifier.from_vkey(new_vkey)])
    assert latest.note.count("\u2014 ") == 1
    assert log_verify(log=org.ledger_log).ok
