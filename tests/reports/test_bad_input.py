"""Requests the service refuses, and failures that leave a failed record with its
reason and no PDF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.ledger.models import Entry
from apps.reports import services
from apps.reports.models import Report
from apps.reports.tasks import report_generate_task
from apps.tasks.models import TaskRecord
from tests.support import assert_nothing_written


def test_unknown_system_is_404(request_report, demo_system):
    body = request_report({"kind": "annex_iv", "system_id": 999_999}, status=404)
    assert body["error"]["code"] == "not_found"


def test_system_of_another_organization_is_404(request_report, other_org):
    from apps.reports.demo import demo_system_seed

    theirs = demo_system_seed(organization=other_org, model_versions=1, batches=0)
    request_report({"kind": "annex_iv", "system_id": theirs.pk}, status=404)
    request_report(
        {"kind": "model_card", "model_version_id": theirs.models.get().versions.get().pk},
        status=404,
    )
    assert not Report.objects.exists()


def test_empty_or_backwards_range_is_400(request_report, demo_system):
    now = timezone.now()
    body = request_report(
        {
            "kind": "audit_trail",
            "system_id": demo_system.pk,
            "time_from": (now - timedelta(days=30)).isoformat(),
            "time_to": (now - timedelta(days=29)).isoformat(),
        },
        status=400,
    )
    assert "No ledger entry falls in this range" in body["error"]["message"]
    body = request_report(
        {
            "kind": "post_market_monitoring",
            "system_id": demo_system.pk,
            "time_from": now.isoformat(),
            "time_to": now.isoformat(),
        },
        status=400,
    )
    assert "empty" in body["error"]["message"]
    request_report({"kind": "audit_trail"}, status=400)  # no range at all
    assert not Report.objects.exists()


def test_missing_subject_is_400(request_report):
    request_report({"kind": "annex_iv"}, status=400)
    request_report({"kind": "model_card"}, status=400)
    request_report({"kind": "annex_iv", "system_id": 1, "colour": "red"}, status=400)


def test_roles(request_report, demo_system, client_for, org):
    auditor = client_for(org, "auditor")
    request_report({"kind": "annex_iv", "system_id": demo_system.pk}, status=403, client=auditor)
    pipeline = client_for(org, "pipeline")
    # A declaration of conformity is the provider's statement: compliance only.
    request_report(
        {"kind": "declaration_of_conformity", "system_id": demo_system.pk},
        status=403,
        client=pipeline,
    )
    assert not Report.objects.exists()
    # Auditors read and verify.
    assert auditor.get(reverse("report-list")).status_code == 200
    answer = auditor.post(reverse("report-verify"), {"sha256": "ab" * 32}, format="json")
    assert answer.status_code == 200 and answer.json()["known"] is False
    assert (
        pipeline.post(reverse("report-verify"), {"sha256": "ab" * 32}, format="json").status_code
        == 403
    )


def test_a_failing_render_leaves_a_failed_record_with_reason_and_no_pdf(
    request_report, demo_system, monkeypatch, officer, org
):
    def explode(**kwargs):
        raise ValueError("the template exploded")

    monkeypatch.setattr(services.rendering, "pdf_render", explode)
    report = request_report({"kind": "annex_iv", "system_id": demo_system.pk})
    assert report["status"] == "failed"
    assert "the template exploded" in report["failure_reason"]
    assert report["sha256"] == "" and report["pdf_url"] is None
    assert not Report.objects.get(pk=report["id"]).pdf
    task = TaskRecord.objects.get(pk=report["task"])
    assert task.state == "failed" and "the template exploded" in task.message
    assert Entry.objects.filter(log__organization=org, type="report.failed").count() == 1
    with assert_nothing_written():
        download = officer.get(reverse("report-download", kwargs={"pk": report["id"]}))
    assert download.status_code == 409


def test_running_the_task_twice_generates_once(request_report, demo_system, org):
    report = request_report(
        {"kind": "model_card", "model_version_id": (demo_system.models.get().versions.first().pk)}
    )
    assert report["status"] == "succeeded"
    report_generate_task.apply(args=[report["id"]])
    assert Entry.objects.filter(log__organization=org, type="report.generated").count() == 1
    assert Report.objects.get(pk=report["id"]).sha256 == report["sha256"]


@pytest.mark.parametrize("status", ["queued", "running"])
def test_download_before_generation_is_409(status, org, officer, demo_system):
    from audit_platform.principal import Principal

    actor = Principal.system(organization=org, name="tests")
    report, _ = services.report_request(actor=actor, kind="annex_iv", system=demo_system)
    Report.objects.filter(pk=report.pk).update(status=status)
    with assert_nothing_written():
        response = officer.get(reverse("report-download", kwargs={"pk": report.pk}))
    assert response.status_code == 409
