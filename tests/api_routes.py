"""Every route under /api/v1/, and the cases that prove tenants are isolated on it.

Each app's tests declare their routes in ``tests/<app>/isolation_cases.py``:
``CASES`` (route name -> RouteCase), ``victim(org) -> dict`` making one record of
each kind those routes address, and ``secrets(objects) -> list[str]``, texts of the
victim that must never appear in another organization's answers. The isolation test
walks them all and fails for a route that no module declares.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

DETAIL = 404


@dataclass(frozen=True)
class RouteCase:
    method: str
    kwargs: Callable[[dict[str, Any]], dict[str, Any]]
    # What a key of another organization gets: 404 for the victim's objects, or the
    # status of the same call on its own (empty) organization for collections.
    status: int
    query: dict[str, Any] = field(default_factory=dict)
    # A body that would be valid for the victim, so that only the organization differs.
    body: dict[str, Any] = field(default_factory=dict)


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


def isolation_modules() -> list[ModuleType]:
    tests_dir = Path(__file__).parent
    modules = []
    for package in pkgutil.iter_modules([str(tests_dir)]):
        if package.ispkg and (tests_dir / package.name / "isolation_cases.py").exists():
            modules.append(importlib.import_module(f"tests.{package.name}.isolation_cases"))
    return modules


def all_cases() -> dict[str, RouteCase]:
    cases: dict[str, RouteCase] = {}
    for module in isolation_modules():
        overlap = cases.keys() & module.CASES.keys()
        assert not overlap, f"routes declared twice: {overlap}"
        cases.update(module.CASES)
    return cases
