"""The documented examples run: the plain training script records its dataset, run
and model version against a live server and deploys through the gate; ``reproduce``
then prints what it recorded; the CI jobs call commands the CLI has."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

from apps.registry.models import AISystem
from audit_client.cli import build_parser
from tests.factories import classify_unclassified

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"


def test_the_training_script_records_each_step_and_deploys(server, api, system, cli, tmp_path):
    classify_unclassified(AISystem.objects.get(pk=system["id"]))
    deployment = api.deployment_create(system_id=system["id"], environment="production")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "client" / "src")}
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "train_xgboost.py"),
            "--system",
            str(system["id"]),
            "--deployment",
            str(deployment["id"]),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    served = api.deployment_get(deployment["id"])["model_version"]
    assert f"model version {served} serves on deployment {deployment['id']}" in done.stdout

    code, out, err = cli("--json", "reproduce", "scorer:1.0.0")
    assert (code, err) == (0, "")
    plan = json.loads(out)
    assert plan["model_version"]["id"] == served
    assert plan["training_run"]["status"] == "completed"
    assert plan["training_run"]["environment"]["python"]["version"] == platform.python_version()
    assert "xgboost" in plan["training_run"]["environment"]["packages"]
    (dataset,) = plan["dataset_versions"]
    assert (dataset["dataset"], dataset["row_count"], dataset["split"]) == (
        "applications",
        500,
        "train",
    )
    code, text, _ = cli("reproduce", "scorer:1.0.0")
    assert code == 0
    assert f"artifact   sha256 {plan['model_version']['artifact_sha256']}" in text
    assert f"sha256 {dataset['sha256']}, 500 rows" in text

    # --fetch downloads the artifact and the dataset file, each checked by its digest.
    code, text, err = cli("reproduce", "scorer:1.0.0", "--fetch", str(tmp_path / "again"))
    assert (code, err) == (0, "")
    for digest in (plan["model_version"]["artifact_sha256"], dataset["sha256"]):
        fetched = tmp_path / "again" / digest
        assert hashlib.sha256(fetched.read_bytes()).hexdigest() == digest
        assert f"sha256 {digest}: {fetched}" in text
    kept = json.loads((tmp_path / "again" / "reproduce.json").read_text())
    assert kept["model_version"]["id"] == served


def test_the_ci_jobs_call_commands_the_cli_has():
    parser = build_parser()
    for job in ("github-actions-gate.yml", "gitlab-ci-gate.yml"):
        text = (EXAMPLES / job).read_text()
        commands = re.findall(r"audit-client ((?:--json )?[a-z]+(?: [a-z]+)?)", text)
        assert {c.removeprefix("--json ") for c in commands} >= {"gate", "deploy activate"}
        for command in commands:
            # Every subcommand the job uses parses (its arguments stand in as "x").
            words = command.split()
            args = ["x"] if words[-1] == "gate" else ["x", "--model-version", "m:1"]
            if words[-1] == "gate":
                args += ["--deployment", "x"]
            parsed = parser.parse_args([*words, *args])
            assert parsed.handler
