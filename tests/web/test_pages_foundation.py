"""The UI's shared ground: signing in and out, the dashboard as the home page, the
organization switcher, role-aware navigation, refusals with their reason, times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.utils import timezone

from apps.web.views.base import Refused, member_required
from audit_platform.roles import Capability
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_home_sends_a_signed_out_person_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    page = client.get("/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'for="id_username"' in html and 'for="id_password"' in html


def test_a_member_logs_in_and_lands_on_the_dashboard_of_their_organization(org, make_person):
    user = make_person(org, "compliance_officer")
    client = Client()
    response = client.post(
        "/login/", {"username": user.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    html = response.content.decode()
    assert org.name in html and "Compliance officer" in html
    # Logging out is a POST, and ends at the login page.
    out = client.post("/logout/", follow=True)
    assert out.redirect_chain[-1][0] == "/login/"
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_said_on_the_form(org, make_person):
    user = make_person(org)
    response = Client().post("/login/", {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert "enter a correct" in response.content.decode().lower()


def test_an_expired_session_returns_to_login_and_then_to_the_page(org, make_person, client_as):
    user = make_person(org)
    client = client_as(user)
    client.cookies.clear()  # what an expired session looks like to the server
    response = client.get("/account/password/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/account/password/"
    back = client.post(
        response["Location"],
        {"username": user.username, "password": PASSWORD, "next": "/account/password/"},
    )
    assert back["Location"] == "/account/password/"


def test_someone_in_no_organization_is_told_so(db, django_user_model, client_as):
    user = django_user_model.objects.create_user(username="lonely", password=PASSWORD)
    response = client_as(user).get("/")
    assert response.status_code == 403
    assert "belongs to no organization" in response.content.decode()


def test_a_person_in_two_organizations_switches_between_them(
    org, other_org, make_person, client_as
):
    user = make_person(org, "auditor", email="both@example.invalid")
    make_person(other_org, "owner", email="both@example.invalid")
    client = client_as(user)
    first = client.get("/").content.decode()
    assert "Auditor" in first and 'name="organization"' in first
    switched = client.post(
        "/organization/", {"organization": other_org.pk, "next": "/"}, follow=True
    )
    html = switched.content.decode()
    assert other_org.name in re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)
    assert "Owner" in html


def test_nobody_switches_to_an_organization_they_are_not_in(org, other_org, make_person, client_as):
    client = client_as(make_person(org, "owner"))
    response = client.post("/organization/", {"organization": other_org.pk})
    assert response.status_code == 403
    assert "not a member of that organization" in response.content.decode()
    assert org.name in client.get("/").content.decode()


def _view(**kwargs):
    @member_required(**kwargs)
    def view(request):
        from django.http import HttpResponse

        return HttpResponse("done")

    return view


def test_a_role_without_the_write_capability_is_refused_with_the_reason(org, make_person):
    auditor = make_person(org, "auditor")
    request = RequestFactory().post("/somewhere")
    request.user, request.session = auditor, {}
    with pytest.raises(Refused, match=r"Auditor, may not do this: it needs the 'comply'"):
        _view(write=Capability.COMPLY)(request)
    reading = RequestFactory().get("/somewhere")
    reading.user, reading.session = auditor, {}
    assert _view(write=Capability.COMPLY)(reading).content == b"done"


def test_navigation_shows_only_what_the_role_may_use(org, make_person, client_as):
    html = client_as(make_person(org, "auditor")).get("/").content.decode()
    nav = re.search(r'<nav class="site-nav".*?</nav>', html, re.S).group(0)
    assert 'aria-current="page"' in nav and "Dashboard" in nav


def _render(source: str, **context) -> str:
    return Template("{% load web %}" + source).render(Context(context))


def test_times_read_in_utc_without_javascript_and_carry_it_on_hover():
    when = datetime(2026, 3, 1, 14, 5, 9, tzinfo=UTC)
    html = _render("{{ when|local_time }}", when=when)
    assert html == (
        '<time datetime="2026-03-01T14:05:09Z" title="2026-03-01 14:05:09 UTC" '
        'data-local-time="datetime">2026-03-01 14:05 UTC</time>'
    )
    assert ">2026-03-01</time>" in _render('{{ when|local_time:"date" }}', when=when)
    assert _render("{{ when|local_time }}", when=None) == "—"


def test_a_deadline_shows_the_time_left_or_how_long_overdue():
    soon = timezone.now() + timedelta(days=2, hours=3, minutes=1)
    assert "2 d 3 h left" in _render("{{ d|time_left }}", d=soon)
    late = timezone.now() - timedelta(hours=5, minutes=2, seconds=30)
    html = _render("{{ d|time_left }}", d=late)
    assert "overdue by 5 h 2 min" in html and 'class="countdown overdue"' in html


def test_pages_carry_no_inline_script_or_style(org, make_person, client_as):
    client = client_as(make_person(org, "owner"))
    for path in ("/", "/account/password/"):
        html = client.get(path).content.decode()
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), path
        assert "<style" not in html and " style=" not in html, path
        assert "/static/js/htmx.min.js" in html and "/static/css/web.css" in html
    for path in ("/login/", "/password-reset/"):
        html = Client().get(path).content.decode()
        assert " style=" not in html and "<style" not in html, path


def test_a_mistyped_record_in_a_link_reads_as_missing(org, make_person, client_as):
    client = client_as(make_person(org, "owner"))
    for path in ("/members/x1/remove", "/invitations/x1/revoke", "/api-keys/x1/revoke"):
        assert client.post(path).status_code == 404, path
