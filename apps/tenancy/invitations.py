"""Inviting people into an organization: the only way a person joins one.

An owner invites an e-mail address to a role; the address gets a one-time link
through Django's mail backend (the token's SHA-256 alone is stored). The invited
person accepts it: setting a password when no account of that address exists, or
signed in to that account when one does. The owner's answer is the same, byte for
byte in shape, whether an account of that address exists or not: it echoes the
address as the owner typed it and says nothing about accounts. Each change goes on
the organization's ledger in its transaction; the ledger holds no e-mail address.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.ledger.types import Receipt
from apps.tenancy import events
from apps.tenancy.models import Invitation, Membership, Organization
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import Forbidden, InvalidInput, RuleViolation
from audit_platform.principal import Principal
from audit_platform.roles import MEMBER_ROLES

_UNUSABLE_LINK = (
    "This invitation link is unknown, used, revoked or expired: ask the organization's "
    "owner for a new invitation."
)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _send(invitation: Invitation, token: str) -> None:
    link = f"{settings.INVITATION_ACCEPT_URL}?token={token}"
    send_mail(
        subject=f"Invitation to {invitation.organization.name}",
        message=(
            f"You are invited to {invitation.organization.name} as "
            f"{invitation.get_role_display()} on the audit-trail service.\n\n"
            f"Accept the invitation (once, before {invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n"
            f"{link}\n\nIf you did not expect this, ignore this message."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )


def invitation_create(
    *, organization: Organization, email: str, role: str, actor: Principal
) -> tuple[Invitation, Receipt]:
    """Invites ``email`` to ``role`` and sends the one-time link once the transaction
    commits. Nothing in the answer depends on whether an account of that address
    exists."""
    if role not in MEMBER_ROLES:
        raise InvalidInput(
            f"{role!r} is not a role a person can hold; use one of {', '.join(MEMBER_ROLES)}.",
            fields={"role": ["Invalid role."]},
        )
    email = email.strip()
    now = timezone.now()
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=organization.pk)
        if Membership.objects.filter(organization=organization, user__email__iexact=email):
            raise RuleViolation(f"{email} is a member of this organization already.")
        if Invitation.objects.filter(
            organization=organization,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).exists():
            raise RuleViolation(
                f"An invitation to {email} is open already: revoke it to send a new one."
            )
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            role=role,
            token_sha256=_token_digest(token),
            expires_at=now + timedelta(hours=settings.INVITATION_TTL_HOURS),
            invited_by_id=actor.person_id,
        )
        receipt = record_event(
            actor=actor,
            event=events.INVITATION_CREATED,
            id=invitation.pk,
            data={
                "role": role,
                "expires_at": invitation.expires_at.isoformat(),
                "invited_by_user_id": None if actor.person_id is None else str(actor.person_id),
            },
        )
        transaction.on_commit(lambda: _send(invitation, token))
    return invitation, receipt


def invitation_revoke(*, invitation: Invitation, actor: Principal) -> Receipt:
    with transaction.atomic():
        revoked = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if not revoked:
            raise RuleViolation(f"Invitation {invitation.pk} is accepted or revoked already.")
        return record_event(actor=actor, event=events.INVITATION_REVOKED, id=invitation.pk, data={})


def _account_for(invitation: Invitation, *, user: Any, password: str | None) -> Any:
    """The account that accepts: the signed-in one (of the invited address), or a new
    one with ``password`` when no account of that address exists."""
    user_model = get_user_model()
    if user is not None and user.is_authenticated:
        if (user.email or "").lower() != invitation.email.lower():
            raise Forbidden(
                "You are signed in to another account than the invited address: sign out, "
                "or sign in to the invited address's account, and accept again."
            )
        return user
    if user_model.objects.filter(email__iexact=invitation.email).exists():
        raise Forbidden("An account of the invited address exists: sign in to it and accept again.")
    if not password:
        raise InvalidInput(
            "Choose a password for your new account.", fields={"password": ["Required."]}
        )
    account = user_model(username=invitation.email, email=invitation.email)
    try:
        validate_password(password, user=account)
    except ValidationError as exc:
        raise InvalidInput(
            "Choose a stronger password: " + " ".join(exc.messages),
            fields={"password": exc.messages},
        ) from None
    account.set_password(password)
    account.save()
    return account


def invitation_accept(
    *, token: str, user: Any = None, password: str | None = None
) -> tuple[Membership, Receipt]:
    """Accepts the invitation whose link carries ``token``: the person becomes a member
    with the invited role. Once only, before it expires."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("organization")
            .filter(token_sha256=_token_digest(token or ""))
            .first()
        )
        if (
            invitation is None
            or invitation.accepted_at is not None
            or invitation.revoked_at is not None
            or invitation.expires_at <= timezone.now()
        ):
            raise InvalidInput(_UNUSABLE_LINK, fields={"token": ["Unusable."]})
        account = _account_for(invitation, user=user, password=password)
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    user=account, organization=invitation.organization, role=invitation.role
                )
        except IntegrityError:
            raise RuleViolation("You are a member of this organization already.") from None
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = account
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        actor = Principal.for_user(
            organization=invitation.organization, user=account, role=invitation.role
        )
        receipt = record_event(
            actor=actor,
            event=events.INVITATION_ACCEPTED,
            id=invitation.pk,
            data={
                "user_id": str(account.pk),
                "role": invitation.role,
                "membership": record_ref("membership", membership),
            },
        )
    return membership, receipt


def invitation_usable(*, token: str) -> Invitation | None:
    """The invitation this link's token opens, while it can still be accepted."""
    if not token:
        return None
    return (
        Invitation.objects.select_related("organization")
        .filter(
            token_sha256=_token_digest(token),
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


def invitations_open(*, organization: Organization) -> Any:
    """The organization's invitations not yet accepted, revoked or expired."""
    return Invitation.objects.filter(
        organization=organization,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).order_by("email")
