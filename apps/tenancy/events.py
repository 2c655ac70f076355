"""The ledger events of organizations, memberships and API keys (see apps/ledger/events.py)."""

from __future__ import annotations

from apps.ledger.events import TENANCY_AND_LEDGER, declare

ORGANIZATION_CREATED = declare(
    "organization.created",
    subject="organization",
    subject_id="slug",
    section=TENANCY_AND_LEDGER,
    fields={"slug": "", "name": "", "vkey": "the log's first verifier key"},
)
ORGANIZATION_POLICY_CHANGED = declare(
    "organization.policy_changed",
    subject="organization",
    subject_id="slug",
    section=TENANCY_AND_LEDGER,
    fields={
        "unapproved_on_high_risk": "stop or alert: what a re-classification to high-risk "
        "does to an unapproved version that serves",
        "allow_unclassified_activation": "whether unclassified systems may serve",
        "required_assessments": "assessment kinds a version must have passed before it serves",
        "require_model_signature": "whether only model versions with a verified signature "
        "may serve",
        "changed": "the setting names changed",
    },
)
MEMBERSHIP_CREATED = declare(
    "membership.created",
    subject="membership",
    section=TENANCY_AND_LEDGER,
    fields={"user_id": "", "role": ""},
)
MEMBERSHIP_REMOVED = declare(
    "membership.removed",
    subject="membership",
    section=TENANCY_AND_LEDGER,
    fields={"user_id": "", "role": ""},
)
API_KEY_CREATED = declare(
    "api_key.created",
    subject="api_key",
    subject_id="prefix",
    section=TENANCY_AND_LEDGER,
    fields={
        "role": "",
        "name": "",
        "answerable_user_id": "the person answerable for the key (user id)",
        "expires_at": "or null: the key does not expire",
        "system_ids": "the AI systems it may touch, or null: all",
        "rotates": "prefix of the key it replaces, or null",
    },
)
API_KEY_ROTATED = declare(
    "api_key.rotated",
    subject="api_key",
    subject_id="prefix",
    section=TENANCY_AND_LEDGER,
    fields={
        "replaced_by": "prefix of the new key",
        "expires_at": "when this key stops: the end of the grace period",
    },
)
API_KEY_REVOKED = declare(
    "api_key.revoked",
    subject="api_key",
    subject_id="prefix",
    section=TENANCY_AND_LEDGER,
    fields={"role": ""},
)
INVITATION_CREATED = declare(
    "invitation.created",
    subject="invitation",
    section=TENANCY_AND_LEDGER,
    fields={
        "role": "",
        "expires_at": "",
        "invited_by_user_id": "the person who invited (user id), or null",
    },
    doc="the e-mail address is not on the ledger",
)
INVITATION_ACCEPTED = declare(
    "invitation.accepted",
    subject="invitation",
    section=TENANCY_AND_LEDGER,
    fields={"user_id": "the person who joined", "role": "", "membership": "the new membership"},
)
INVITATION_REVOKED = declare(
    "invitation.revoked",
    subject="invitation",
    section=TENANCY_AND_LEDGER,
    fields={},
)
