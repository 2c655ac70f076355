"""What the web UI's tests share: people who can sign in, a Django test client signed in
as one of them, and a real browser (Debian's Chromium through Playwright, headless)
against a live server on the test database.

Browser tests take ``browser_page`` (a fresh page whose relative URLs go to the live
server) and sign in with ``sign_in(page, user)``; ``axe_violations(page)`` runs axe-core
in the page and returns its serious and critical findings; ``screenshot(page, name)``
writes docs/screenshots/<name>.png for reviewers. A page that breaks the
Content-Security-Policy (an inline script or style) fails the test that loaded it.

Playwright's synchronous API runs an event loop in the test's thread while a browser is
open, which Django's ORM takes for an async context; the browser fixtures allow the ORM
there for their duration only, and close the browser with the module so that the rest
of the suite runs without that loop.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.factories import MembershipFactory
from tests.support import require_service, sign_in_with_second_factor

PASSWORD = "a long test password, 42 characters or so"
CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parent / "axe.min.js"  # axe-core 4.14.1, npm registry
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 860}


# --- People ---------------------------------------------------------------------------


@pytest.fixture
def make_person(db):
    """``make_person(org, "auditor")``: a member of ``org`` in that role whose password
    is PASSWORD (the same person again when ``email`` names an existing one)."""

    def make(organization: Any, role: str = "compliance_officer", *, email: str | None = None):
        email = email or f"{role.replace('_', '-')}@{organization.slug}.example.invalid"
        user = MembershipFactory(organization=organization, email=email, role=role).user
        if not user.has_usable_password():
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        return user

    return make


@pytest.fixture
def client_as(db):
    """``client_as(user, second_factor=False)``: a Django test client signed in as
    ``user``; with ``second_factor`` as a login with their authenticator's code is
    (deciding approvals and closing incidents take it)."""

    def make(user: Any, *, second_factor: bool = False) -> Client:
        client = Client()
        if second_factor:
            sign_in_with_second_factor(client, user)
        else:
            client.force_login(user)
        return client

    return make


# --- The browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def _browser() -> Iterator[Any]:
    require_service("Chromium", os.path.exists(CHROMIUM), f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            # Never a downloaded browser: Debian's Chromium, which CI installs.
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_page(_browser, live_server, postgres) -> Iterator[Any]:
    """A fresh page (its own cookies) whose relative URLs go to the live server. The
    test fails if the page broke the Content-Security-Policy or a script threw."""
    context = _browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/Berlin"
    )
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert not problems, problems


def sign_in(page: Any, user: Any, *, totp: Any = None, password: str = PASSWORD) -> None:
    """Logs ``user`` in through the login page; ``totp`` is their TOTP device, whose
    current code goes in the second-factor field. Waits until the page after login."""
    page.goto("/login/")
    page.get_by_label("E-mail or user name").fill(user.get_username())
    page.get_by_label("Password", exact=True).fill(password)
    if totp is not None:
        from django_otp.oath import TOTP

        code = TOTP(totp.bin_key, totp.step, totp.t0, totp.digits, totp.drift).token()
        page.get_by_label("Authentication code").fill(f"{code:0{totp.digits}d}")
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


def axe_violations(page: Any, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list:
    """axe-core's violations of the page as it is now, of the given impacts: each
    ``{"id", "impact", "help", "nodes": [selectors]}``."""
    # Playwright evaluates in the page through the DevTools protocol, which the page's
    # Content-Security-Policy does not govern (an added <script> tag would be refused).
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]],
        }
        for violation in result["violations"]
        if violation["impact"] in impacts
    ]


def screenshot(page: Any, name: str) -> Path:
    """Writes the whole page to docs/screenshots/<name>.png and returns the path. Times,
    countdowns and digests differ from run to run: they are masked, so that the file
    changes only when the page's layout or wording does."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(
        path=str(path),
        full_page=True,
        animations="disabled",
        mask=[page.locator("time"), page.locator(".digest")],
        mask_color="#d5d9e0",
    )
    return path


@pytest.fixture
def signed_in_page(browser_page) -> Callable[..., Any]:
    """``signed_in_page(user, totp=None)``: the browser page, signed in as ``user``."""

    def make(user: Any, *, totp: Any = None) -> Any:
        sign_in(browser_page, user, totp=totp)
        return browser_page

    return make
