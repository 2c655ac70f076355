"""Extension points of tenancy: questions that apps above it answer at start-up.

An API key may be limited to some AI systems, but AI systems are the registry's and
tenancy sits below it (docs/extension-points.md): the registry registers here how to
tell which of a list of ids are systems of an organization.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class SystemIdsOfOrganization(Protocol):
    def __call__(self, *, organization: Any, system_ids: Iterable[str]) -> set[str]:
        """The ids among ``system_ids`` that are AI systems of ``organization``."""


_system_resolvers: list[SystemIdsOfOrganization] = []


def system_ids_resolver_register(resolver: SystemIdsOfOrganization) -> None:
    """Sets the resolver; registering the same one twice keeps one."""
    if resolver not in _system_resolvers:
        _system_resolvers.append(resolver)


def system_ids_unknown(*, organization: Any, system_ids: Iterable[str]) -> list[str]:
    """The ids among ``system_ids`` that are not AI systems of ``organization``, in
    order. With no resolver registered every id is unknown: a scope nobody can check
    is refused, never silently allowed."""
    wanted = sorted(set(system_ids))
    known: set[str] = set()
    for resolver in _system_resolvers:
        known |= resolver(organization=organization, system_ids=wanted)
    return [system_id for system_id in wanted if system_id not in known]
