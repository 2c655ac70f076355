"""Generated reports (signed PDF/A-3a documents bound to the ledger) and the
certificate each organization signs them with."""

from __future__ import annotations

from django.db import models

from audit_platform.ids import uuid_primary_key


class Report(models.Model):
    """One requested document: what it is about, how its rendering went, and, once
    generated, the exact signed file and the ledger entry that records its digest."""

    id = uuid_primary_key()

    organization_path = "organization"
    # A key limited to some systems sees the reports about them (audit_platform/views.py).
    system_path = "system"

    class Kind(models.TextChoices):
        ANNEX_IV = "annex_iv", "Technical documentation (Annex IV)"
        AUDIT_TRAIL = "audit_trail", "Audit-trail report"
        DECLARATION = "declaration_of_conformity", "EU declaration of conformity (Annex V)"
        POST_MARKET = "post_market_monitoring", "Post-market monitoring report"
        SERIOUS_INCIDENT = "serious_incident", "Serious-incident report (Art. 73)"
        MODEL_CARD = "model_card", "Model card"
        DECISION_EXPLANATION = "decision_explanation", "Decision explanation (Art. 86)"
        GPAI_TECHNICAL = (
            "gpai_technical_documentation",
            "Technical documentation of a general-purpose AI model (Annex XI)",
        )
        GPAI_DOWNSTREAM = (
            "gpai_downstream_information",
            "Information for downstream providers (Annex XII)",
        )
        GPAI_TRAINING_SUMMARY = (
            "gpai_training_content_summary",
            "Public summary of training content (Art. 53(1)(d))",
        )

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="reports"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    subject_kind = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=128)
    system = models.ForeignKey(
        "registry.AISystem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    model_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    params = models.JSONField(default=dict, blank=True, help_text="time range, stage, ...")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    failure_reason = models.TextField(blank=True)
    task = models.OneToOneField(
        "tasks.TaskRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.JSONField(help_text="The ledger actor who asked for it.")
    requested_seq = models.BigIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    pdf = models.FileField(upload_to="reports/", max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    cited_seqs = models.PositiveIntegerField(null=True, blank=True)
    checkpoint_size = models.BigIntegerField(null=True, blank=True)
    ledger_seq = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    generated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["organization", "sha256"], name="report_org_sha256_idx"),
            models.Index(fields=["organization", "-created_at"], name="report_org_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"


class SigningCertificate(models.Model):
    """The X.509 certificate and key an organization's reports are signed with (PAdES).
    Self-signed unless the deployment configures one; the private key is encrypted
    under the same key-encryption key as the ledger's signing keys."""

    id = uuid_primary_key()

    organization = models.OneToOneField(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="report_certificate"
    )
    certificate_pem = models.TextField()
    private_key_encrypted = models.BinaryField()
    fingerprint_sha256 = models.CharField(max_length=64)
    self_signed = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.organization} {self.fingerprint_sha256[:16]}"
