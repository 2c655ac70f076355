"""A monitoring policy on a deployment, drift of each completed batch against its
reference, the alert it raises, and the signed webhook that tells of it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from apps.monitoring import webhooks
from apps.monitoring.models import Alert, Delivery, DriftReport, MonitoringPolicy
from tests.monitoring.conftest import frame, record_batch
from tests.support import assert_nothing_written, entry_types, last_entry

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def policy_payload(monitored, **extra):
    return {
        "deployment_id": monitored["deployment"].pk,
        "reference_dataset_version_id": monitored["reference"].pk,
        "window_hours": 24,
        **extra,
    }


def test_policy_is_on_the_ledger_with_its_plan_and_schedule(org, post, monitored):
    answer = post("monitoring-policy-list", policy_payload(monitored, email_recipients=["a@x.io"]))
    assert len(answer["webhook_secret"]) == 64
    assert answer["ledger"]["seq"] > 0
    assert "compared with dataset version" in answer["plan"]
    assert "every 24-hour window" in answer["plan"]
    entry = last_entry(org, "monitoring_policy.set")
    assert entry["data"]["reference"] == {
        "kind": "dataset_version",
        "id": str(monitored["reference"].pk),
    }
    assert entry["data"]["email_recipients"] == 1  # a count: no addresses on the ledger
    task = PeriodicTask.objects.get(name=f"monitoring-policy-{answer['id']}-windows")
    assert task.task == "apps.monitoring.policy_window_drift"
    assert json.loads(task.args) == [answer["id"]] and task.interval.every == 24
    # A second call is a new revision of the same policy; the secret is not shown again.
    again = post(
        "monitoring-policy-list", {"deployment_id": monitored["deployment"].pk, "drift_share": 0.3}
    )
    assert again["id"] == answer["id"] and again["revision"] == 2
    assert "webhook_secret" not in again


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"drift_share": 1.5}, "drift_share"),
        ({"tests": {"age": "ks"}, "thresholds": {"age": 0}}, "thresholds"),
        ({"thresholds": {"age": "high"}}, "thresholds"),
        ({"tests": {"age": "ks"}, "thresholds": {"age": 1}}, "thresholds"),
        ({"features": ["age"], "thresholds": {"income": 0.1}}, "thresholds"),
        ({"tests": {"age": "magic"}}, "tests"),
        ({"webhook_urls": ["ftp://example.com/hook"]}, "webhook_urls"),
        ({"webhook_urls": ["http://127.0.0.1:9/hook"]}, "webhook_urls"),
        ({"webhook_urls": ["http://169.254.169.254/latest"]}, "webhook_urls"),
        ({"webhook_urls": ["http://10.1.2.3/hook"]}, "webhook_urls"),
        ({"on_decay": "retrain"}, "pipeline_url"),
        ({"reference_batch_id": "019ad3c2-0000-7000-8000-000000000000"}, "reference_batch_id"),
        ({"reference_batch_id": 999999}, "reference_batch_id"),
    ],
)
def test_bad_policies_are_refused_with_the_field_to_fix(post, monitored, extra, field):
    answer = post("monitoring-policy-list", policy_payload(monitored, **extra), status=400)
    assert field in answer["error"]["fields"], answer


def test_loopback_webhooks_are_allowed_in_debug(post, monitored, settings):
    settings.DEBUG = True
    post("monitoring-policy-list", policy_payload(monitored, webhook_urls=["http://127.0.0.1/h"]))


def drift_run(django_capture_on_commit_callbacks, deployment, inputs, outputs=None):
    with django_capture_on_commit_callbacks(execute=True):
        return record_batch(deployment, inputs, outputs)


def test_completed_batch_with_planted_drift_raises_a_signed_alert(
    org, post, monitored, receiver, django_capture_on_commit_callbacks, tmp_path
):
    hook = receiver()
    policy = post("monitoring-policy-list", policy_payload(monitored, webhook_urls=[hook.url]))
    batch = drift_run(
        django_capture_on_commit_callbacks,
        monitored["deployment"],
        frame(1500, seed=2, shift={"age": 1.0, "income": 0.8, "debt": -0.7}),
    )
    report = DriftReport.objects.get(batch=batch)
    assert report.status == "completed" and report.dataset_drifted
    drifted = {f["feature"] for f in report.features if f["drifted"]}
    assert drifted == {"age", "income", "debt"}, report.features
    entry = last_entry(org, "drift_report.completed")
    assert sorted(entry["data"]["drifted_features"]) == ["age", "debt", "income"]
    alert = Alert.objects.get(policy_id=policy["id"])
    assert alert.kind == "drift" and alert.status == "open"
    assert "3 of 4 watched features drifted" in alert.cause
    assert entry_types(org).index("drift_report.completed") < entry_types(org).index("alert.raised")
    # The webhook arrived once, signed; the documented recipe verifies it.
    (request,) = hook.requests
    delivery = Delivery.objects.get(alert=alert)
    assert delivery.status == "delivered" and delivery.attempts.get().status_code == 200
    header = request["headers"][webhooks.SIGNATURE_HEADER]
    assert verify_with_documented_recipe(
        policy["webhook_secret"], header, request["body"], tmp_path
    )
    assert not verify_with_documented_recipe("wrong", header, request["body"], tmp_path)
    assert json.loads(request["body"])["alert"]["id"] == str(alert.pk)


def documented_recipe(kind: str) -> str:
    """The code block after ``<!-- recipe: kind -->`` in docs/monitoring.md."""
    text = (ROOT / "docs" / "monitoring.md").read_text(encoding="utf-8")
    block = text.split(f"<!-- recipe: {kind} -->", 1)[1]
    return block.split("```", 2)[1].split("\n", 1)[1]


def verify_with_documented_recipe(secret: str, header: str, body: bytes, tmp_path) -> bool:
    """Runs the Python and the shell recipes of docs/monitoring.md, as written there,
    the way a receiver would; both must agree."""
    python = documented_recipe("python")
    assert len([line for line in python.splitlines() if line.strip()]) <= 10
    namespace: dict = {}
    exec(python, namespace)  # our own documentation
    python_ok = namespace["verify"](secret, header, body)
    (tmp_path / "body.json").write_bytes(body)
    shell = subprocess.run(
        ["sh", "-c", documented_recipe("sh")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"SECRET": secret, "HEADER": header, "PATH": "/usr/bin:/bin"},
    )
    shell_ok = shell.returncode == 0 and shell.stdout.strip() == "valid"
    assert python_ok == shell_ok, shell.stdout + shell.stderr
    assert python_ok == webhooks.signature_valid(secret=secret, header=header, body=body)
    return python_ok


def test_batch_without_drift_raises_no_alert(
    org, post, monitored, django_capture_on_commit_callbacks
):
    post("monitoring-policy-list", policy_payload(monitored))
    batch = drift_run(
        django_capture_on_commit_callbacks, monitored["deployment"], frame(1500, seed=3)
    )
    report = DriftReport.objects.get(batch=batch)
    assert report.status == "completed" and not report.dataset_drifted
    assert not Alert.objects.exists()


def test_batch_whose_columns_do_not_match_is_a_failed_report_with_the_reason(
    org, post, monitored, django_capture_on_commit_callbacks
):
    post("monitoring-policy-list", policy_payload(monitored))
    inputs = frame(100, seed=4)
    inputs["salary"] = inputs.pop("income")
    batch = drift_run(
        django_capture_on_commit_callbacks,
        monitored["deployment"],
        inputs,
        {"prediction": [0.5] * 100},
    )
    report = DriftReport.objects.get(batch=batch)
    assert report.status == "failed"
    assert "lacks ['income']" in report.failure_reason
    assert last_entry(org, "drift_report.failed")["data"]["reason"] == report.failure_reason
    assert not Alert.objects.filter(kind="drift").exists()


def test_window_drift_is_written_once_and_an_empty_window_is_refused(
    org, post, monitored, django_capture_on_commit_callbacks
):
    policy = post("monitoring-policy-list", policy_payload(monitored))
    drift_run(django_capture_on_commit_callbacks, monitored["deployment"], frame(500, seed=5))
    drift_run(django_capture_on_commit_callbacks, monitored["deployment"], frame(500, seed=6))
    window = {"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"}
    first = post("monitoring-policy-window", window, pk=policy["id"])
    assert first["rows"] == 1000 and first["status"] == "completed"
    size = len(entry_types(org))
    again = post("monitoring-policy-window", window, pk=policy["id"])
    assert again["id"] == first["id"] and len(entry_types(org)) == size
    empty = {"start": "2000-01-01T00:00:00Z", "end": "2000-01-02T00:00:00Z"}
    answer = post("monitoring-policy-window", empty, pk=policy["id"], status=400)
    assert "window is empty" in answer["error"]["message"]


def test_scheduled_empty_window_is_a_failed_report_once(org, post, monitored):
    from datetime import UTC, datetime

    from apps.monitoring.services import drift_report_for_window

    policy = post("monitoring-policy-list", policy_payload(monitored))
    start, end = datetime(2001, 1, 1, tzinfo=UTC), datetime(2001, 1, 2, tzinfo=UTC)
    report = drift_report_for_window(policy_id=policy["id"], start=start, end=end)
    assert report.status == "failed" and "holds no prediction batch" in report.failure_reason
    with assert_nothing_written():
        assert drift_report_for_window(policy_id=policy["id"], start=start, end=end) == report
    assert MonitoringPolicy.objects.count() == 1


def test_annex_iv_section_9_prints_the_plan_generated_from_the_policy(
    post, officer, monitored, django_capture_on_commit_callbacks
):
    import io

    from pypdf import PdfReader

    policy = post("monitoring-policy-list", policy_payload(monitored))
    with django_capture_on_commit_callbacks(execute=True):
        answer = officer.post(
            reverse("report-list"),
            {"kind": "annex_iv", "system_id": monitored["system"].pk},
            format="json",
        )
    assert answer.status_code == 202, answer.content
    download = officer.get(reverse("report-download", kwargs={"pk": answer.json()["id"]}))
    pdf = b"".join(download.streaming_content)
    text = " ".join(
        " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    section = text[text.index("9. Post-market monitoring plan") :]
    # Lines wrap where a long UUID pushes them (even inside "24-hour"): compared
    # without the spaces.
    compact = section.replace(" ", "")
    assert f"monitoringpolicy{policy['id']}rev.1" in compact
    assert "every24-hourwindow" in compact
    assert "no post-market monitoring plan is on the record" not in text.lower()


def test_the_scheduled_job_names_the_last_full_window_and_runs_it_once(
    org, post, monitored, django_capture_on_commit_callbacks
):
    from datetime import UTC, datetime

    from apps.monitoring.tasks import last_full_window, policy_window_drift_task

    now = datetime(2026, 5, 4, 13, 45, tzinfo=UTC)
    assert last_full_window(hours=6, now=now) == (
        datetime(2026, 5, 4, 6, tzinfo=UTC),
        datetime(2026, 5, 4, 12, tzinfo=UTC),
    )
    policy = post("monitoring-policy-list", policy_payload(monitored, window_hours=1))
    drift_run(django_capture_on_commit_callbacks, monitored["deployment"], frame(300, seed=5))
    window = ("2000-01-01T00:00:00+00:00", "2100-01-01T00:00:00+00:00")
    policy_window_drift_task.delay(policy["id"], *window)
    size = len(entry_types(org))
    policy_window_drift_task.delay(policy["id"], *window)  # a second beat, a redelivery
    assert len(entry_types(org)) == size
    (report,) = DriftReport.objects.filter(window_key="/".join(window))
    assert report.status == "completed" and report.rows == 300


def test_a_reference_batch_stands_in_for_a_dataset_version(
    post, monitored, django_capture_on_commit_callbacks
):
    reference = drift_run(
        django_capture_on_commit_callbacks, monitored["deployment"], frame(3000, seed=50)
    )
    post(
        "monitoring-policy-list",
        {"deployment_id": monitored["deployment"].pk, "reference_batch_id": reference.pk},
    )
    same = drift_run(
        django_capture_on_commit_callbacks, monitored["deployment"], frame(3000, seed=51)
    )
    moved = drift_run(
        django_capture_on_commit_callbacks,
        monitored["deployment"],
        frame(3000, seed=52, shift={f: 1.0 for f in ("age", "income", "debt", "tenure")}),
    )
    assert not DriftReport.objects.filter(batch=reference).exists()
    assert not DriftReport.objects.get(batch=same).dataset_drifted
    assert DriftReport.objects.get(batch=moved).drifted_features == 4
