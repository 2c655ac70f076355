"""Roles and what each may do. The one table every permission check reads."""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    COMPLIANCE_OFFICER = "compliance_officer", "Compliance officer"
    ML_ENGINEER = "ml_engineer", "ML engineer"
    AUDITOR = "auditor", "Auditor"
    PIPELINE = "pipeline", "Pipeline (API only)"


class Capability(StrEnum):
    READ = "read"  # see every record of the organization
    RECORD = "record"  # put lifecycle events on the record (pipeline hooks)
    COMPLY = "comply"  # classification, risks, assessments, approvals, incidents
    VERIFY = "verify"  # verify the ledger and export evidence
    ADMINISTER = "administer"  # API keys, memberships, signing keys
    SEE_MEMBERS = "see_members"  # who the members are (their e-mail addresses)


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.OWNER: frozenset(Capability),
    Role.COMPLIANCE_OFFICER: frozenset(
        {
            Capability.READ,
            Capability.RECORD,
            Capability.COMPLY,
            Capability.VERIFY,
            Capability.SEE_MEMBERS,
        }
    ),
    Role.ML_ENGINEER: frozenset(
        {Capability.READ, Capability.RECORD, Capability.VERIFY, Capability.SEE_MEMBERS}
    ),
    # Auditors read everything and verify, and change nothing.
    Role.AUDITOR: frozenset({Capability.READ, Capability.VERIFY, Capability.SEE_MEMBERS}),
    # Pipelines record what they did; nothing administrative, and nobody's e-mail.
    Role.PIPELINE: frozenset({Capability.READ, Capability.RECORD}),
}

# Who may sign a test report as a person responsible for the test (Annex IV 2(g)).
TEST_REPORT_SIGNER_ROLES: tuple[str, ...] = (Role.OWNER, Role.COMPLIANCE_OFFICER, Role.ML_ENGINEER)

# Roles a person can hold through a membership; pipeline is for API keys only.
MEMBER_ROLES = tuple(role for role in Role if role != Role.PIPELINE)
MEMBER_ROLE_CHOICES = [(role.value, role.label) for role in MEMBER_ROLES]
