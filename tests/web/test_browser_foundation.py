"""The browser harness itself, on the pages every person sees first."""

from __future__ import annotations

from tests.web.conftest import axe_violations, sign_in


def test_a_member_signs_in_in_the_browser_and_sees_their_dashboard(browser_page, org, make_person):
    user = make_person(org, "compliance_officer")
    browser_page.goto("/")
    assert browser_page.url.endswith("/login/")
    assert axe_violations(browser_page) == []
    sign_in(browser_page, user)
    assert browser_page.get_by_role("heading", level=1).inner_text() == org.name
    assert axe_violations(browser_page) == []
    browser_page.get_by_role("button", name="Log out").click()
    browser_page.wait_for_url("**/login/")
