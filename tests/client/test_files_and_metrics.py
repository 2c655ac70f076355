"""Stored files come back by their digest, checked on the way out and on the way in;
metrics are finite numbers, refused by name otherwise, by the client and the server."""

from __future__ import annotations

import httpx
import pytest

from apps.registry.models import Artifact
from audit_client import Conflict, InvalidValue, NotFound
from tests.support import entry_types


def test_a_stored_file_downloads_by_its_digest(api, tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\x00model bytes\xff" * 1000)
    stored = api.upload(tmp_path / "weights.bin")
    path = api.artifact_download(stored["sha256"], tmp_path / "back.bin")
    assert path.read_bytes() == (tmp_path / "weights.bin").read_bytes()


def test_a_file_changed_at_rest_is_not_served_and_is_recorded(api, org, tmp_path):
    (tmp_path / "data.csv").write_text("age,income\n30,1000\n")
    stored = api.upload(tmp_path / "data.csv")
    artifact = Artifact.objects.get(organization=org, sha256=stored["sha256"])
    with open(artifact.file.path, "ab") as f:
        f.write(b"31,2000\n")
    with pytest.raises(Conflict, match="changed at rest"):
        api.artifact_download(stored["sha256"], tmp_path / "back.csv")
    assert not (tmp_path / "back.csv").exists()
    assert not (tmp_path / "back.csv.part").exists()
    assert entry_types(org)[-1] == "artifact.integrity_failed"


def test_a_digest_without_stored_bytes_says_so(api, tmp_path):
    with pytest.raises(NotFound, match="registered without uploading its bytes"):
        api.artifact_download("c" * 64, tmp_path / "x")


def test_metrics_that_are_not_finite_numbers_are_refused_by_name(api, system, server, cli):
    with api.training_run(system_id=system["id"]) as run:
        with pytest.raises(InvalidValue, match="'loss' is nan"):
            run.log_metrics({"auc": 0.9, "loss": float("nan")})
        run.log_metrics({"auc": 0.9})
    assert api.training_run_get(run.id)["metrics"] == {"auc": 0.9}

    started = api.training_run_start(system_id=system["id"], capture_environment=False)
    code, out, err = cli("run", "finish", str(started["id"]), "--metrics", '{"loss": "low"}')
    assert code == 5 and out == "" and err.count("\n") == 1
    assert "'loss' is 'low'" in err
    # The server refuses them too, naming the metric, and records nothing.
    answer = httpx.post(
        f"{server}/api/v1/training-runs/{started['id']}/complete",
        headers={"Authorization": api._http.headers["Authorization"]},
        json={"metrics": {"auc": 0.9, "calibrated": True}},
        timeout=30,
    )
    assert answer.status_code == 400
    assert "Metric 'calibrated' is True" in answer.text
    assert api.training_run_get(started["id"])["status"] == "running"


def test_reproduce_fetch_says_what_the_service_holds_only_as_a_uri(api, system, cli, tmp_path):
    model = api.model_create(system_id=system["id"], name="remote-scorer")
    api.model_version_register(
        model_id=model["id"],
        version="2.0",
        artifact_format="onnx",
        framework="onnx",
        framework_version="1.17",
        artifact_sha256="ab" * 32,
        uri="s3://models/remote-scorer/2.0.onnx",
    )
    code, out, err = cli("reproduce", "remote-scorer:2.0", "--fetch", str(tmp_path / "again"))
    assert code == 1 and err.count("\n") == 1
    assert "not fetched" in err and "model version 2.0" in err
    assert (
        f"sha256 {'ab' * 32}: NOT FETCHED: the service holds its digest only; its bytes are at "
        "s3://models/remote-scorer/2.0.onnx" in out
    )
    assert not (tmp_path / "again" / ("ab" * 32)).exists()
    assert (tmp_path / "again" / "reproduce.json").is_file()
