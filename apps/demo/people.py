"""The demo's people: one per role, so that separation of duties can be tried (the
engineer asks, the officer approves), with passwords printed once and, where the role
needs a second factor, a TOTP device whose secret the summary shows."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.tenancy import services as tenancy
from apps.tenancy.second_factor import role_needs_second_factor
from audit_platform.principal import Principal

# A fixed secret, shown in the summary: these are demo logins on a loopback service,
# and a reader must be able to add them to an authenticator app from the printout.
DEMO_TOTP_SECRET_HEX = "3132333435363738393031323334353637383930"
PEOPLE = (
    ("owner", "Olivia Owner", "owner@nordbank.example"),
    ("ml_engineer", "Max Engineer", "engineer@nordbank.example"),
    ("compliance_officer", "Clara Officer", "officer@nordbank.example"),
    ("auditor", "Aron Auditor", "auditor@nordbank.example"),
)


@dataclass(frozen=True)
class Person:
    role: str
    name: str
    email: str
    user: Any
    password: str | None  # set only when it was just chosen

    def acting(self, *, organization: Any) -> Principal:
        """The person signed in (with the second factor where the role has one)."""
        return Principal.for_user(
            organization=organization,
            user=self.user,
            role=self.role,
            second_factor=True if self.has_totp else None,
        )

    @property
    def has_totp(self) -> bool:
        return role_needs_second_factor(role=self.role)


def people_join(*, organization: Any, actor: Principal) -> dict[str, Person]:
    """Makes each demo person a member with a new random password and, for the roles
    that decide approvals, a confirmed TOTP device."""
    people = {}
    for role, name, email in PEOPLE:
        membership, _ = tenancy.membership_add(
            organization=organization, email=email, role=role, actor=actor
        )
        user = membership.user
        first, last = name.split(" ")
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])
        person = Person(role=role, name=name, email=email, user=user, password=None)
        people[role] = _with_new_password(person)
        if person.has_totp:
            TOTPDevice.objects.create(
                user=user, name="demo", key=DEMO_TOTP_SECRET_HEX, confirmed=True
            )
    return people


def people_of(*, organization: Any) -> dict[str, Person]:
    """The demo people of an existing demo organization (passwords not known)."""
    users = {u.email: u for u in get_user_model().objects.filter(email__in=[p[2] for p in PEOPLE])}
    return {
        role: Person(role=role, name=name, email=email, user=users[email], password=None)
        for role, name, email in PEOPLE
        if email in users and users[email].memberships.filter(organization=organization).exists()
    }


def passwords_renew(*, people: dict[str, Person]) -> dict[str, Person]:
    return {role: _with_new_password(person) for role, person in people.items()}


def _with_new_password(person: Person) -> Person:
    password = secrets.token_urlsafe(9)
    person.user.set_password(password)
    person.user.save(update_fields=["password"])
    return Person(
        role=person.role, name=person.name, email=person.email, user=person.user, password=password
    )


def totp_secret_base32() -> str:
    """The demo secret as an authenticator app takes it."""
    return base64.b32encode(bytes.fromhex(DEMO_TOTP_SECRET_HEX)).decode()


def totp_code_now() -> str:
    totp = TOTP(bytes.fromhex(DEMO_TOTP_SECRET_HEX), step=30, digits=6)
    return f"{totp.token():06d}"
