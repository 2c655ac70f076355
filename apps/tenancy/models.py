"""Organizations (tenants), the people in them, and the API keys their pipelines use."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from audit_platform.roles import Role

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    "Use 1-63 lowercase letters, digits and inner hyphens.",
)


class Organization(models.Model):
    """A tenant. It owns one ledger and every record its members and keys create."""

    name = models.CharField(max_length=200)
    slug = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    """A person's role in one organization."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} as {self.role}"


class ApiKey(models.Model):
    """A bearer key for a pipeline or script. Only its SHA-256 is stored; the key is
    shown once, when it is created."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=32, choices=Role.choices)
    prefix = models.CharField(max_length=16, unique=True, help_text="Visible part of the key.")
    key_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organization", "-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.role})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The answer to one write sent with an ``Idempotency-Key``, so that a retry with
    the same key gets that answer again instead of writing a second time.

    The row is inserted in the same transaction as the write and filled in before it
    commits, so every committed row holds a finished answer; a write that failed
    rolled back and left no row. Keys belong to an organization: two organizations may
    use the same key. Rows older than ``IDEMPOTENCY_RETENTION_HOURS`` are purged
    (``idempotency_records_purge``); nothing else refers to them. See
    ``apps/tenancy/idempotency.py``.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=16)
    path = models.TextField()
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of method, path and body, in hex."
    )
    response_status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty only inside the transaction that writes it."
    )
    response_body = models.TextField(
        blank=True, help_text="The body as sent, less any fields the view never replays."
    )
    content_type = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="idempotency_unique_key")
        ]
        # The purge looks rows up by age alone, across organizations.
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_at")]

    def __str__(self) -> str:
        return f"{self.key} ({self.method} {self.path})"
