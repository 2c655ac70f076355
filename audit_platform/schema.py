"""OpenAPI generation. Kept apart from audit_platform.api, which DRF imports while
its own generics module is still loading."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema


class Schema(AutoSchema):
    """Knows our list views (``list_view = True`` on the view), so their GET is
    documented as a paginated list, not a retrieve."""

    def _is_list_view(self, serializer: Any = None) -> bool:
        if getattr(self.view, "list_view", False) and self.method == "GET":
            return True
        return super()._is_list_view(serializer)
