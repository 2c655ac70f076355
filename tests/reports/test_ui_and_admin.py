"""Reports are listed and downloaded in the web UI and the admin too."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.tenancy.services import membership_add
from audit_platform.principal import Principal
from tests.reports.test_generation import payload_for
from tests.support import assert_nothing_written


def _member(org, email: str, role: str, **extra):
    user = get_user_model().objects.create_user(username=email, email=email, password="pw", **extra)
    membership_add(
        organization=org, email=email, role=role, actor=Principal.system(organization=org, name="t")
    )
    return user


def test_member_lists_and_downloads_in_the_ui_others_do_not(
    org, other_org, demo_system, request_report, client
):
    report = request_report(payload_for("model_card", demo_system))
    client.force_login(_member(org, "auditor@acme.example", "auditor"))
    page = client.get(reverse("reports-ui-list"))
    assert page.status_code == 200
    assert "Model card" in page.content.decode()
    pdf = client.get(reverse("reports-ui-pdf", kwargs={"pk": report["id"]}))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"

    client.force_login(_member(other_org, "someone@globex.example", "owner"))
    assert "Model card" not in client.get(reverse("reports-ui-list")).content.decode()
    with assert_nothing_written():
        pdf = client.get(reverse("reports-ui-pdf", kwargs={"pk": report["id"]}))
    assert pdf.status_code == 404


def test_admin_lists_and_downloads(org, demo_system, request_report, client):
    report = request_report(payload_for("model_card", demo_system))
    admin = get_user_model().objects.create_superuser("root", "root@example.invalid", "pw")
    client.force_login(admin)
    listing = client.get(reverse("admin:reports_report_changelist"))
    assert listing.status_code == 200
    assert reverse("admin:reports_report_pdf", args=[report["id"]]) in listing.content.decode()
    pdf = client.get(reverse("admin:reports_report_pdf", args=[report["id"]]))
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
