"""``manage.py demo`` on PostgreSQL, as bin/serve runs it (tasks in-process): the
story's steps on the ledger in the order told, the ledger and every report verify,
one summer decision's and one online decision's receipts verify offline, the
dashboard shows the open drift alert, and a second run tells nothing again."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from apps.demo import story as demo
from apps.fleet import selectors as fleet_selectors
from apps.inference import selectors as inference_selectors
from apps.ledger import offline_verifier
from apps.ledger.selectors import log_for, verifier_keys
from apps.ledger.stored_log_check import log_verify
from apps.registry.models import Deployment, PredictionBatch
from apps.reports.models import Report
from apps.reports.selectors import report_verification
from apps.tenancy.models import Organization
from tests.support import clean_python, entry_types, sign_in_with_second_factor

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "auditor-offline-verification.md"

pytestmark = pytest.mark.django_db(transaction=True)

# The story's milestones, in the order they must stand on the ledger.
MILESTONES = [
    "ai_system.registered",
    "dataset_version.registered",
    "training_run.completed",
    "model_version.registered",
    "classification.recorded",
    "assessment.completed",
    "assessment.signed",
    "approval.decided",
    "deployment.activated",
    "monitoring_policy.set",
    "prediction_batch.completed",  # winter
    "prediction_batch.completed",  # summer
    "drift_report.completed",
    "alert.raised",
    "retraining_trigger.created",
    "performance.realized",
    "incident.opened",
    "incident.authority_informed",
    "retraining_trigger.answered",
    "model_version.registered",
    "approval.decided",
    "deployment.activated",
    "deployment.rolled_back",
    "deployment.activated",
    "prediction_batch.recorded",  # online decisions sealed
    "explanation.completed",
    "report.generated",
]


def in_order(wanted: list[str], types: list[str]) -> list[str]:
    """The part of ``wanted`` not found, in order, in ``types``."""
    position = 0
    for index, name in enumerate(wanted):
        try:
            position = types.index(name, position) + 1
        except ValueError:
            return wanted[index:]
    return []


def auditor_guide_runs(*, bundle: Path, receipt: dict, vkey: str, folder: Path) -> None:
    """The auditor's guide's commands, in order, where the bank's files lie, with a
    Python that has only the verifier's two packages."""
    work = folder / "work"
    work.mkdir(parents=True)
    shutil.copy(bundle, work / "bundle.zip")
    (work / "receipt.json").write_text(json.dumps(receipt))
    python = clean_python(folder)
    blocks = re.findall(r"^```sh\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), re.S | re.M)
    run = subprocess.run(
        ["bash", "-c", "set -eu\n" + "\n".join(blocks)],
        cwd=work,
        env={"PATH": f"{python.parent}:/usr/bin:/bin", "VKEY": vkey, "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "OK bundle verifies: origin localhost/nordbank-demo" in run.stdout
    assert "ok: row 7 is leaf 7" in run.stdout


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", url="http://testserver", stdout=out)
    return out.getvalue()


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def test_the_demo_tells_the_whole_story_once_and_it_verifies(postgres, var_dir):
    first = run_demo()
    assert "The demo story was told in" in first
    assert "officer@nordbank.example" in first and "Ledger verified: OK" in first
    organization = Organization.objects.get(slug=demo.ORGANIZATION_SLUG)
    types = entry_types(organization)
    assert in_order(MILESTONES, types) == []
    log = log_for(organization=organization)
    assert log_verify(log=log).ok
    vkeys = verifier_keys(log=log)

    reports = Report.objects.filter(organization=organization)
    assert {r.kind for r in reports} >= {
        "annex_iv",
        "audit_trail",
        "post_market_monitoring",
        "model_card",
        "decision_explanation",
    }
    for report in reports:
        with report.pdf.open("rb") as pdf:
            assert report_verification(organization=organization, file=pdf).report == report

    summer = (
        PredictionBatch.objects.filter(deployment__system__organization=organization)
        .filter(status="completed")
        .order_by("-created_at")
        .first()
    )
    receipt = inference_selectors.row_receipt(batch=summer, row=7)
    lines = offline_verifier.verify_receipt(receipt, vkeys)
    assert any(line.startswith("ok: row 7 is leaf 7") for line in lines)

    deployment = Deployment.objects.get(system__organization=organization)
    online = fleet_selectors.decision_receipt(
        deployment=deployment, request_id="application-00003", part=0
    )
    assert offline_verifier.verify_receipt(online, vkeys)

    bundle = var_dir / "demo" / f"{demo.ORGANIZATION_SLUG}-ledger.zip"
    auditor_guide_runs(bundle=bundle, receipt=receipt, vkey=vkeys[0], folder=var_dir / "audit")

    officer = organization.memberships.get(user__email="officer@nordbank.example").user
    client = Client()
    sign_in_with_second_factor(client, officer)
    dashboard = client.get("/").content.decode()
    assert "Open alerts" in dashboard and "Drift" in dashboard

    # A second run finds the story, tells nothing and the ledger still verifies.
    second = run_demo()
    assert "exists already" in second and "Ledger verified: OK" in second
    assert Organization.objects.filter(slug=demo.ORGANIZATION_SLUG).count() == 1
    assert entry_types(organization) == types
