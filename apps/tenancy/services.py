"""Creating organizations, memberships and API keys. Each change goes on the
organization's ledger in the same transaction. Also the purge of expired
``Idempotency-Key`` answers, which are working data, not part of the record."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.ledger import services as ledger
from apps.ledger.types import Receipt
from apps.tenancy import events, extension_points
from apps.tenancy.authentication import API_KEY_PREFIX, api_key_digest
from apps.tenancy.models import (
    ASSESSMENT_KINDS,
    ApiKey,
    IdempotencyRecord,
    Membership,
    Organization,
    slug_validator,
)
from apps.tenancy.records import record_event
from audit_platform.errors import Forbidden, InvalidInput, RuleViolation
from audit_platform.principal import Principal
from audit_platform.roles import MEMBER_ROLES, Capability, Role


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


def _policy_changes(
    *,
    unapproved_on_high_risk: str | None,
    allow_unclassified_activation: bool | None,
    required_assessments: list[str] | None,
    require_model_signature: bool | None,
) -> dict[str, Any]:
    """The settings given, checked; InvalidInput when one is invalid or none is given."""
    if unapproved_on_high_risk is not None and (
        unapproved_on_high_risk not in Organization.UnapprovedOnHighRisk.values
    ):
        raise InvalidInput(
            "unapproved_on_high_risk must be stop or alert.",
            fields={"unapproved_on_high_risk": ["Invalid choice."]},
        )
    if required_assessments is not None:
        unknown = sorted(set(required_assessments) - set(ASSESSMENT_KINDS))
        if unknown or len(set(required_assessments)) != len(required_assessments):
            problem = f"{', '.join(unknown)} is not a kind" if unknown else "a kind is repeated"
            raise InvalidInput(
                f"required_assessments lists assessment kinds ({', '.join(ASSESSMENT_KINDS)}), "
                f"each at most once: {problem}.",
                fields={"required_assessments": ["Invalid or repeated kind."]},
            )
    changes = {
        name: value
        for name, value in (
            ("unapproved_on_high_risk", unapproved_on_high_risk),
            ("allow_unclassified_activation", allow_unclassified_activation),
            ("required_assessments", required_assessments),
            ("require_model_signature", require_model_signature),
        )
        if value is not None
    }
    if not changes:
        raise InvalidInput(
            "Nothing to change: give unapproved_on_high_risk, allow_unclassified_activation, "
            "required_assessments or require_model_signature.",
            fields={"non_field_errors": ["No change."]},
        )
    return changes


def organization_policy_update(
    *,
    organization: Organization,
    actor: Principal,
    unapproved_on_high_risk: str | None = None,
    allow_unclassified_activation: bool | None = None,
    required_assessments: list[str] | None = None,
    require_model_signature: bool | None = None,
) -> tuple[Organization, Receipt]:
    """Changes the organization's policy settings (what the deployment gate does with
    an unapproved version when its system becomes high-risk; whether unclassified
    systems may serve; which assessment kinds a version must have passed before it
    serves; whether it must carry a verified signature). Settings that weaken a control
    are decided by an owner in person, never by a key alone."""
    if not actor.in_person or not actor.can(Capability.ADMINISTER):
        raise Forbidden(
            "The organization's policy is changed by an owner in person (signed in), "
            "never by an API key alone."
        )
    changes = _policy_changes(
        unapproved_on_high_risk=unapproved_on_high_risk,
        allow_unclassified_activation=allow_unclassified_activation,
        required_assessments=required_assessments,
        require_model_signature=require_model_signature,
    )
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        for name, value in changes.items():
            setattr(organization, name, value)
        organization.save(update_fields=list(changes))
        receipt = record_event(
            actor=actor,
            event=events.ORGANIZATION_POLICY_CHANGED,
            id=organization.slug,
            data={
                "unapproved_on_high_risk": organization.unapproved_on_high_risk,
                "allow_unclassified_activation": organization.allow_unclassified_activation,
                "required_assessments": list(organization.required_assessments),
                "require_model_signature": organization.require_model_signature,
                "changed": sorted(changes),
            },
        )
    return organization, receipt


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
    """Gives the person with this e-mail (created if new, without a usable password) a
    role in the organization. For operators of the installation only (``create_org``,
    ``setup_demo``): the API attaches nobody directly; members are invited and accept
    (apps/tenancy/invitations.py)."""
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


def _key_person(*, organization: Organization, actor: Principal, answerable: Any | None) -> int:
    """The person answerable for a new key: whoever stands behind the actor (the
    signed-in person, or the person answerable for the key that creates it); for an
    operator on the command line, the member it names."""
    if actor.person_id is not None:
        return actor.person_id
    if answerable is None:
        raise InvalidInput(
            "Every API key names the person answerable for it: name a member of the "
            "organization (create_api_key --answerable-email).",
            fields={"answerable_email": ["Required."]},
        )
    if not Membership.objects.filter(organization=organization, user=answerable).exists():
        raise InvalidInput(
            "The person answerable for an API key must be a member of its organization.",
            fields={"answerable_email": ["Not a member."]},
        )
    return answerable.pk


def _system_id_texts(system_ids: Sequence[uuid.UUID | str]) -> list[str]:
    """The ids as a key stores them (text), or InvalidInput naming one that is no id."""
    texts = []
    for system_id in system_ids:
        try:
            texts.append(str(uuid.UUID(str(system_id))))
        except ValueError:
            raise InvalidInput(
                f"{str(system_id)[:40]!r} is not an AI system id (a UUID).",
                fields={"system_ids": ["Not a UUID."]},
            ) from None
    return texts


def _key_scope(
    *, organization: Organization, actor: Principal, system_ids: Sequence[uuid.UUID | str] | None
) -> list[str] | None:
    """The systems a new key may touch: all (None) or the listed ones, which must be
    the organization's and, for a key made by a limited key, among its own."""
    if system_ids is None:
        if actor.system_ids is not None:
            raise Forbidden(
                "A key limited to some AI systems can only make keys limited to those "
                f"systems ({', '.join(map(str, sorted(actor.system_ids)))}): give system_ids."
            )
        return None
    if not system_ids:
        raise InvalidInput(
            "system_ids lists no system: leave it out for a key that may touch every system.",
            fields={"system_ids": ["Empty."]},
        )
    system_ids = _system_id_texts(system_ids)
    unknown = extension_points.system_ids_unknown(organization=organization, system_ids=system_ids)
    if unknown:
        raise InvalidInput(
            f"No AI system {', '.join(map(str, unknown))} in this organization.",
            fields={"system_ids": ["Unknown system."]},
        )
    if actor.system_ids is not None and not set(system_ids) <= actor.system_ids:
        raise Forbidden("A key limited to some AI systems cannot make a key for other systems.")
    return sorted(set(system_ids))


