"""The offline verifier on real bundles and on every kind of tampering we know of."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import rfc8785

from apps.ledger.core.bundle import verifier_sources, write_bundle
from apps.ledger.core.checkpoint import Checkpoint, sign_checkpoint
from apps.ledger.core.entry import build_entry
from apps.ledger.core.hashing import leaf_hash
from apps.ledger.core.merkle import inclusion_proof, tree_hash
from apps.ledger.core.note import NoteSigner
from apps.ledger.core.tlogproof import format_tlog_proof
from apps.ledger.offline_verifier import VerifyReport, verify_bundle

ORIGIN = "audit.example.eu/acme-bank"
N = 20
CHECKPOINT_SIZES = (0, 1, 7, 10, 12, 16, N)
REPO = Path(__file__).resolve().parents[2]
VERIFY_MD = (REPO / "docs" / "VERIFY.md").read_text(encoding="utf-8")
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

# In-process, and in worker processes with chunks small enough to put boundaries
# (where entries are checked by different processes) between most test edits.
MODES = [
    pytest.param({"workers": 1}, id="in-process"),
    pytest.param({"workers": 2, "chunk_lines": 4}, id="parallel"),
]


def entry(seq: int, prev: bytes, **data: object) -> bytes:
    return build_entry(
        log=ORIGIN,
        seq=seq,
        time=T0 + timedelta(minutes=seq),
        type="dataset_version.registered",
        actor={"kind": "api_key", "id": "ak_1", "name": "pipeline"},
        subject={"kind": "dataset_version", "id": f"dsv_{seq}"},
        data={"sha256": hashlib.sha256(b"%d" % seq).hexdigest(), "size_bytes": 100 + seq, **data},
        prev=prev,
    )


def chain(n: int, edit: Callable[[int], dict] = lambda seq: {}) -> list[bytes]:
    out, prev = [], bytes(32)
    for seq in range(n):
        body = entry(seq, prev, **edit(seq))
        out.append(body)
        prev = leaf_hash(body)
    return out


@dataclass
class Log:
    signer: NoteSigner
    entries: list[bytes]

    def root(self, size: int) -> bytes:
        return tree_hash([leaf_hash(e) for e in self.entries[:size]])

    def checkpoint(self, size: int, root: bytes | None = None) -> str:
        root = self.root(size) if root is None else root
        return sign_checkpoint(Checkpoint(ORIGIN, size, root), [self.signer])

    def write(self, path: Path, size: int = N, sizes: tuple[int, ...] = CHECKPOINT_SIZES) -> Path:
        leaves = [leaf_hash(e) for e in self.entries[:size]]
        checkpoints = {s: self.checkpoint(s) for s in sizes if s <= size} | {
            size: self.checkpoint(size)
        }
        proofs = {
            seq: format_tlog_proof(
                entry_bytes=self.entries[seq],
                index=seq,
                proof=inclusion_proof(seq, size, leaves),
                checkpoint_note=checkpoints[size],
            )
            for seq in (3, size - 1)
            if 0 <= seq < size
        }
        with path.open("wb") as f:
            write_bundle(
                f,
                origin=ORIGIN,
                tree_size=size,
                root=tree_hash(leaves),
                entries=iter(self.entries[:size]),
                checkpoints=checkpoints,
                vkeys=[self.signer.vkey],
                created=T0 + timedelta(days=1),
                proofs=proofs,
                verify_md=VERIFY_MD,
                verifier_sources=verifier_sources(),
            )
        return path


@pytest.fixture(scope="module")
def log() -> Log:
    return Log(signer=NoteSigner.generate(ORIGIN), entries=chain(N))


@pytest.fixture
def bundle(log: Log, tmp_path: Path) -> Path:
    return log.write(tmp_path / "bundle.zip")


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def rewrite(
    src: Path,
    dst: Path,
    changes: dict[str, bytes | None],
    *,
    fix_manifest: bool = True,
    manifest_changes: dict | None = None,
) -> Path:
    """Copy a bundle with files replaced (None deletes), re-digesting the manifest."""
    files = read_zip(src)
    for name, data in changes.items():
        if data is None:
            files.pop(name, None)
        else:
            files[name] = data
    if fix_manifest:
        manifest = json.loads(files["MANIFEST.json"])
        manifest["files"] = {
            name: hashlib.sha256(data).hexdigest()
            for name, data in files.items()
            if name != "MANIFEST.json"
        }
        manifest.update(manifest_changes or {})
        files["MANIFEST.json"] = rfc8785.dumps(manifest) + b"\n"
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return dst


def lines_of(path: Path) -> list[bytes]:
    return read_zip(path)["entries.jsonl"].split(b"\n")[:-1]


def jsonl(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


def failure(report: VerifyReport) -> str:
    assert not report.ok, "\n".join(report.lines)
    assert report.lines[-1] == f"FAIL {report.failure}"
    assert sum(line.startswith("FAIL") for line in report.lines) == 1
    return report.failure or ""


# --- bundles that verify -----------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_bundle_verifies(bundle: Path, log: Log, mode: dict):
    report = verify_bundle(bundle, **mode)
    assert report.ok, "\n".join(report.lines)
    assert report.tree_size == N and report.origin == ORIGIN and report.root == log.root(N)
    text = "\n".join(report.lines)
    assert f"ok: {N} entries: canonical version-1 entries of {ORIGIN}, seq 0..{N - 1}" in text
    assert "chain links, time monotonic" in text
    assert "from the bundle itself" in text and report.keys_from_bundle
    assert f"ok: {len(CHECKPOINT_SIZES)} checkpoint(s) verify" in text
    assert "ok: 2 tlog-proof(s) verify" in text
    assert report.lines[-1].startswith(f"OK bundle verifies: origin {ORIGIN}, {N} entries")


@pytest.mark.parametrize("mode", MODES)
def test_pinned_key_and_trusted_checkpoint(bundle: Path, log: Log, mode: dict):
    report = verify_bundle(
        bundle, trusted_checkpoint=log.checkpoint(9), trusted_vkeys=[log.signer.vkey], **mode
    )
    assert report.ok, "\n".join(report.lines)
    assert not report.keys_from_bundle
    assert "ok: trusting 1 key(s) given with --vkey" in report.lines
    assert any("trusted checkpoint of size 9 verifies" in line for line in report.lines)


def test_empty_log_bundle_verifies(tmp_path: Path):
    log = Log(signer=NoteSigner.generate(ORIGIN), entries=[])
    report = verify_bundle(log.write(tmp_path / "empty.zip", size=0, sizes=(0,)))
    assert report.ok, "\n".join(report.lines)
    assert "ok: 0 entries: canonical version-1 entries" in report.lines[1]


def test_rotated_keys_both_verify(tmp_path: Path, log: Log):
    new = NoteSigner.generate(ORIGIN)
    path = log.write(tmp_path / "b.zip")
    double = sign_checkpoint(Checkpoint(ORIGIN, N, log.root(N)), [log.signer, new])
    only_new = sign_checkpoint(Checkpoint(ORIGIN, 16, log.root(16)), [new])
    keys = f"{log.signer.vkey}\n{new.vkey}\n".encode()
    out = rewrite(
        path,
        tmp_path / "rotated.zip",
        {
            f"checkpoints/{N}.note": double.encode(),
            "checkpoints/16.note": only_new.encode(),
            "keys.vkey": keys,
            "proofs/3.tlog-proof": None,
            f"proofs/{N - 1}.tlog-proof": None,
        },
    )
    assert verify_bundle(out).ok
    assert "checkpoints/0.note: note has no valid signature" in failure(
        verify_bundle(out, trusted_vkeys=[new.vkey])
    )


# --- tampering ---------------------------------------------------------------------


def flip_bit(data: bytes, index: int, bit: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ (1 << bit)]) + data[index + 1 :]


@pytest.mark.parametrize("mode", MODES)
def test_bit_flip_in_entry(bundle: Path, tmp_path: Path, mode: dict):
    lines = lines_of(bundle)
    at = lines[5].index(b"size_bytes") + len(b'size_bytes":') + 1
    lines[5] = flip_bit(lines[5], at)  # 105 -> 104: still valid, canonical JSON
    out = rewrite(bundle, tmp_path / "x.zip", {"entries.jsonl": jsonl(lines)})
    assert failure(verify_bundle(out, **mode)) == (
        "entries.jsonl seq 6: prev does not link to seq 5"
    )
    out = rewrite(bundle, tmp_path / "y.zip", {"entries.jsonl": jsonl(lines)}, fix_manifest=False)
    assert failure(verify_bundle(out, **mode)) == (
        "entries.jsonl: SHA-256 does not match MANIFEST.json"
    )


@pytest.mark.parametrize("mode", MODES)
def test_bit_flip_breaking_json_or_hex(bundle: Path, tmp_path: Path, mode: dict):
    lines = lines_of(bundle)
    lines[9] = flip_bit(lines[9], lines[9].index(b'"prev":"') + 10, 6)
    out = rewrite(bundle, tmp_path / "x.zip", {"entries.jsonl": jsonl(lines)})
    assert failure(verify_bundle(out, **mode)).startswith("entries.jsonl seq 9: prev:")


@pytest.mark.parametrize("mode", MODES)
def test_edited_field_recanonicalized(bundle: Path, log: Log, tmp_path: Path, mode: dict):
    lines = lines_of(bundle)
    obj = json.loads(lines[8])
    obj["data"]["size_bytes"] = 1
    lines[8] = rfc8785.dumps(obj)
    out = rewrite(bundle, tmp_path / "x.zip", {"entries.jsonl": jsonl(lines)})
    assert failure(verify_bundle(out, **mode)) == (
        "entries.jsonl seq 9: prev does not link to seq 8"
    )
    # Re-linking every later entry moves the tree off every later signed root.
    relinked = jsonl(chain(N, lambda seq: {"size_bytes": 1} if seq == 8 else {}))
    out = rewrite(bundle, tmp_path / "y.zip", {"entries.jsonl": relinked})
    assert failure(verify_bundle(out, **mode)) == (
        "checkpoints/10.note: root does not equal the tree hash of the first 10 entries"
    )


@pytest.mark.parametrize("mode", MODES)
def test_deleted_inserted_and_swapped_entries(bundle: Path, tmp_path: Path, mode: dict):
    lines = lines_of(bundle)
    deleted = rewrite(bundle, tmp_path / "d.zip", {"entries.jsonl": jsonl(lines[:8] + lines[9:])})
    assert failure(verify_bundle(deleted, **mode)).startswith(
        "entries.jsonl seq 8: entry has seq 9"
    )
    extra = entry(8, leaf_hash(lines[7]), note="inserted")
    inserted = rewrite(
        bundle, tmp_path / "i.zip", {"entries.jsonl": jsonl([*lines[:8], extra, *lines[8:]])}
    )
    assert failure(verify_bundle(inserted, **mode)).startswith(
        "entries.jsonl seq 9: entry has seq 8"
    )
    swapped = [*lines[:5], lines[6], lines[5], *lines[7:]]
    out = rewrite(bundle, tmp_path / "s.zip", {"entries.jsonl": jsonl(swapped)})
    assert failure(verify_bundle(out, **mode)).startswith("entries.jsonl seq 5: entry has seq 6")


@pytest.mark.parametrize("mode", MODES)
def test_tail_cut(bundle: Path, log: Log, tmp_path: Path, mode: dict):
    lines = lines_of(bundle)
    out = rewrite(bundle, tmp_path / "x.zip", {"entries.jsonl": jsonl(lines[:14])})
    assert failure(verify_bundle(out, **mode)) == (
        "entries.jsonl: holds 14 entries but MANIFEST.json tree_size is 20"
    )
    # A consistent shorter bundle verifies alone; the auditor's earlier checkpoint catches it.
    short = log.write(tmp_path / "short.zip", size=12)
    assert verify_bundle(short, **mode).ok
    assert failure(verify_bundle(short, trusted_checkpoint=log.checkpoint(16), **mode)) == (
        "trusted checkpoint: tree size 16 is larger than the bundle's 12"
        " (rollback: entries the log had signed are missing)"
    )


def test_fork_against_trusted_checkpoint(bundle: Path, log: Log):
    forked = Log(signer=log.signer, entries=chain(N, lambda seq: {"fork": True}))
    message = failure(verify_bundle(bundle, trusted_checkpoint=forked.checkpoint(9)))
    assert message == (
        "trusted checkpoint: root differs from the tree hash of the bundle's first 9 entries"
        " (fork: the history was rewritten)"
    )
    stranger = NoteSigner.generate(ORIGIN)
    cp = sign_checkpoint(Checkpoint(ORIGIN, 9, log.root(9)), [stranger])
    assert failure(verify_bundle(bundle, trusted_checkpoint=cp)) == (
        "trusted checkpoint: note has no valid signature by a known key"
    )
    assert failure(verify_bundle(bundle, trusted_checkpoint="not a note")) == (
        "trusted checkpoint: not a signed checkpoint note"
    )


def test_time_going_backwards(bundle: Path, tmp_path: Path):
    entries, prev = [], bytes(32)
    for seq in range(N):
        body = build_entry(
            log=ORIGIN,
            seq=seq,
            time=T0 + timedelta(minutes=11 if seq == 13 else seq),
            type="dataset_version.registered",
            actor={"kind": "system", "id": "ledger", "name": ""},
            subject={"kind": "dataset_version", "id": "x"},
            data={},
            prev=prev,
        )
        entries.append(body)
        prev = leaf_hash(body)
    out = rewrite(bundle, tmp_path / "t.zip", {"entries.jsonl": jsonl(entries)})
    for mode in (MODES[0].values[0], MODES[1].values[0]):
        assert failure(verify_bundle(out, **mode)).startswith(
            "entries.jsonl seq 13: time 2026-03-01T08:11:00.000000Z is before seq 12"
        )


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda t: t.replace("\n10\n", "\n11\n", 1), "checkpoints/10.note: invalid signature by"),
        (lambda t: t.replace("\n10\n", "\n010\n", 1), "checkpoints/10.note: invalid signature by"),
        (
            lambda t: t.replace(t.split("\n")[2], base64.b64encode(bytes(32)).decode(), 1),
            "checkpoints/10.note: invalid signature by",
        ),
        (
            lambda t: t.replace("— ", "- "),
            "checkpoints/10.note: malformed note: signature line 1 does not start with an em dash",
        ),
        (
            lambda t: t[:-6] + chr(ord(t[-6]) ^ 1) + t[-5:],
            "checkpoints/10.note: invalid signature by",
        ),
    ],
)
def test_checkpoint_tampering(bundle: Path, tmp_path: Path, mangle, message: str):
    note = read_zip(bundle)["checkpoints/10.note"].decode()
    out = rewrite(bundle, tmp_path / "x.zip", {"checkpoints/10.note": mangle(note).encode()})
    assert failure(verify_bundle(out)).startswith(message)


def test_checkpoint_signed_with_wrong_root_or_size(bundle: Path, log: Log, tmp_path: Path):
    wrong_root = log.checkpoint(10, root=log.root(11))
    out = rewrite(bundle, tmp_path / "x.zip", {"checkpoints/10.note": wrong_root.encode()})
    assert failure(verify_bundle(out)) == (
        "checkpoints/10.note: root does not equal the tree hash of the first 10 entries"
    )
    out = rewrite(bundle, tmp_path / "y.zip", {"checkpoints/10.note": log.checkpoint(11).encode()})
    assert failure(verify_bundle(out)) == "checkpoints/10.note: holds tree size 11, not 10"


def test_unknown_signing_key(bundle: Path):
    other = NoteSigner.generate(ORIGIN)
    assert failure(verify_bundle(bundle, trusted_vkeys=[other.vkey])) == (
        "checkpoints/0.note: note has no valid signature by a known key"
    )
    assert failure(verify_bundle(bundle, trusted_vkeys=["nonsense"])).startswith(
        "--vkey 'nonsense': malformed verifier key"
    )


def test_keys_file_swapped_for_an_attackers_key(bundle: Path, tmp_path: Path):
    attacker = NoteSigner.generate(ORIGIN)
    out = rewrite(bundle, tmp_path / "x.zip", {"keys.vkey": f"{attacker.vkey}\n".encode()})
    assert failure(verify_bundle(out)) == (
        "checkpoints/0.note: note has no valid signature by a known key"
    )
    wrong_name = NoteSigner.generate("other.example/log")
    out = rewrite(bundle, tmp_path / "y.zip", {"keys.vkey": f"{wrong_name.vkey}\n".encode()})
    assert "keys.vkey line 1: key name 'other.example/log' is not the origin" in failure(
        verify_bundle(out)
    )


def test_manifest_problems(bundle: Path, tmp_path: Path):
    files = read_zip(bundle)
    manifest = json.loads(files["MANIFEST.json"])
    manifest["files"]["keys.vkey"] = "0" * 64
    out = rewrite(
        bundle, tmp_path / "a.zip", {"MANIFEST.json": rfc8785.dumps(manifest)}, fix_manifest=False
    )
    assert failure(verify_bundle(out)) == "keys.vkey: SHA-256 does not match MANIFEST.json"

    out = rewrite(bundle, tmp_path / "b.zip", {}, manifest_changes={"root": "AAAA"})
    assert failure(verify_bundle(out)) == "MANIFEST.json: root is not a 32-byte hash"
    root = base64.b64encode(bytes(32)).decode()
    out = rewrite(bundle, tmp_path / "c.zip", {}, manifest_changes={"root": root})
    assert (
        failure(verify_bundle(out)) == "MANIFEST.json: root is not the root of checkpoints/20.note"
    )
    out = rewrite(bundle, tmp_path / "d.zip", {}, manifest_changes={"extra": 1})
    assert failure(verify_bundle(out)).startswith("MANIFEST.json: must hold exactly the keys")
    out = rewrite(bundle, tmp_path / "e.zip", {"MANIFEST.json": b"{"}, fix_manifest=False)
    assert failure(verify_bundle(out)).startswith("MANIFEST.json: not valid JSON")
    out = rewrite(bundle, tmp_path / "f.zip", {"notes.txt": b"hi"})
    assert failure(verify_bundle(out)) == "notes.txt: unexpected file in a ledger-export/v1 bundle"
    out = rewrite(bundle, tmp_path / "g.zip", {"VERIFY.md": b"changed"}, fix_manifest=False)
    assert failure(verify_bundle(out)) == "VERIFY.md: SHA-256 does not match MANIFEST.json"


def test_missing_files(bundle: Path, tmp_path: Path):
    out = rewrite(bundle, tmp_path / "a.zip", {"entries.jsonl": None}, fix_manifest=False)
    assert failure(verify_bundle(out)) == "bundle: missing entries.jsonl (listed in MANIFEST.json)"
    out = rewrite(bundle, tmp_path / "b.zip", {"keys.vkey": None})
    assert failure(verify_bundle(out)) == "bundle: missing keys.vkey"
    out = rewrite(bundle, tmp_path / "c.zip", {"checkpoints/20.note": None})
    assert failure(verify_bundle(out)) == (
        "bundle: missing checkpoints/20.note, the checkpoint of size 20"
    )
    out = rewrite(bundle, tmp_path / "d.zip", {"MANIFEST.json": None}, fix_manifest=False)
    assert failure(verify_bundle(out)) == "bundle: missing MANIFEST.json"


def test_not_a_bundle(tmp_path: Path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"this is not a zip file")
    assert failure(verify_bundle(junk)) == f"{junk}: not a ZIP file (or a damaged one)"
    assert failure(verify_bundle(tmp_path / "nope.zip")) == f"{tmp_path / 'nope.zip'}: no such file"
    assert "cannot read" in failure(verify_bundle(tmp_path))


@pytest.mark.parametrize("mode", MODES)
def test_malformed_lines(bundle: Path, tmp_path: Path, mode: dict):
    lines = lines_of(bundle)
    bad = [*lines[:3], lines[3][:-1], *lines[4:]]
    out = rewrite(bundle, tmp_path / "a.zip", {"entries.jsonl": jsonl(bad)})
    assert failure(verify_bundle(out, **mode)).startswith("entries.jsonl seq 3: not valid JSON")
    out = rewrite(bundle, tmp_path / "b.zip", {"entries.jsonl": jsonl(lines)[:-1]})
    assert failure(verify_bundle(out, **mode)) == (
        "entries.jsonl seq 19: last line does not end in a newline"
    )
    spaced = [*lines[:11], lines[11].replace(b'"seq":11', b'"seq": 11'), *lines[12:]]
    out = rewrite(bundle, tmp_path / "c.zip", {"entries.jsonl": jsonl(spaced)})
    assert failure(verify_bundle(out, **mode)) == "entries.jsonl seq 11: not canonical JCS"
    out = rewrite(
        bundle, tmp_path / "d.zip", {"entries.jsonl": jsonl([*lines[:6], b"", *lines[6:]])}
    )
    assert failure(verify_bundle(out, **mode)).startswith("entries.jsonl seq 6: not valid JSON")


def test_proof_files_are_checked(bundle: Path, log: Log, tmp_path: Path):
    files = read_zip(bundle)
    other = files["proofs/3.tlog-proof"]
    out = rewrite(bundle, tmp_path / "a.zip", {"proofs/4.tlog-proof": other})
    assert failure(verify_bundle(out)) == "proofs/4.tlog-proof: proves seq 3, not 4"
    mangled = other.replace(b"index 3", b"index 4")
    out = rewrite(bundle, tmp_path / "b.zip", {"proofs/3.tlog-proof": mangled})
    assert failure(verify_bundle(out)).startswith("proofs/3.tlog-proof: inclusion proof")


def test_bundle_writer_refuses_inconsistent_input(log: Log):
    with pytest.raises(ValueError, match="expected 20"):
        log_entries = iter(log.entries[:19])
        write_bundle(
            io.BytesIO(),
            origin=ORIGIN,
            tree_size=N,
            root=log.root(N),
            entries=log_entries,
            checkpoints={N: log.checkpoint(N)},
            vkeys=[log.signer.vkey],
            created=T0,
            verify_md="",
        )
    with pytest.raises(ValueError, match="tree hash"):
        write_bundle(
            io.BytesIO(),
            origin=ORIGIN,
            tree_size=N,
            root=log.root(N),
            entries=iter(chain(N, lambda seq: {"x": 1})),
            checkpoints={N: log.checkpoint(N)},
            vkeys=[log.signer.vkey],
            created=T0,
            verify_md="",
        )
    with pytest.raises(ValueError, match="must include the checkpoint of size 20"):
        write_bundle(
            io.BytesIO(),
            origin=ORIGIN,
            tree_size=N,
            root=log.root(N),
            entries=iter(log.entries),
            checkpoints={10: log.checkpoint(10)},
            vkeys=[log.signer.vkey],
            created=T0,
            verify_md="",
        )


def test_bundle_layout_and_manifest(bundle: Path, log: Log):
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        assert names[-1] == "MANIFEST.json"
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())
        manifest = json.loads(zf.read("MANIFEST.json"))
        assert zf.read("VERIFY.md").decode() == VERIFY_MD
        assert zf.read("keys.vkey") == f"{log.signer.vkey}\n".encode()
    assert manifest["format"] == "ledger-export/v1"
    assert manifest["tree_size"] == N and manifest["origin"] == ORIGIN
    assert base64.b64decode(manifest["root"]) == log.root(N)
    assert manifest["created"] == "2026-03-02T08:00:00.000000Z"
    assert set(manifest["files"]) == set(names) - {"MANIFEST.json"}
    assert {f"checkpoints/{s}.note" for s in CHECKPOINT_SIZES} <= set(names)
    assert "verifier/apps/ledger/offline_verifier.py" in names
    assert "verifier/apps/ledger/core/merkle.py" in names


# --- the command line --------------------------------------------------------------


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run(
        [sys.executable, "-m", "apps.ledger.offline_verifier", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_exit_codes_and_one_line_failures(bundle: Path, log: Log, tmp_path: Path):
    ok = run_cli(str(bundle), "--vkey", log.signer.vkey)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.splitlines()[-1].startswith("OK bundle verifies")
    assert ok.stderr == ""

    lines = lines_of(bundle)
    del lines[8]
    bad = rewrite(bundle, tmp_path / "bad.zip", {"entries.jsonl": jsonl(lines)})
    for args in (
        [str(bad)],
        [str(tmp_path / "missing.zip")],
        [str(bundle), "--trusted-checkpoint", str(tmp_path / "missing.note")],
        [str(bundle), "--vkey", "garbage"],
    ):
        result = run_cli(*args)
        assert result.returncode == 1, result
        assert result.stderr == ""
        fails = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
        assert len(fails) == 1 and fails[0] == result.stdout.splitlines()[-1]
        assert "Traceback" not in result.stdout
    assert (
        run_cli(str(bad))
        .stdout.splitlines()[-1]
        .startswith("FAIL entries.jsonl seq 8: entry has seq 9")
    )

    trusted = tmp_path / "trusted.note"
    trusted.write_text(log.checkpoint(5))
    result = run_cli(str(bundle), "--trusted-checkpoint", str(trusted))
    assert result.returncode == 0 and "trusted checkpoint of size 5 verifies" in result.stdout


def test_cli_proof_subcommand(bundle: Path, log: Log, tmp_path: Path):
    proof = tmp_path / "3.tlog-proof"
    proof.write_bytes(read_zip(bundle)["proofs/3.tlog-proof"])
    result = run_cli("proof", str(proof), "--vkey", log.signer.vkey)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: entry seq 3 is included" in result.stdout
    other = NoteSigner.generate(ORIGIN).vkey
    result = run_cli("proof", str(proof), "--vkey", other)
    assert result.returncode == 1
    assert result.stdout.strip() == (
        f"FAIL {proof}: checkpoint: note has no valid signature by a known key"
    )


def test_bundled_verifier_runs_from_the_bundle_alone(bundle: Path, tmp_path: Path):
    root = tmp_path / "unpacked"
    with zipfile.ZipFile(bundle) as zf:
        for name in zf.namelist():
            if name.startswith("verifier/"):
                zf.extract(name, root)
    result = run_cli("../../" + str(bundle.relative_to(tmp_path)), cwd=root / "verifier")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("OK bundle verifies")
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, apps.ledger.offline_verifier as v; print(v.__file__);"
            " print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))",
        ],
        cwd=root / "verifier",
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    where, django = probe.stdout.splitlines()
    assert where.startswith(str(root / "verifier"))
    assert django == "[]", "the verifier must not import Django"
