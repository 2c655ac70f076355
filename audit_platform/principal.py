"""Who is acting, for which organization, in which role.

Every service that changes state takes a ``Principal`` as its ``actor`` and puts
``principal.ledger_actor`` on the record. The ledger holds no personal data, so a
person appears by user id and role, never by name or e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from apps.ledger.types import Actor
from audit_platform.errors import Forbidden
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
    # The person who stands behind the action: the signed-in user, or for an API key
    # the person answerable for it (who created it). Separation of duties compares
    # these, never credentials. None for an operator (management command, worker).
    person_id: int | None = None
    # An API key limited to some AI systems carries their ids; None means all of the
    # organization's systems.
    # The AI systems (ids as text) an API key is limited to; None: all.
    system_ids: frozenset[str] | None = None
    # For a person signed in to a browser session (the pages, and the API through that
    # session): whether they logged in with their second factor. None where no session
    # is involved (API keys, operators, services called from code).
    second_factor: bool | None = None

    def can(self, capability: Capability) -> bool:
        return capability in ROLE_CAPABILITIES.get(self.role, frozenset())

    def require_second_factor(self, *, act: str) -> None:
        """Refuses ``act`` to a person whose session did not log in with a second factor."""
        if self.second_factor is False:
            raise Forbidden(
                f"{act} needs a second factor: set up an authenticator app at "
                "/account/two-factor/ (once), then log in again with the code it shows."
            )

    @property
    def in_person(self) -> bool:
        """A signed-in person acting in their session (not a key, not an operator)."""
        return self.kind == "user" and self.user is not None

    def describe_person(self) -> str:
        """How a refusal names who stands behind this actor."""
        if self.kind == "api_key":
            return f"API key {self.id}, answerable person user {self.person_id}"
        if self.kind == "user":
            return f"user {self.person_id}"
        return f"operator {self.id}"

    @property
    def ledger_actor(self) -> Actor:
        return Actor(kind=self.kind, id=self.id, name=self.name)

    @classmethod
    def for_user(
        cls,
        *,
        organization: Organization,
        user: AbstractBaseUser,
        role: str,
        second_factor: bool | None = None,
    ) -> Principal:
        return cls(
            organization=organization,
            role=role,
            kind="user",
            id=str(user.pk),
            name=role,
            user=user,
            person_id=user.pk,
            second_factor=second_factor,
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
            person_id=api_key.created_by_id,
            system_ids=frozenset(map(str, api_key.system_ids))
            if api_key.system_ids is not None
            else None,
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
