"""Reports are listed and downloaded in the admin too (the web UI's reports page is
tested in tests/web/test_report_pages.py)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.reports.test_generation import payload_for
from tests.support import sign_in_with_second_factor


def test_admin_lists_and_downloads(org, demo_system, request_report, client):
    report = request_report(payload_for("model_card", demo_system))
    admin = get_user_model().objects.create_superuser("root", "root@example.invalid", "pw")
    sign_in_with_second_factor(client, admin)
    listing = client.get(reverse("admin:reports_report_changelist"))
    assert listing.status_code == 200
    assert reverse("admin:reports_report_pdf", args=[report["id"]]) in listing.content.decode()
    pdf = client.get(reverse("admin:reports_report_pdf", args=[report["id"]]))
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
