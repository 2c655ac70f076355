"""Organizations (tenants), the people in them, and the API keys their pipelines use."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models

from audit_platform.ids import uuid_primary_key
from audit_platform.roles import Role

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    "Use 1-63 lowercase letters, digits and inner hyphens.",
)


# The kinds of compliance's Assessment.Kind, which an organization's policy may require
# before a version serves; tenancy sits below compliance, so it names them itself (a
# test in tests/compliance checks that the two agree).
ASSESSMENT_KINDS = ("performance", "fairness", "robustness")


class User(AbstractUser):
    """A person who signs in (``AUTH_USER_MODEL``): Django's user with an identifier that
    says nothing about how many people other organizations have. Same table as Django's
    own user, so the columns and the admin stay as they were."""

    id = uuid_primary_key()

    class Meta(AbstractUser.Meta):
        db_table = "auth_user"
        swappable = "AUTH_USER_MODEL"


class Organization(models.Model):
    """A tenant. It owns one ledger and every record its members and keys create.

    Its policy settings decide how the deployment gate treats what the Act leaves to
    the organization: what happens to a version that serves without approval when its
    system is re-classified high-risk, whether a system nobody classified yet may serve
    at all, which assessments a version must have passed before it serves, and whether
    it must carry a verified signature. They change only through
    ``organization_policy_update``, by a person, on the ledger."""

    id = uuid_primary_key()

    class UnapprovedOnHighRisk(models.TextChoices):
        STOP = "stop", "Stop the deployment and raise an alert"
        ALERT = "alert", "Raise an alert only"

    name = models.CharField(max_length=200)
    slug = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    created_at = models.DateTimeField(auto_now_add=True)
    unapproved_on_high_risk = models.CharField(
        max_length=8,
        choices=UnapprovedOnHighRisk.choices,
        default=UnapprovedOnHighRisk.STOP,
        help_text="What happens to an unapproved version serving a system re-classified high-risk.",
    )
    allow_unclassified_activation = models.BooleanField(
        default=False,
        help_text="Whether a deployment of a system with no classification may serve.",
    )
    required_assessments = models.JSONField(
        default=list,
        blank=True,
        help_text="Assessment kinds (performance, fairness, robustness) a model version must "
        "have passed, against thresholds fixed before the run, before it may serve.",
    )
    require_model_signature = models.BooleanField(
        default=False,
        help_text="Whether a model version serves only with a verified OpenSSF Model "
        "Signing signature by a signer the organization trusts.",
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    """A person's role in one organization."""

    id = uuid_primary_key()

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
    shown once, when it is created.

    Every key names the person answerable for it (``created_by``): who created it, or
    for a key made on the command line, the member it names. The attribution stays
    when that person leaves the organization (the user is protected from deletion);
    separation of duties compares that person, never the key. A key may expire
    (``expires_at``) and may be limited to some AI systems (``system_ids``); a rotated
    key keeps working until the end of its grace period, then stops."""

    id = uuid_primary_key()

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=32, choices=Role.choices)
    prefix = models.CharField(max_length=16, unique=True, help_text="Visible part of the key.")
    key_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The person answerable for the key (empty only on keys made before attribution).",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="After this time the key is refused."
    )
    system_ids = models.JSONField(
        null=True,
        blank=True,
        help_text="Ids of the AI systems the key may read and write; empty means all.",
    )
    replaced_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The key this one was rotated to.",
    )

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

    id = uuid_primary_key()

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


class Invitation(models.Model):
    """An owner's invitation of a person, by e-mail, to a role in the organization.

    The e-mail carries a one-time link; only the SHA-256 of its token is stored. The
    invited person accepts it (setting a password, or signed in to the account of that
    address) before ``expires_at``; nothing else attaches a person to an organization,
    and the answer to an invitation is the same whether an account of that address
    exists or not."""

    id = uuid_primary_key()

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(help_text="As the owner typed it.")
    role = models.CharField(max_length=32, choices=Role.choices)
    token_sha256 = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "-created_at"]

    def __str__(self) -> str:
        return f"invitation {self.pk} to {self.organization} as {self.role}"
