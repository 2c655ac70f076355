"""Checkpoints and proofs served by the API verify with Go's sumdb/note and
sumdb/tlog (Debian's golang-golang-x-mod-dev), which we did not write."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from tests.support import require_service

GO_MOD_SOURCE = Path("/usr/share/gocode/src/golang.org/x/mod")
CHECKER = Path(__file__).parent / "gocheck" / "main.go"


@pytest.fixture(scope="module")
def go_checker(tmp_path_factory) -> Path:
    require_service(
        "Go with golang.org/x/mod",
        shutil.which("go") is not None and GO_MOD_SOURCE.is_dir(),
        "apt-get install golang-go golang-golang-x-mod-dev",
    )
    gopath = tmp_path_factory.mktemp("gopath")
    (gopath / "src" / "golang.org" / "x").mkdir(parents=True)
    (gopath / "src" / "golang.org" / "x" / "mod").symlink_to(GO_MOD_SOURCE)
    binary = gopath / "gocheck"
    env = {
        **os.environ,
        "GOPATH": str(gopath),
        "GO111MODULE": "off",
        "GOCACHE": str(gopath / "cache"),
        "GOFLAGS": "",
    }
    subprocess.run(
        ["go", "build", "-o", str(binary), str(CHECKER)], env=env, check=True, timeout=300
    )
    return binary


def test_api_checkpoint_and_proofs_verify_with_go(go_checker, org, append, client_for):
    from django.core.management import call_command

    append(20)
    call_command("ledger_rotate_key", "--org", "acme")  # a double-signed checkpoint on the way
    append(10)
    auditor = client_for(org, "auditor")
    note = auditor.get(reverse("ledger-checkpoint")).content.decode()
    size = int(note.split("\n")[1])
    vkeys = auditor.get(reverse("ledger-keys")).content.decode().split()
    entries = {
        e["seq"]: e["entry_b64"]
        for e in auditor.get(reverse("ledger-entries"), {"page_size": 500}).json()["results"]
    }
    inclusion = [
        {
            "index": index,
            "entry_b64": entries[index],
            "proof": auditor.get(
                reverse("ledger-inclusion-proof"), {"index": index, "size": size}
            ).json()["proof"],
        }
        for index in range(size)
    ]
    consistency = []
    for old in range(1, size + 1):
        old_note = auditor.get(reverse("ledger-checkpoint-at", kwargs={"size": old}))
        if old_note.status_code != 200:
            continue
        consistency.append(
            {
                "old": old,
                "old_root": old_note.content.decode().split("\n")[2],
                "proof": auditor.get(
                    reverse("ledger-consistency-proof"), {"old": old, "new": size}
                ).json()["proof"],
            }
        )
    payload = json.dumps(
        {"vkeys": vkeys, "note": note, "inclusion": inclusion, "consistency": consistency}
    )
    result = subprocess.run([go_checker], input=payload, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok {size} inclusion proofs" in result.stdout
    assert f"ok {len(consistency)} consistency proofs" in result.stdout
    assert len(consistency) > 20

    # And Go refuses what it should: a root that is not the log's.
    tampered = note.replace(note.split("\n")[2], "A" * 43 + "=")
    bad = json.dumps({"vkeys": vkeys, "note": tampered, "inclusion": [], "consistency": []})
    refused = subprocess.run([go_checker], input=bad, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "note.Open" in refused.stdout
