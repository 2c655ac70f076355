"""The Django admin is for operators of the installation (superusers) only (issue #19):
a staff member of one organization, whatever view permissions the account holds, is
refused every admin page, and so cannot read another organization's systems or
download its report PDFs there."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.registry.models import AISystem
from apps.reports.demo import demo_system_seed
from apps.reports.models import Report
from tests.factories import MembershipFactory
from tests.support import sign_in_with_second_factor


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def victims_report(org, officer, django_capture_on_commit_callbacks):
    """A system of ``org`` with a rendered Annex IV report (its signed PDF)."""
    system = demo_system_seed(organization=org, name="Victim scoring", model_versions=1, batches=0)
    with django_capture_on_commit_callbacks(execute=True):
        response = officer.post(
            reverse("report-list"), {"kind": "annex_iv", "system_id": system.pk}, format="json"
        )
    assert response.status_code == 202, response.content
    report = Report.objects.get(pk=response.json()["id"])
    assert report.status == Report.Status.SUCCEEDED and report.pdf
    return system, report


@pytest.fixture
def staff_of_other_org(other_org, client):
    """A staff account of ``other_org`` holding every view permission there is."""
    membership = MembershipFactory(organization=other_org, email="staff@globex.example")
    user = membership.user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(user)
    return client


def _admin_pages(system: AISystem, report: Report) -> list[str]:
    pages = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    pages += [
        reverse("admin:registry_aisystem_change", args=[system.pk]),
        reverse("admin:reports_report_change", args=[report.pk]),
        reverse("admin:reports_report_pdf", args=[report.pk]),
    ]
    return pages


def test_a_staff_member_with_view_permissions_is_refused_every_admin_page(
    victims_report, staff_of_other_org
):
    system, report = victims_report
    for page in _admin_pages(system, report):
        response = staff_of_other_org.get(page)
        # Refused: sent to the login page, nothing of the page itself.
        assert response.status_code == 302, page
        assert response["Location"].startswith(reverse("admin:login")), page
        assert b"Victim scoring" not in response.content
        assert response.get("Content-Type", "") != "application/pdf"
    login = staff_of_other_org.get(reverse("admin:login"))
    assert b"not authorized" in login.content


def test_an_operator_logged_in_without_a_second_factor_is_asked_for_the_code(db, client):
    root = get_user_model().objects.create_superuser("root", "root@x.example", "pw-123456")
    client.force_login(root)
    page = client.get(reverse("admin:registry_aisystem_changelist"))
    assert page.status_code == 302 and "/login/" in page["Location"]
    login = client.get(page["Location"]).content.decode()
    assert 'name="otp_token"' in login


def test_an_operator_of_the_installation_reads_the_admin(victims_report, client):
    _, report = victims_report
    root = get_user_model().objects.create_superuser("root", "root@x.example", "pw-123456")
    sign_in_with_second_factor(client, root)
    assert b"Victim scoring" in client.get(reverse("admin:registry_aisystem_changelist")).content
    pdf = client.get(reverse("admin:reports_report_pdf", args=[report.pk]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
