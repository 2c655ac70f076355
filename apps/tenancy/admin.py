"""Organizations, memberships and keys in the admin.

Changes that belong on the ledger (new keys, revocations, memberships) go through
the services, never through a bare model save.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.tenancy import services
from apps.tenancy.models import ApiKey, IdempotencyRecord, Invitation, Membership, Organization
from audit_platform.admin import ReadOnlyAdmin
from audit_platform.principal import Principal


def _admin_principal(request: HttpRequest, organization: Organization) -> Principal:
    return Principal.system(organization=organization, name=f"admin:{request.user.pk}")


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    readonly_fields = ["slug", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Organizations are created with their ledger by `manage.py create_org`.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["organization", "role"]


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Keys are created with `manage.py create_api_key` or the API, which show the
    secret once; here they can only be revoked."""

    list_display = [
        "prefix",
        "name",
        "organization",
        "role",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["organization", "role"]
    actions = ["revoke_keys"]

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True).select_related("organization"):
            services.api_key_revoke(
                api_key=api_key, actor=_admin_principal(request, api_key.organization)
            )
            revoked += 1
        self.message_user(request, f"Revoked {revoked} key(s).", messages.SUCCESS)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    """Answers kept for retried writes; only the API writes them
    (apps/tenancy/idempotency.py), so the admin only shows them."""

    list_display = ["key", "organization", "method", "path", "response_status", "created_at"]
    list_filter = ["organization", "method", "response_status"]
    search_fields = ["key", "path"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """Invitations are made and accepted through the API (apps/tenancy/invitations.py)."""

    list_display = ["pk", "organization", "role", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["organization", "role"]
    exclude = ["token_sha256"]
