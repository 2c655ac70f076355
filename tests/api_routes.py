"""Every route under /api/v1/, for tests that must cover all of them."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver


def api_v1_route_names() -> set[str]:
    """Names of all routes under api/v1/, read from the URL configuration itself."""
    names: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                names.add(pattern.name)

    walk(get_resolver().url_patterns, "")
    return names
