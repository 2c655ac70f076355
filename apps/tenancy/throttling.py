"""Rate limits per API key or per person, not per IP address."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from audit_platform.principal import Principal


class PrincipalRateThrottle(SimpleRateThrottle):
    scope = "principal"

    def get_cache_key(self, request: Request, view: Any) -> str:
        principal = request.auth
        if isinstance(principal, Principal):
            ident = f"{principal.kind}:{principal.id}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
