"""Who may call a view: the request's principal, and the capability each method needs.

Every app's API views use these (the default permission class in settings), so they
live here, beside ``Principal`` and ``Capability``, where any app may import them."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, permissions
from rest_framework.request import Request

from audit_platform.principal import Principal
from audit_platform.roles import Capability


def request_principal(request: Request) -> Principal:
    principal = request.auth
    if not isinstance(principal, Principal):
        raise exceptions.PermissionDenied(
            "This account acts for no organization here: it is a member of none, or of "
            "several (name one in the X-Organization header)."
        )
    return principal


class HasOrganizationRole(permissions.BasePermission):
    """Reads need ``view.read_capability`` (READ by default); other methods need
    ``view.write_capability`` (RECORD by default)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        principal = request_principal(request)
        if request.method in permissions.SAFE_METHODS:
            needed = getattr(view, "read_capability", Capability.READ)
        else:
            needed = getattr(view, "write_capability", Capability.RECORD)
        if not principal.can(needed):
            raise exceptions.PermissionDenied(
                f"The role '{principal.role}' may not do this (it needs '{needed}')."
            )
        return True
