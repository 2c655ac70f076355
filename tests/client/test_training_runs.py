"""Training runs as a context manager, with the environment captured by default."""

from __future__ import annotations

import hashlib
import platform
import subprocess

import pytest

from apps.registry.models import TrainingRun
from tests.support import entry_types


class Diverged(RuntimeError):
    pass


def test_a_run_whose_block_raises_is_recorded_failed_with_the_error(api, system, org):
    with (
        pytest.raises(Diverged, match="loss is NaN"),
        api.training_run(system_id=system["id"], params={"lr": 0.1}) as run,
    ):
        raise Diverged("loss is NaN at epoch 3")
    record = api.training_run_get(run.id)
    assert record["status"] == "failed"
    assert record["failure_reason"] == "Diverged: loss is NaN at epoch 3"
    assert record["params"] == {"lr": 0.1}
    assert entry_types(org).count("training_run.failed") == 1


def test_a_run_that_ends_cleanly_is_completed_with_its_metrics(api, system):
    with api.training_run(system_id=system["id"]) as run:
        run.log_metrics({"auc": 0.91})
        run.log_metrics({"log_loss": 0.3})
    record = api.training_run_get(run.id)
    assert record["status"] == "completed"
    assert record["metrics"] == {"auc": 0.91, "log_loss": 0.3}


def test_the_environment_is_captured_by_default(api, system, tmp_path, monkeypatch):
    (tmp_path / "uv.lock").write_text("version = 1\n")
    monkeypatch.setenv("IMAGE_DIGEST", "registry.example/train@sha256:" + "ab" * 32)
    run = api.training_run_start(system_id=system["id"], project=tmp_path)
    env = TrainingRun.objects.get(pk=run["id"]).environment
    assert env["python"]["version"] == platform.python_version()
    assert env["packages"]["httpx"]  # the installed distributions, by name
    assert env["lock_files"] == {"uv.lock": hashlib.sha256(b"version = 1\n").hexdigest()}
    assert env["container"]["image_digest"] == "sha256:" + "ab" * 32
    assert run["hardware"]["cpu"]


def test_the_git_commit_and_dirty_flag_are_the_code_revision(api, system, tmp_path):
    def git(*argv):
        subprocess.run(["git", *argv], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "train.py").write_text("print('train')\n")
    git("add", "train.py")
    git("-c", "user.email=a@b.example", "-c", "user.name=a", "commit", "-qm", "first")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.strip()
    clean = api.training_run_start(system_id=system["id"], project=tmp_path)
    assert clean["code_revision"] == head
    (tmp_path / "train.py").write_text("print('changed')\n")
    dirty = api.training_run_start(system_id=system["id"], project=tmp_path)
    assert dirty["code_revision"] == head + "-dirty"
    git_info = dirty["environment"]["git"]
    assert (git_info["commit"], git_info["dirty"]) == (head, True)


def test_capture_can_be_turned_off(api, system):
    run = api.training_run_start(system_id=system["id"], capture_environment=False)
    assert run["environment"] == {} and run["hardware"] == {} and run["code_revision"] == ""
