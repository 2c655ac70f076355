"""The domain pages in a real browser (Debian's Chromium): a system's approval, its
rollback on the timeline, a report generated, downloaded and verified, the ledger
verified, an incident's countdown; axe finds no serious or critical violation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.compliance import services as compliance
from apps.registry import services as registry
from apps.reports.demo import demo_system_seed
from audit_platform.principal import Principal
from tests.factories import (
    AISystemFactory,
    ClassificationFactory,
    DeploymentFactory,
    IncidentFactory,
    ModelFactory,
    ModelVersionFactory,
)
from tests.support import answers
from tests.web.conftest import axe_violations, screenshot, sign_in


def _sign_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")


@pytest.fixture
def high_risk(org, make_person):
    """A high-risk hiring system whose production deployment serves version 1.0, which
    an engineer asked for and an officer approved; version 2.0 waits."""
    engineer = make_person(org, "ml_engineer")
    officer = make_person(org, "compliance_officer")
    system = AISystemFactory(
        organization=org,
        name="CV screening",
        intended_purpose="Ranks applications for a first interview.",
    )
    ClassificationFactory(
        system=system, answers=answers(role="provider", annex_iii_area="employment")
    )
    model = ModelFactory(system=system, name="ranker")
    v1 = ModelVersionFactory(model=model, version="1.0")
    ModelVersionFactory(model=model, version="2.0")
    deployment = DeploymentFactory(system=system)
    as_engineer = Principal.for_user(organization=org, user=engineer, role="ml_engineer")
    as_officer = Principal.for_user(organization=org, user=officer, role="compliance_officer")
    request, _ = compliance.approval_request_create(
        actor=as_engineer, deployment=deployment, model_version=v1
    )
    compliance.approval_decide(actor=as_officer, request=request, decision="approve")
    registry.deployment_activate(actor=as_engineer, deployment=deployment, model_version=v1)
    return system, engineer, officer


def test_approve_activate_and_roll_back_a_version_on_the_system_page(browser_page, high_risk):
    system, engineer, officer = high_risk
    page = browser_page
    sign_in(page, engineer)
    page.goto(f"/systems/{system.pk}/")
    page.get_by_role("link", name=re.compile("Request approval")).click()
    page.get_by_label("Model version").select_option(label="ranker 2.0")
    page.get_by_label("Why this version (optional)").fill("better recall")
    page.get_by_role("button", name="Request approval").click()
    page.wait_for_url("**/approvals/")
    assert "better recall" in page.content()
    _sign_out(page)

    # Approving takes the officer's second factor: a login with their authenticator's code.
    device = TOTPDevice.objects.create(user=officer, name="authenticator", confirmed=True)
    sign_in(page, officer, totp=device)
    page.goto("/approvals/")
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("cell", name="Approved").wait_for()

    page.goto(f"/systems/{system.pk}/")
    deployments = page.locator("#deployments")
    deployments.get_by_label("Model version").select_option(label="ranker 2.0")
    deployments.get_by_role("button", name="Activate").click()
    page.locator("#deployments").get_by_text("Serving ranker 2.0").wait_for()
    rollback = page.locator("fieldset", has_text="Roll back")
    rollback.get_by_label("Reason").fill("2.0 refuses women more often")
    rollback.get_by_label("I confirm").check()
    rollback.get_by_role("button", name="Roll back").click()
    first = page.locator("ol.timeline li").first
    first.get_by_text("Rolled back to ranker 1.0").wait_for()
    assert "2.0 refuses women more often" in first.inner_text()
    assert axe_violations(page) == []
    screenshot(page, "system")


def test_generate_an_annex_iv_report_download_it_and_verify_it(
    browser_page, org, make_person, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    system = demo_system_seed(organization=org, model_versions=2, batches=1)
    page = browser_page
    sign_in(page, make_person(org, "compliance_officer"))
    page.goto("/reports/")
    assert axe_violations(page) == []
    page.get_by_label("Kind").select_option(label="Technical documentation (Annex IV)")
    page.get_by_label("AI system").select_option(label=system.name)
    page.get_by_role("button", name="Generate").click()
    bar = page.locator("#generate progress")
    page.locator("#generate .state", has_text="succeeded").wait_for(timeout=60_000)
    assert bar.get_attribute("value") == "100"
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    pdf = tmp_path / "annex-iv.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")

    page.get_by_label("PDF to verify").set_input_files(str(pdf))
    page.get_by_role("button", name="Verify", exact=True).click()
    page.locator(".verification", has_text="Recognised.").wait_for()
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(pdf.read_bytes() + b"\n")
    page.get_by_label("PDF to verify").set_input_files(str(changed))
    page.get_by_role("button", name="Verify", exact=True).click()
    page.locator(".verification", has_text="Not recognised.").wait_for()


def test_verify_the_ledger_now_and_see_it_pass(browser_page, org, make_person):
    AISystemFactory(organization=org)
    page = browser_page
    sign_in(page, make_person(org, "auditor"))
    page.goto("/ledger/")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Verify now").click()
    page.locator("#verification .state", has_text="succeeded").wait_for(timeout=60_000)
    assert page.locator("#verification progress").get_attribute("value") == "100"


def test_an_incidents_countdown_shows_its_deadline(browser_page, org, make_person):
    system = AISystemFactory(organization=org, name="Grid balancer")
    aware = timezone.now() - timedelta(hours=3)
    incident = IncidentFactory(system=system, kind="general", became_aware_at=aware)
    page = browser_page
    sign_in(page, make_person(org, "auditor"))
    page.goto("/incidents/")
    countdown = page.locator("time[data-countdown]").first
    # Art. 73(2): fifteen days after awareness, so 14 days and 20 or 21 hours are left.
    assert countdown.get_attribute("datetime") == incident.reporting_deadline.isoformat(
        timespec="seconds"
    ).replace("+00:00", "Z")
    assert re.fullmatch(r"14 d 2[01] h left", countdown.inner_text()), countdown.inner_text()
