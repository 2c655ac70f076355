"""Accounts in pages: the second factor (TOTP) and what needs it, lock-out after failed
logins, invitations, members and API keys."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.tenancy.models import ApiKey
from audit_platform.principal import Principal
from tests.factories import AISystemFactory, IncidentFactory
from tests.support import assert_nothing_written
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _code(device: TOTPDevice) -> str:
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    return f"{token:0{device.digits}d}"


def _device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def _login(client: Client, user, **extra):
    return client.post("/login/", {"username": user.username, "password": PASSWORD, **extra})


def _field_errors(html: str, field: str) -> list[str]:
    return re.findall(rf'<p class="field-error" id="id_{field}_error">(.*?)</p>', html)


def test_an_account_with_an_authenticator_logs_in_only_with_its_code(org, make_person, settings):
    # django-otp makes a device wait after a wrong code; this test types the right one
    # at once.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user = make_person(org, "compliance_officer")
    device = _device(user)
    client = Client()
    missing = _login(client, user)
    assert missing.status_code == 200
    assert _field_errors(missing.content.decode(), "code") == [
        "Your account has an authenticator: type the code it shows."
    ]
    wrong = _login(client, user, code="000000" if _code(device) != "000000" else "111111")
    assert "Wrong or expired code" in _field_errors(wrong.content.decode(), "code")[0]
    assert client.get("/").status_code == 302
    right = _login(client, user, code=_code(device))
    assert right.status_code == 302
    assert client.get("/").status_code == 200


def test_setting_up_an_authenticator_takes_a_code_from_it(org, make_person, client_as):
    user = make_person(org, "owner")
    client = client_as(user)
    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    html = page.content.decode()
    assert "<svg" in html and 'id="totp-secret"' in html
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    bad = client.post("/account/two-factor/", {"code": "12"})
    assert _field_errors(bad.content.decode(), "code")
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    done = client.post("/account/two-factor/", {"code": _code(device)})
    assert done.status_code == 302
    assert TOTPDevice.objects.get(user=user).confirmed
    # From now on the login asks for it.
    assert _field_errors(_login(Client(), user).content.decode(), "code")


def test_closing_an_incident_in_a_session_without_second_factor_is_refused(
    org, make_person, client_as
):
    officer = make_person(org, "compliance_officer")
    system = AISystemFactory(organization=org)
    incident = IncidentFactory(system=system)
    client = client_as(officer)
    with assert_nothing_written():
        response = client.post(
            reverse("incident-close", kwargs={"pk": incident.pk}),
            {},
            content_type="application/json",
        )
    assert response.status_code == 403
    assert "needs a second factor" in response.json()["error"]["message"]


def test_the_services_refuse_a_person_who_skipped_the_second_factor(org, make_person):
    officer = make_person(org, "compliance_officer")
    incident = IncidentFactory(system=AISystemFactory(organization=org))
    from apps.compliance import services as compliance
    from audit_platform.errors import Forbidden

    actor = Principal.for_user(
        organization=org, user=officer, role="compliance_officer", second_factor=False
    )
    with pytest.raises(Forbidden, match="Closing an incident needs a second factor"):
        compliance.incident_close(actor=actor, incident=incident)


def test_failed_logins_lock_the_account_out_from_that_address(org, make_person):
    user = make_person(org)
    client = Client()
    for _ in range(4):
        assert (
            client.post("/login/", {"username": user.username, "password": "bad"}).status_code
            == 200
        )
    fifth = client.post("/login/", {"username": user.username, "password": "bad"})
    assert fifth.status_code == 429
    locked = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert client.get("/").status_code == 302
    # Another person is not locked out by it.
    other = make_person(org, "auditor")
    assert _login(Client(), other).status_code == 302


def test_an_invited_person_sets_a_password_and_then_an_authenticator(
    org, make_person, client_as, django_capture_on_commit_callbacks
):
    owner = make_person(org, "owner")
    owner_client = client_as(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            "/members/", {"email": "new@example.invalid", "role": "compliance_officer"}
        )
    assert response.status_code == 302
    link = re.search(r"\?token=(\S+)", mail.outbox[-1].body)
    token = link.group(1)
    newcomer = Client()
    page = newcomer.get(f"/invitations/accept?token={token}")
    assert page.status_code == 200 and org.name in page.content.decode()
    mismatch = newcomer.post(
        "/invitations/accept",
        {"token": token, "password1": "a good long password 1", "password2": "other one 2"},
    )
    assert _field_errors(mismatch.content.decode(), "password2")
    weak = newcomer.post(
        "/invitations/accept", {"token": token, "password1": "123", "password2": "123"}
    )
    assert _field_errors(weak.content.decode(), "password1")
    accepted = newcomer.post(
        "/invitations/accept",
        {"token": token, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert accepted["Location"] == "/account/two-factor/"
    assert newcomer.get("/").status_code == 200
    # The link works once.
    again = Client().get(f"/invitations/accept?token={token}")
    assert again.status_code == 404 and "does not work" in again.content.decode()


def test_an_auditor_sees_members_but_no_way_to_change_them(org, make_person, client_as):
    make_person(org, "owner")
    client = client_as(make_person(org, "auditor"))
    html = client.get("/members/").content.decode()
    assert "owner@acme.example.invalid" in html
    assert "<form" not in html.split("<main", 1)[1].split("</main>")[0] or "Remove" not in html
    with assert_nothing_written():
        response = client.post("/members/", {"email": "x@example.invalid", "role": "owner"})
    assert response.status_code == 403
    assert "may not do this" in response.content.decode()
    assert client.get("/api-keys/").status_code == 403


def test_a_new_api_key_is_shown_once_and_never_cached(org, make_person, client_as):
    client = client_as(make_person(org, "owner"))
    bad = client.post("/api-keys/", {"name": "", "role": "pipeline"})
    assert bad.status_code == 400
    assert _field_errors(bad.content.decode(), "name")
    created = client.post("/api-keys/", {"name": "training pipeline", "role": "pipeline"})
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    secret = re.search(r'id="new-api-key">(ak_[^<]+)<', created.content.decode()).group(1)
    key = ApiKey.objects.get(organization=org, name="training pipeline")
    assert secret.startswith("ak_") and key.prefix in secret
    listing = client.get("/api-keys/").content.decode()
    assert secret not in listing and key.prefix in listing
    revoked = client.post(f"/api-keys/{key.pk}/revoke", follow=True)
    assert "is revoked" in revoked.content.decode()


def test_a_forgotten_password_is_reset_through_a_one_time_link(org, make_person):
    user = make_person(org)
    client = Client()
    sent = client.post("/password-reset/", {"email": user.email})
    assert sent["Location"] == "/password-reset/sent/"
    link = re.search(r"http://testserver(/password-reset/\S+/\S+/)", mail.outbox[-1].body).group(1)
    form = client.get(link, follow=True)
    url = form.redirect_chain[-1][0]
    short = client.post(url, {"new_password1": "short", "new_password2": "short"})
    assert _field_errors(short.content.decode(), "new_password2")
    new = "another long password, 43 characters or so"
    done = client.post(url, {"new_password1": new, "new_password2": new})
    assert done["Location"] == "/password-reset/done/"
    assert _login(Client(), user, password=new).status_code == 302
    # The link works once.
    assert "has been used or has expired" in Client().get(link, follow=True).content.decode()


def test_a_signed_in_person_changes_their_password(org, make_person, client_as):
    user = make_person(org)
    client = client_as(user)
    wrong = client.post(
        "/account/password/",
        {"old_password": "nope", "new_password1": "x" * 20, "new_password2": "x" * 20},
    )
    assert _field_errors(wrong.content.decode(), "old_password")
    new = "another long password, 43 characters or so"
    done = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert done["Location"] == "/account/password/done/"
    assert client.get("/").status_code == 200  # this session stays signed in
