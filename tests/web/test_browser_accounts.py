"""In a real browser: logging in with an authenticator's code, the dashboard's
accessibility and its screenshot, and an auditor who can change nothing."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.tenancy.models import Invitation
from tests.factories import AISystemFactory, ClassificationFactory, IncidentFactory
from tests.web.conftest import axe_violations, screenshot, sign_in


# Ids from 1, whatever ran before: the screenshot shows them.
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_an_officer_logs_in_with_a_totp_code_and_reads_the_dashboard(
    browser_page, org, make_person
):
    officer = make_person(org, "compliance_officer")
    device = TOTPDevice.objects.create(user=officer, name="authenticator", confirmed=True)
    for name in ("Credit scoring", "Fraud detection"):
        system = AISystemFactory(organization=org, name=name)
        ClassificationFactory(system=system)
    IncidentFactory(system=system)
    AISystemFactory(organization=org, name="Chat assistant")

    page = browser_page
    sign_in(page, officer)  # no code: refused, next to the field
    assert page.url.endswith("/login/")
    assert "type the code it shows" in page.locator("#id_code_error").inner_text()
    sign_in(page, officer, totp=device)
    assert page.get_by_role("heading", level=1).inner_text() == org.name
    incidents = page.locator("section", has=page.locator("#incidents-heading"))
    assert "left" in incidents.locator("time[data-countdown]").first.inner_text()
    # Times read in the viewer's zone once the script ran (Berlin in these tests).
    assert "UTC" not in page.locator("time[data-local-time]").first.inner_text()
    assert axe_violations(page) == []
    screenshot(page, "dashboard")


def test_an_auditor_sees_no_write_action_and_a_hand_made_post_is_refused(
    browser_page, org, make_person
):
    make_person(org, "owner")
    auditor = make_person(org, "auditor")
    page = browser_page
    sign_in(page, auditor)
    page.goto("/members/")
    main = page.locator("main")
    assert main.get_by_role("button").count() == 0
    assert page.get_by_role("navigation", name="Main").get_by_text("API keys").count() == 0
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        "/members/",
        form={"email": "mallory@example.invalid", "role": "owner"},
        headers={"X-CSRFToken": token, "Referer": page.url},
    )
    assert response.status == 403
    assert "may not do this" in response.text()
    assert not Invitation.objects.filter(email="mallory@example.invalid").exists()
