"""Creating organizations, memberships and API keys. Each change goes on the
organization's ledger in the same transaction. Also the purge of expired
``Idempotency-Key`` answers, which are working data, not part of the record."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.ledger import services as ledger
from apps.ledger.types import Receipt
from apps.tenancy import events
from apps.tenancy.authentication import API_KEY_PREFIX, api_key_digest
from apps.tenancy.models import (
    ApiKey,
    IdempotencyRecord,
    Membership,
    Organization,
    slug_validator,
)
from apps.tenancy.records import record_event
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal
from audit_platform.roles import MEMBER_ROLES, Role


def organization_create(*, slug: str, name: str, actor_name: str = "create_org") -> Organization:
    """Creates a tenant and its ledger; the first entry records the creation and the
    verifier key that signs the log."""
    try:
        slug_validator(slug)
    except ValidationError as exc:
        raise InvalidInput(
            f"Invalid slug {slug!r}: {exc.messages[0]}", fields={"slug": exc.messages}
        ) from None
    if not name.strip():
        raise InvalidInput("The organization needs a name.", fields={"name": ["Required."]})
    with transaction.atomic():
        if Organization.objects.filter(slug=slug).exists():
            raise RuleViolation(f"An organization with slug {slug!r} already exists.")
        organization = Organization.objects.create(slug=slug, name=name.strip())
        log = ledger.log_create(organization=organization)
        record_event(
            actor=Principal.system(organization=organization, name=actor_name),
            event=events.ORGANIZATION_CREATED,
            id=slug,
            data={"slug": slug, "name": organization.name, "vkey": log.signing_keys.get().vkey},
        )
    return organization


def user_for_email(*, email: str) -> AbstractBaseUser:
    """The person with this e-mail address, created without a usable password if new."""
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).first()
    if user is None:
        user = user_model(username=email, email=email)
        user.set_unusable_password()
        user.save()
    return user


def membership_add(
    *, organization: Organization, email: str, role: str, actor: Principal
) -> tuple[Membership, Receipt]:
    """Gives the person with this e-mail (created if new) a role in the organization."""
    if role not in MEMBER_ROLES:
        raise InvalidInput(
            f"{role!r} is not a role a person can hold; use one of {', '.join(MEMBER_ROLES)}.",
            fields={"role": ["Invalid role."]},
        )
    try:
        with transaction.atomic():
            user = user_for_email(email=email)
            membership = Membership.objects.create(user=user, organization=organization, role=role)
            receipt = record_event(
                actor=actor,
                event=events.MEMBERSHIP_CREATED,
                id=membership.pk,
                data={"user_id": str(user.pk), "role": str(role)},
            )
    except IntegrityError:
        raise RuleViolation("This person is already a member of the organization.") from None
    return membership, receipt


def membership_remove(*, membership: Membership, actor: Principal) -> Receipt:
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == Role.OWNER:
            owners = Membership.objects.filter(
                organization=membership.organization, role=Role.OWNER
            )
            if owners.count() == 1:
                raise RuleViolation("The last owner of an organization cannot be removed.")
        membership_id = membership.pk
        membership.delete()
        return record_event(
            actor=actor,
            event=events.MEMBERSHIP_REMOVED,
            id=membership_id,
            data={"user_id": str(membership.user_id), "role": membership.role},
        )


def api_key_create(
    *, organization: Organization, role: str, name: str, actor: Principal
) -> tuple[ApiKey, str, Receipt]:
    """Creates a key and returns it with its secret, which is never stored or shown again."""
    if role not in Role.values:
        raise InvalidInput(
            f"Unknown role {role!r}; use one of {', '.join(Role.values)}.",
            fields={"role": ["Invalid role."]},
        )
    prefix = API_KEY_PREFIX + secrets.token_hex(4)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            organization=organization,
            name=name,
            role=role,
            prefix=prefix,
            key_sha256=api_key_digest(secret),
            created_by=actor.user,
        )
        receipt = record_event(
            actor=actor,
            event=events.API_KEY_CREATED,
            id=prefix,
            data={"role": str(role), "name": name},
        )
    return api_key, secret, receipt


def api_key_revoke(*, api_key: ApiKey, actor: Principal) -> Receipt:
    with transaction.atomic():
        revoked = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if not revoked:
            raise RuleViolation("This API key is already revoked.")
        return record_event(
            actor=actor,
            event=events.API_KEY_REVOKED,
            id=api_key.prefix,
            data={"role": api_key.role},
        )


def idempotency_records_purge(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Deletes the stored answers to keyed writes older than
    ``IDEMPOTENCY_RETENTION_HOURS`` and returns how many went; a retry with one of
    those keys then runs as a new request. The ledger and the records written by the
    requests never refer to these rows, so nothing else changes.

    Deletes ``batch_size`` rows per statement, each committed on its own when called
    outside a transaction (as the command and the task call it), so that no statement
    holds locks on a large backlog while keyed writes go on. Safe to run twice or
    concurrently: a row already deleted is simply not found again.
    """
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS)
    expired = IdempotencyRecord.objects.filter(created_at__lt=cutoff).order_by()
    purged = 0
    while ids := list(expired.values_list("pk", flat=True)[:batch_size]):
        deleted, _ = IdempotencyRecord.objects.filter(pk__in=ids).delete()
        purged += deleted
    return purged
