"""The home page: the dashboard for a signed-in person, the login page otherwise."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.web.views.base import member_of


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        # No ?next= for the home page itself: after logging in, people land here anyway.
        return redirect_to_login("", login_url="web:login", redirect_field_name="")
    member = member_of(request)
    if member is None:
        return render(request, "web/no_organization.html", status=403)
    return render(request, "web/dashboard.html", {})
