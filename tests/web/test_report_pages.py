"""The reports page: generate with progress, list, download, and verify a PDF by upload
with the answer in words."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.reports.demo import demo_system_seed
from apps.reports.models import Report
from tests.support import assert_nothing_written

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return demo_system_seed(organization=org, model_versions=2, batches=1)


def _generate(client, version, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse("web:report-generate"),
            {"kind": "model_card", "model_version_id": str(version.pk)},
            HTTP_HX_REQUEST="true",
        )


def test_generate_download_and_verify_a_report(
    org, demo, make_person, client_as, django_capture_on_commit_callbacks
):
    client = client_as(make_person(org, "ml_engineer"))
    version = demo.models.get().versions.order_by("created_at").last()
    started = _generate(client, version, django_capture_on_commit_callbacks)
    assert started.status_code == 200
    report = Report.objects.get(organization=org)
    progress = client.get(reverse("web:report-progress", args=[report.pk]), HTTP_HX_REQUEST="true")
    html = progress.content.decode()
    assert "succeeded" in html and 'value="100"' in html and "hx-trigger" not in html
    assert reverse("web:report-pdf", args=[report.pk]) in html

    listing = client.get(reverse("web:reports")).content.decode()
    assert "Model card" in listing and reverse("web:report-pdf", args=[report.pk]) in listing
    pdf = b"".join(client.get(reverse("web:report-pdf", args=[report.pk])).streaming_content)
    assert pdf.startswith(b"%PDF-")

    ours = client.post(
        reverse("web:report-verify"), {"file": SimpleUploadedFile("r.pdf", pdf)}
    ).content.decode()
    assert "Recognised." in ours and f"report #{report.pk}" in ours
    changed = pdf.replace(b"%%EOF", b"%%EOF ", 1)
    theirs = client.post(
        reverse("web:report-verify"), {"file": SimpleUploadedFile("r.pdf", changed)}
    ).content.decode()
    assert "Not recognised." in theirs and "at least one byte of it was changed" in theirs


def test_a_report_request_missing_what_it_is_about_says_so_beside_the_field(
    org, demo, make_person, client_as
):
    client = client_as(make_person(org, "ml_engineer"))
    with assert_nothing_written():
        refused = client.post(reverse("web:report-generate"), {"kind": "model_card"})
    assert refused.status_code == 400
    assert 'id="id_model_version_id_error"' in refused.content.decode()


def test_an_auditor_cannot_generate_and_another_organization_cannot_download(
    org, other_org, demo, make_person, client_as, django_capture_on_commit_callbacks
):
    version = demo.models.get().versions.order_by("created_at").last()
    _generate(
        client_as(make_person(org, "ml_engineer")), version, django_capture_on_commit_callbacks
    )
    report = Report.objects.get(organization=org)
    auditor = client_as(make_person(org, "auditor"))
    assert "Generate</button>" not in auditor.get(reverse("web:reports")).content.decode()
    with assert_nothing_written():
        assert (
            auditor.post(reverse("web:report-generate"), {"kind": "model_card"}).status_code == 403
        )
    stranger = client_as(make_person(other_org, "owner"))
    pdf_url = reverse("web:report-pdf", args=[report.pk])
    assert pdf_url in auditor.get(reverse("web:reports")).content.decode()
    assert pdf_url not in stranger.get(reverse("web:reports")).content.decode()
    assert stranger.get(reverse("web:report-pdf", args=[report.pk])).status_code == 404
