"""Who is acting, for which organization, in which role.

Every service that changes state takes a ``Principal`` as its ``actor`` and puts
``principal.ledger_actor`` on the record. The ledger holds no personal data, so a
person appears by user id and role, never by name or e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from apps.ledger.types import Actor
from audit_platform.roles import ROLE_CAPABILITIES, Capability, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from apps.tenancy.models import ApiKey, Organization


@dataclass(frozen=True)
class Principal:
    organization: Organization
    role: str
    kind: str  # "user", "api_key" or "system"
    id: str
    name: str
    user: AbstractBaseUser | None = None
    api_key: ApiKey | None = None

    def can(self, capability: Capability) -> bool:
        return capability in ROLE_CAPABILITIES.get(self.role, frozenset())

    @property
    def ledger_actor(self) -> Actor:
        return Actor(kind=self.kind, id=self.id, name=self.name)

    @classmethod
    def for_user(
        cls, *, organization: Organization, user: AbstractBaseUser, role: str
    ) -> Principal:
        return cls(
            organization=organization, role=role, kind="user", id=str(user.pk), name=role, user=user
        )

    @classmethod
    def for_api_key(cls, *, api_key: ApiKey) -> Principal:
        return cls(
            organization=api_key.organization,
            role=api_key.role,
            kind="api_key",
            id=api_key.prefix,
            name=api_key.name or api_key.role,
            api_key=api_key,
        )

    @classmethod
    def system(cls, *, organization: Organization, name: str) -> Principal:
        """An operator acting through a management command or the service itself."""
        return cls(organization=organization, role=Role.OWNER, kind="system", id=name, name=name)

    @classmethod
    def on_behalf_of(cls, *, organization: Organization, actor: Actor) -> Principal:
        """A worker finishing what ``actor`` asked for (a report rendered for whoever
        requested it): the ledger attributes it to them, but it holds no capability."""
        return cls(
            organization=organization, role="", kind=actor.kind, id=actor.id, name=actor.name
        )
