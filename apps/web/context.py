"""What every template of the UI can read: the member, their role's capabilities by
name (``{% if "comply" in caps %}``) and the navigation they may use.

Values are functions that the template engine calls only when a template reads them,
so pages that never do (the admin, the API docs) run no query for them."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from apps.web.navigation import NAV
from apps.web.views.base import member_of


def web(request: HttpRequest) -> dict[str, Any]:
    def caps() -> frozenset[str]:
        member = member_of(request)
        return member.capabilities if member is not None else frozenset()

    def nav() -> list[dict[str, Any]]:
        member = member_of(request)
        if member is None:
            return []
        items = []
        for item in NAV:
            if not member.can(item.capability):
                continue
            url = reverse(item.url_name)
            # The dashboard is current on itself only; an area on any page below it.
            current = request.path == url if url == "/" else request.path.startswith(url)
            items.append({"label": item.label, "url": url, "current": current})
        return items

    return {"member": lambda: member_of(request), "caps": caps, "nav": nav}
