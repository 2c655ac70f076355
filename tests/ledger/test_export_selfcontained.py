"""An export bundle describes itself and carries a verifier that runs on its own; the
format document's rules for ``rows_root`` are the ones the service uses."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.urls import reverse

from apps.inference import rowhash
from apps.ledger.core.rows import rows_root
from tests.support import clean_python

DOCS = Path(settings.BASE_DIR) / "docs"
FORMATS_MD = (DOCS / "formats.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def offline_python(tmp_path_factory) -> Path:
    return clean_python(tmp_path_factory.mktemp("offline"))


def _export(client, tmp_path: Path) -> Path:
    response = client.get(reverse("ledger-export"))
    assert response.status_code == 200
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(b"".join(response.streaming_content))
    return bundle


def test_bundle_carries_the_format_document(org, append, client_for, tmp_path):
    append(3)
    bundle = _export(client_for(org, "auditor"), tmp_path)
    with zipfile.ZipFile(bundle) as zf:
        verify_md = zf.read("VERIFY.md").decode("utf-8")
    assert verify_md.startswith((DOCS / "VERIFY.md").read_text(encoding="utf-8").rstrip("\n"))
    assert verify_md.endswith(FORMATS_MD)
    assert "## 7. Row receipts" in verify_md and "## 6. Export bundles" in verify_md


def test_bundle_verifier_runs_with_only_python_cryptography_and_rfc8785(
    org, append, client_for, tmp_path, offline_python
):
    append(5)
    auditor = client_for(org, "auditor")
    bundle = _export(auditor, tmp_path)
    vkey = auditor.get(reverse("ledger-keys")).content.decode().split()[0]
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(unpacked)
    assert (unpacked / "verifier/apps/ledger/offline_verifier.py").is_file()
    # That Python cannot reach this project or Django: what runs is the bundle's copy.
    assert subprocess.run([offline_python, "-c", "import django"]).returncode != 0
    run = subprocess.run(
        [offline_python, "-m", "apps.ledger.offline_verifier", str(bundle), "--vkey", vkey],
        cwd=unpacked / "verifier",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "OK bundle verifies" in run.stdout
    # The same verifier refuses the bundle when told to trust another key only.
    other_key = _other_vkey(vkey.split("+")[0])
    other = subprocess.run(
        [offline_python, "-m", "apps.ledger.offline_verifier", str(bundle), "--vkey", other_key],
        cwd=unpacked / "verifier",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 1 and other.stdout.splitlines()[-1].startswith("FAIL"), other.stdout


def _other_vkey(origin: str) -> str:
    """A well-formed verifier key of the same origin that never signed anything."""
    public = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    key_id = hashlib.sha256(origin.encode() + b"\n\x01" + public).digest()[:4]
    encoded = base64.b64encode(b"\x01" + public).decode()
    return f"{origin}+{key_id.hex()}+{encoded}"


def _python_block(markdown: str) -> str:
    (block,) = re.findall(r"```python\n(.*?)```", markdown, re.S)
    return block


def test_rows_root_example_in_the_format_document_is_what_the_service_computes(
    offline_python, tmp_path
):
    script = tmp_path / "rows_root.py"
    script.write_text(_python_block(FORMATS_MD), encoding="utf-8")
    run = subprocess.run([offline_python, script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    printed = run.stdout.strip()
    assert f"It prints\n`{printed}`" in FORMATS_MD
    # The reference encoder, with the values as a CSV or Parquet reader gives them.
    rows = [
        ({"age": 41, "income": 52000.5, "region": "north", "since": dt.date(2019, 4, 1)}, 0.8125),
        (
            {"age": 29, "income": float("nan"), "region": "south", "since": dt.date(2023, 11, 15)},
            0.125,
        ),
        ({"age": 63, "income": 38250.0, "region": "north", "since": None}, 0.5),
    ]
    assert rows_root(rows) == printed
    # The column-speed path our workers use on an Arrow batch.
    batch = pa.RecordBatch.from_pydict(
        {
            "age": pa.array([41, 29, 63], pa.int64()),
            "income": pa.array([52000.5, None, 38250.0], pa.float64()),
            "region": pa.array(["north", "south", "north"]),
            "since": pa.array([dt.date(2019, 4, 1), dt.date(2023, 11, 15), None], pa.date32()),
        }
    )
    digests = rowhash.input_digests(batch)
    leaves = rowhash.leaves(first_row=0, digests=digests, outputs=np.array([0.8125, 0.125, 0.5]))
    tree = rowhash.RowsAccumulator()
    tree.add(rowhash.leaf_hashes(leaves))
    assert tree.root_hex() == printed


def test_readme_links_the_format_documents():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    for page in ("docs/formats.md", "docs/auditor-walkthrough.md", "docs/reports.md"):
        assert f"]({page})" in readme, page
        assert (Path(settings.BASE_DIR) / page).is_file()
