"""What every app's admin shares, and the admin site itself.

The Django admin is for operators of the installation (superusers): it shows every
organization's records at once, so a staff member of one organization must not reach
it. Members work in the web UI and the API, which are scoped to their organization.
``OperatorAdminSite`` refuses everyone but active superusers who logged in with their
second factor (a TOTP code, django-otp) on every admin page, whatever model
permissions a staff account holds: an operator sees every organization's records.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django_otp.admin import OTPAdminSite


class OperatorAdminSite(OTPAdminSite):
    """The installation's admin site: active superusers whose session logged in with a
    second factor. Anyone else, a superuser who logged in with a password only
    included, gets the admin's login page, which asks for the code, on every page, the
    report PDF downloads included (they pass through ``admin_view``). An operator sets
    up their authenticator once at /account/two-factor/."""

    site_header = "Audit-trail service: operators"
    site_title = "Operators"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        # OTPMiddleware's: whether this session logged in with a code.
        verified = getattr(user, "is_verified", None)
        return bool(user.is_active and user.is_superuser and callable(verified) and verified())


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows records and never adds, edits or deletes them: changes go through the
    services (and the API), which put each one on the ledger with its entry."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
