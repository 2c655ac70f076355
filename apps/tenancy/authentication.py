"""Resolving a request to a Principal: the one place that decides which
organization a request acts for."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from apps.tenancy.models import ApiKey, Membership
from audit_platform.principal import Principal

API_KEY_PREFIX = "ak_"
# last_used_at is for people reviewing keys; minute precision spares a write per request.
_LAST_USED_PRECISION = timedelta(minutes=1)


def api_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyUser(AnonymousUser):
    """The ``request.user`` of a request authenticated by an API key: not a person."""

    @property
    def is_anonymous(self) -> bool:  # type: ignore[override]
        return False

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer ak_...``. Unknown and revoked keys get 401."""

    def authenticate(self, request: Request) -> tuple[Any, Principal] | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        key = key.strip()
        if not key.startswith(API_KEY_PREFIX):
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        api_key = (
            ApiKey.objects.select_related("organization")
            .filter(key_sha256=api_key_digest(key), revoked_at__isnull=True)
            .first()
        )
        if api_key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        now = timezone.now()
        if api_key.expires_at is not None and api_key.expires_at <= now:
            # Whoever holds the secret may learn that it expired, and when.
            ended = "its rotation's grace period ended" if api_key.replaced_by_id else "it expired"
            raise exceptions.AuthenticationFailed(
                f"This API key no longer works: {ended} at {api_key.expires_at.isoformat()}. "
                "Use its replacement, or ask an owner for a new key."
            )
        if api_key.last_used_at is None or now - api_key.last_used_at > _LAST_USED_PRECISION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return ApiKeyUser(), Principal.for_api_key(api_key=api_key)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class OrganizationSessionAuthentication(authentication.SessionAuthentication):
    """A logged-in person. Acts for the organization named in ``X-Organization``, or
    for their only organization when they belong to one."""

    def authenticate(self, request: Request) -> tuple[Any, Principal | None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        memberships = Membership.objects.select_related("organization").filter(user=user)
        wanted = request.headers.get("X-Organization", "").strip()
        if wanted:
            memberships = memberships.filter(organization__slug=wanted)
        found = list(memberships[:2])
        if len(found) != 1:
            # The principal stays unresolved; the permission check says why.
            return user, None
        membership = found[0]
        # OTPMiddleware gives the session's user is_verified(): logged in with a code.
        verified = getattr(user, "is_verified", None)
        return user, Principal.for_user(
            organization=membership.organization,
            user=user,
            role=membership.role,
            second_factor=bool(verified()) if callable(verified) else False,
        )