def _new_key(
    *,
    organization: Organization,
    role: str,
    name: str,
    person_id: uuid.UUID | None,
    expires_at: datetime | None,
    system_ids: list[str] | None,
) -> tuple[ApiKey, str]:
    prefix = API_KEY_PREFIX + secrets.token_hex(4)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name,
        role=role,
        prefix=prefix,
        key_sha256=api_key_digest(secret),
        created_by_id=person_id,
        expires_at=expires_at,
        system_ids=system_ids,
    )
    return api_key, secret


def _key_created_data(api_key: ApiKey, *, rotates: ApiKey | None = None) -> dict[str, Any]:
    return {
        "role": str(api_key.role),
        "name": api_key.name,
        "answerable_user_id": str(api_key.created_by_id),
        "expires_at": api_key.expires_at.isoformat() if api_key.expires_at else None,
        "system_ids": api_key.system_ids,
        "rotates": rotates.prefix if rotates else None,
    }


def api_key_create(
    *,
    organization: Organization,
    role: str,
    name: str,
    actor: Principal,
    answerable: Any | None = None,
    expires_at: datetime | None = None,
    system_ids: list[str] | None = None,
) -> tuple[ApiKey, str, Receipt]:
    """Creates a key and returns it with its secret, which is never stored or shown again.

    The key is attributed to the person behind ``actor`` (``answerable``, a member, when
    an operator creates it); it may expire and may be limited to some AI systems."""
    if role not in Role.values:
        raise InvalidInput(
            f"Unknown role {role!r}; use one of {', '.join(Role.values)}.",
            fields={"role": ["Invalid role."]},
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput(
            "expires_at is in the past: give a time in the future, or none for a key that "
            "does not expire.",
            fields={"expires_at": ["In the past."]},
        )
    person_id = _key_person(organization=organization, actor=actor, answerable=answerable)
    scope = _key_scope(organization=organization, actor=actor, system_ids=system_ids)
    with transaction.atomic():
        api_key, secret = _new_key(
            organization=organization,
            role=role,
            name=name,
            person_id=person_id,
            expires_at=expires_at,
            system_ids=scope,
        )
        receipt = record_event(
            actor=actor,
            event=events.API_KEY_CREATED,
            id=api_key.prefix,
            data=_key_created_data(api_key),
        )
    return api_key, secret, receipt


def api_key_rotate(
    *, api_key: ApiKey, actor: Principal, grace: timedelta | None = None
) -> tuple[ApiKey, str, Receipt]:
    """Replaces a key without downtime: returns a new key (same role, name, scope and
    expiry, attributed to the person behind ``actor``) and its secret, while the old
    key keeps working for ``grace`` (``API_KEY_ROTATION_GRACE_HOURS`` by default) and
    then stops."""
    if grace is None:
        grace = timedelta(hours=settings.API_KEY_ROTATION_GRACE_HOURS)
    person_id = _key_person(organization=api_key.organization, actor=actor, answerable=None)
    now = timezone.now()
    with transaction.atomic():
        old = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if old.revoked_at is not None or (old.expires_at and old.expires_at <= now):
            raise RuleViolation(f"API key {old.prefix} is revoked or expired: nothing to rotate.")
        if old.replaced_by_id is not None:
            raise RuleViolation(
                f"API key {old.prefix} was rotated already; rotate its successor instead."
            )
        _key_scope(organization=old.organization, actor=actor, system_ids=old.system_ids)
        new, secret = _new_key(
            organization=old.organization,
            role=old.role,
            name=old.name,
            person_id=person_id,
            expires_at=old.expires_at,
            system_ids=old.system_ids,
        )
        old.replaced_by = new
        old.expires_at = min(old.expires_at or now + grace, now + grace)
        old.save(update_fields=["replaced_by", "expires_at"])
        record_event(
            actor=actor,
            event=events.API_KEY_ROTATED,
            id=old.prefix,
            data={"replaced_by": new.prefix, "expires_at": old.expires_at.isoformat()},
        )
        receipt = record_event(
            actor=actor,
            event=events.API_KEY_CREATED,
            id=new.prefix,
            data=_key_created_data(new, rotates=old),
        )
    return new, secret, receipt


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
