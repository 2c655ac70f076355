"""Appends from many processes to one log serialize on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.ledger.core.checkpoint import open_checkpoint
from apps.ledger.core.merkle import verify_consistency
from apps.ledger.core.note import NoteVerifier
from apps.ledger.models import Checkpoint, Entry, Log
from apps.ledger.selectors import consistency_proof, verifier_keys
from apps.ledger.stored_log_check import log_verify
from tests.support import worker_database_url

ROOT = Path(__file__).resolve().parents[2]
PROCESSES, APPENDS = 8, 300

WORKER = """
import django, os, sys
django.setup()
from apps.ledger.services import entry_append
from apps.ledger.types import Actor, Subject
from apps.tenancy.models import Organization
org = Organization.objects.get(slug=sys.argv[1])
worker = sys.argv[2]
for i in range(int(sys.argv[3])):
    entry_append(
        organization=org, actor=Actor(kind="system", id=worker, name="load"), type="load.appended",
        subject=Subject(kind="load", id=f"{worker}-{i}"), data={"i": i},
    )
"""


@pytest.mark.django_db(transaction=True)
def test_eight_processes_append_without_gap_or_duplicate(request):
    require = request.getfixturevalue("postgres")
    assert require.vendor == "postgresql"
    from apps.tenancy.services import organization_create

    org = organization_create(slug="busy", name="Busy")
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "DJANGO_SETTINGS_MODULE": "audit_platform.settings",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, "busy", f"w{n}", str(APPENDS)], cwd=ROOT, env=env
        )
        for n in range(PROCESSES)
    ]
    assert [w.wait(timeout=600) for w in workers] == [0] * PROCESSES

    log = Log.objects.get(organization=org)
    total = PROCESSES * APPENDS + 1
    assert log.size == total
    assert list(
        Entry.objects.filter(log=log).order_by("seq").values_list("seq", flat=True)
    ) == list(range(total))
    assert (
        Entry.objects.filter(log=log, type="load.appended").values("subject_id").distinct().count()
        == total - 1
    )
    result = log_verify(log=log)
    assert result.ok, result.summary()
    # Every stored checkpoint is consistent with the last one.
    verifiers = [NoteVerifier.from_vkey(v) for v in verifier_keys(log=log)]
    last = open_checkpoint(Checkpoint.objects.get(log=log, size=total).note, verifiers)[0]
    for stored in Checkpoint.objects.filter(log=log, size__gt=0).order_by("size").iterator():
        old = open_checkpoint(stored.note, verifiers)[0]
        verify_consistency(
            old_size=old.size,
            new_size=last.size,
            old_root=old.root,
            new_root=last.root,
            proof=consistency_proof(log=log, old_size=old.size, new_size=last.size),
        )
