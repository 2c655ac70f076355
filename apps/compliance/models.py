"""What the EU AI Act asks of each system and the workflows it requires:
classification, evidence of obligations, the risk register (Art. 9), assessments,
human-oversight approvals (Art. 14), decision overrides, serious incidents (Art. 73)
and fundamental-rights impact assessments (Art. 27).

Rows are the working copy; the ledger entry written with each change is the
evidence. Versioned records (classifications, FRIAs) are never edited: a change is
a new version and the old one stays.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from audit_platform.ids import uuid_primary_key


class Classification(models.Model):
    """One answer to "what is this system under the Act?", from a questionnaire.

    A classification that lowers the system's risk class switches controls off (the
    approval gate of a high-risk system), so it is a decision of two people: it waits
    as ``pending`` until a person other than the one behind it confirms it (it is then
    ``effective``) or declines it. The current classification is the latest effective
    one."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    class Category(models.TextChoices):
        PROHIBITED = "prohibited"  # Art. 5
        HIGH_RISK = "high_risk"  # Art. 6(1) or 6(2) with Annex III
        LIMITED_RISK = "limited_risk"  # transparency duties only (Art. 50)
        MINIMAL_RISK = "minimal_risk"

    class Status(models.TextChoices):
        EFFECTIVE = "effective"
        PENDING = "pending"  # lowers the risk class; awaits a second person
        DECLINED = "declined"

    system = models.ForeignKey(
        "registry.AISystem", on_delete=models.PROTECT, related_name="classifications"
    )
    version = models.PositiveIntegerField()
    role = models.CharField(
        max_length=32,
        help_text="The operator role whose duties apply (a provider after Art. 25(1) or (3)).",
    )
    answers = models.JSONField()
    category = models.CharField(max_length=16, choices=Category.choices)
    high_risk_basis = models.CharField(max_length=16, blank=True)  # annex_i / annex_iii
    annex_iii_area = models.CharField(max_length=48, blank=True)
    exemption = models.CharField(max_length=48, blank=True)  # Art. 6(3) condition relied on
    result = models.JSONField(help_text="Flags the obligations are derived from.")
    rationale = models.TextField()
    citations = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.EFFECTIVE)
    created_by = models.CharField(max_length=200)
    requested_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The person behind it (for a key, the key's person); empty for an operator.",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who confirmed or declined a lowering.",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["system", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "version"], name="classification_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system} v{self.version}: {self.category}"


class ObligationEvidence(models.Model):
    """Evidence attached by hand to an obligation that the record cannot show by
    itself (a conformity assessment, the EU declaration, the database registration)."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    system = models.ForeignKey(
        "registry.AISystem", on_delete=models.PROTECT, related_name="obligation_evidence"
    )
    obligation = models.CharField(max_length=32)
    description = models.TextField()
    uri = models.CharField(max_length=1000, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["system", "obligation", "created_at"]
        verbose_name_plural = "obligation evidence"

    def __str__(self) -> str:
        return f"{self.system} {self.obligation}"


class RetentionSetting(models.Model):
    """How long the organization keeps a system's documentation and its logs, versioned.
    Art. 18 (documentation, 10 years), Art. 19 and Art. 26(6) (logs, at least six months)
    count as met only when the current setting covers them."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    system = models.ForeignKey(
        "registry.AISystem", on_delete=models.PROTECT, related_name="retention_settings"
    )
    version = models.PositiveIntegerField()
    documentation_years = models.PositiveSmallIntegerField()
    log_months = models.PositiveSmallIntegerField()
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["system", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["system", "version"], name="retention_unique_version")
        ]

    def __str__(self) -> str:
        return f"retention v{self.version} of {self.system}"


class RegistrationRecord(models.Model):
    """The registration data of a system (Art. 49, Annex VIII), versioned: the section
    and database the checklist's registration duty names, and the fields, by point."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    system = models.ForeignKey(
        "registry.AISystem", on_delete=models.PROTECT, related_name="registration_records"
    )
    version = models.PositiveIntegerField()
    section = models.CharField(max_length=1)  # Annex VIII Section A, B or C
    database = models.CharField(max_length=16)  # eu_public, eu_non_public, national
    duty = models.CharField(max_length=32, help_text="The checklist item it answers.")
    data = models.JSONField()
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["system", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "version"], name="registration_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"registration v{self.version} of {self.system}"


class Risk(models.Model):
    """One entry of a system's Art. 9 risk register."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    class Likelihood(models.TextChoices):
        RARE = "rare"
        UNLIKELY = "unlikely"
        POSSIBLE = "possible"
        LIKELY = "likely"
        ALMOST_CERTAIN = "almost_certain"

    class Severity(models.TextChoices):
        NEGLIGIBLE = "negligible"
        MINOR = "minor"
        MODERATE = "moderate"
        MAJOR = "major"
        CRITICAL = "critical"

    class Level(models.TextChoices):
        LOW = "low"
        MEDIUM = "medium"
        HIGH = "high"

    class Status(models.TextChoices):
        OPEN = "open"
        MITIGATED = "mitigated"
        ACCEPTED = "accepted"
        CLOSED = "closed"

    system = models.ForeignKey("registry.AISystem", on_delete=models.PROTECT, related_name="risks")
    hazard = models.TextField()
    affected_persons = models.TextField(help_text="Categories of persons, never names.")
    likelihood = models.CharField(max_length=16, choices=Likelihood.choices)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    mitigation = models.TextField(blank=True)
    residual_risk = models.CharField(max_length=8, choices=Level.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_date = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["system", "review_date", "pk"]

    def __str__(self) -> str:
        return f"risk {self.pk} of {self.system}"


class Assessment(models.Model):
    """A performance, fairness or robustness assessment run by a worker against
    thresholds fixed before the run (Art. 9(8))."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    class Kind(models.TextChoices):
        PERFORMANCE = "performance"
        FAIRNESS = "fairness"
        ROBUSTNESS = "robustness"

    class Task(models.TextChoices):
        CLASSIFICATION = "classification"
        REGRESSION = "regression"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        PASSED = "passed"
        FAILED = "failed"  # ran, and at least one metric missed its threshold
        ERROR = "error"  # could not run

    system = models.ForeignKey(
        "registry.AISystem", on_delete=models.PROTECT, related_name="assessments"
    )
    model_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dataset_version = models.ForeignKey(
        "registry.DatasetVersion", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Classification or regression; ``task`` is the progress record, as on every job.
    learning_task = models.CharField(max_length=16, choices=Task.choices)
    config = models.JSONField(help_text="Columns, seed, resamples, perturbation settings.")
    thresholds = models.JSONField(help_text='{"metric": {"min": x, "max": y}}, fixed up front.')
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    results = models.JSONField(null=True, blank=True)
    outcomes = models.JSONField(null=True, blank=True, help_text="Pass or fail per metric.")
    failure_reason = models.TextField(blank=True)
    task = models.ForeignKey(
        "tasks.TaskRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} assessment {self.pk} ({self.status})"


class GateAlert(models.Model):
    """A deployment found serving what the gate would now refuse: a version without
    approval when its system became high-risk. By the organization's policy the
    deployment was stopped with it, or only this alert raised."""

    id = uuid_primary_key()

    organization_path = "deployment__system__organization"

    class Action(models.TextChoices):
        STOPPED = "stopped"
        ALERT_ONLY = "alert_only"

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.PROTECT, related_name="gate_alerts"
    )
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="+"
    )
    classification = models.ForeignKey(
        Classification, on_delete=models.PROTECT, related_name="gate_alerts"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"gate alert on {self.deployment} ({self.action})"


class ApprovalRequest(models.Model):
    """A request to let a model version serve a deployment (Art. 14, Art. 26).

    Approvals count only on their own request: a rejection ends it, and a request for
    another version of the same deployment supersedes a pending one. At most one
    request per deployment and version is open (pending or approved) at a time."""

    id = uuid_primary_key()

    organization_path = "deployment__system__organization"

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"  # has the required number of approvals
        REJECTED = "rejected"
        SUPERSEDED = "superseded"  # a request for another version came while pending

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.PROTECT, related_name="approval_requests"
    )
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.CharField(max_length=200, help_text="actor kind:id")
    requested_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The person answerable for the request (for a key, the key's person); "
        "empty when an operator asked.",
    )
    reason = models.TextField(blank=True)
    required_approvals = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"approval request {self.pk} ({self.status})"


class ApprovalDecision(models.Model):
    """One person's decision on an approval request."""

    id = uuid_primary_key()

    class Decision(models.TextChoices):
        APPROVE = "approve"
        REJECT = "reject"

    request = models.ForeignKey(ApprovalRequest, on_delete=models.PROTECT, related_name="decisions")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=32)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["request", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "decided_by"], name="approvaldecision_one_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.decision} on {self.request_id}"


class DecisionOverride(models.Model):
    """A person overriding an output of the system (Art. 14(4)(d))."""

    id = uuid_primary_key()

    organization_path = "deployment__system__organization"

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.PROTECT, related_name="decision_overrides"
    )
    prediction_batch = models.ForeignKey(
        "registry.PredictionBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    row_index = models.BigIntegerField(null=True, blank=True)
    original_decision = models.JSONField()
    new_decision = models.JSONField()
    reason = models.TextField()
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"override {self.pk} on {self.deployment}"


class Incident(models.Model):
    """A serious incident (Art. 3(49)) and its reporting to the authority (Art. 73)."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    class Kind(models.TextChoices):
        GENERAL = "general"  # Art. 73(2): 15 days
        DEATH = "death"  # Art. 73(4): 10 days
        WIDESPREAD_INFRINGEMENT = "widespread_infringement"  # Art. 73(3): 2 days
        CRITICAL_INFRASTRUCTURE = "critical_infrastructure"  # Art. 73(3): 2 days

    class Status(models.TextChoices):
        OPEN = "open"
        AUTHORITY_INFORMED = "authority_informed"
        CLOSED = "closed"

    class Harm(models.TextChoices):
        HEALTH = "health"  # Art. 3(49)(a)
        CRITICAL_INFRASTRUCTURE = "critical_infrastructure"  # Art. 3(49)(b)
        FUNDAMENTAL_RIGHTS = "fundamental_rights"  # Art. 3(49)(c)
        PROPERTY_OR_ENVIRONMENT = "property_or_environment"  # Art. 3(49)(d)

    system = models.ForeignKey(
        "registry.AISystem", on_delete=models.PROTECT, related_name="incidents"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    description = models.TextField()
    became_aware_at = models.DateTimeField()
    reporting_deadline = models.DateTimeField()
    # The Commission's reporting template: where, to whom, when, what harm, other regimes.
    member_state = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2.")
    receiving_authority = models.CharField(max_length=300, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    causal_link_established_at = models.DateTimeField(null=True, blank=True)
    harm_category = models.CharField(max_length=32, choices=Harm.choices, blank=True)
    parallel_regimes = models.JSONField(
        default=list, blank=True, help_text='[{"regime": "nis2", "reference": "..."}]'
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.OPEN)
    authority_informed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-became_aware_at"]

    def __str__(self) -> str:
        return f"incident {self.pk} of {self.system} ({self.status})"


class IncidentReport(models.Model):
    """An initial, follow-up or final report on an incident."""

    id = uuid_primary_key()

    class Kind(models.TextChoices):
        INITIAL = "initial"
        FOLLOW_UP = "follow_up"
        FINAL = "final"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="reports")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    content = models.TextField()
    root_cause = models.TextField(blank=True)
    corrective_actions = models.TextField(blank=True)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["incident", "created_at"]

    def __str__(self) -> str:
        return f"{self.kind} report on incident {self.incident_id}"


class FundamentalRightsAssessment(models.Model):
    """A deployer's Art. 27 fundamental-rights impact assessment, versioned."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    system = models.ForeignKey(
        "registry.AISystem", on_delete=models.PROTECT, related_name="fundamental_rights_assessments"
    )
    version = models.PositiveIntegerField()
    process_and_purpose = models.TextField()  # Art. 27(1)(a)
    period_and_frequency = models.TextField()  # Art. 27(1)(b)
    affected_categories = models.TextField()  # Art. 27(1)(c)
    specific_risks = models.TextField()  # Art. 27(1)(d)
    human_oversight_measures = models.TextField()  # Art. 27(1)(e)
    measures_if_risks_materialise = models.TextField()  # Art. 27(1)(f)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["system", "-version"]
        verbose_name = "fundamental-rights impact assessment"
        constraints = [
            models.UniqueConstraint(fields=["system", "version"], name="fria_unique_version")
        ]

    def __str__(self) -> str:
        return f"FRIA v{self.version} of {self.system}"


class BiometricUse(models.Model):
    """One use of a remote biometric identification system (Annex III point 1(a)), logged
    as Art. 12(3) asks: its period (a), the reference database the input data was checked
    against (b); its matches hold the input data that led to a match (c) and the persons
    who verified it (d)."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    system = models.ForeignKey(
        "registry.AISystem", on_delete=models.PROTECT, related_name="biometric_uses"
    )
    deployment = models.ForeignKey(
        "registry.Deployment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(help_text="Art. 12(3)(a): start date and time.")
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text="Art. 12(3)(a): end date and time; empty while in use."
    )
    reference_database = models.CharField(
        max_length=300, help_text="Art. 12(3)(b): the reference database checked against."
    )
    reference_database_sha256 = models.CharField(
        max_length=64, blank=True, help_text="Digest of the database's state used, when given."
    )
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["system", "-started_at", "-pk"]

    def __str__(self) -> str:
        return f"biometric use {self.pk} of {self.system}"


class BiometricMatch(models.Model):
    """An identification a use produced. The input data that led to it (Art. 12(3)(c)) is
    kept by its digest and where it is stored, never the biometric data itself. No action
    or decision is taken on it before enough people confirmed it (Art. 14(5))."""

    id = uuid_primary_key()

    organization_path = "use__system__organization"

    class Status(models.TextChoices):
        AWAITING = "awaiting_verification"
        ACTED_ON = "acted_on"

    use = models.ForeignKey(BiometricUse, on_delete=models.PROTECT, related_name="matches")
    input_sha256 = models.CharField(max_length=64, help_text="Art. 12(3)(c).")
    input_reference = models.CharField(
        max_length=1000, blank=True, help_text="Where the input data is kept."
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.AWAITING)
    action = models.TextField(blank=True, help_text="The action or decision taken on it.")
    acted_by = models.CharField(max_length=200, blank=True)
    acted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["use", "pk"]
        verbose_name_plural = "biometric matches"

    def __str__(self) -> str:
        return f"match {self.pk} of biometric use {self.use_id}"


class BiometricVerification(models.Model):
    """One person's separate verification of a match (Art. 14(5), Art. 12(3)(d))."""

    id = uuid_primary_key()

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed"
        NOT_CONFIRMED = "not_confirmed"

    match = models.ForeignKey(
        BiometricMatch, on_delete=models.PROTECT, related_name="verifications"
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=32)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["match", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["match", "verified_by"], name="biometricverification_one_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.outcome} on match {self.match_id}"


class DualVerificationSetting(models.Model):
    """Whether the Art. 14(5) second-subparagraph exception applies to a system, as the
    user recorded it (versioned): the Regulation leaves it to Union or national law, so
    the product never assumes it. Without a setting the two-person rule applies."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    system = models.ForeignKey(
        "registry.AISystem", on_delete=models.PROTECT, related_name="dual_verification_settings"
    )
    version = models.PositiveIntegerField()
    exception_applies = models.BooleanField()
    area = models.CharField(max_length=24, blank=True)
    legal_basis = models.TextField(
        blank=True, help_text="The Union or national law that considers the rule disproportionate."
    )
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["system", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "version"], name="dualverification_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"Art. 14(5) setting v{self.version} of {self.system}"


class AssessmentSignature(models.Model):
    """A responsible person's dated signature on an assessment's test report (Annex IV,
    point 2(g)): who signed, in which function, and the digest of exactly what they
    signed (the report as ``selectors.assessment_test_report`` states it)."""

    id = uuid_primary_key()

    organization_path = "assessment__system__organization"

    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="signatures")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=32)
    function = models.CharField(
        max_length=200, help_text="The signer's responsibility for the test (e.g. test lead)."
    )
    report_sha256 = models.CharField(max_length=64)
    signed_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["assessment", "signed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "signed_by"], name="assessmentsignature_one_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"signature on assessment {self.assessment_id}"


class GpaiDocumentation(models.Model):
    """What the provider of a general-purpose AI model states about it that the record
    cannot compute (Annex XI, Annex XII, the training-content summary's template),
    versioned: each version holds every field stated so far."""

    id = uuid_primary_key()

    organization_path = "system__organization"

    system = models.ForeignKey(
        "registry.AISystem", on_delete=models.PROTECT, related_name="gpai_documentation"
    )
    version = models.PositiveIntegerField()
    data = models.JSONField(help_text="Field key (rules.GPAI_FIELDS) -> text.")
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    ledger_seq = models.BigIntegerField()

    class Meta:
        ordering = ["system", "-version"]
        verbose_name_plural = "GPAI documentation"
        constraints = [
            models.UniqueConstraint(fields=["system", "version"], name="gpaidoc_unique_version")
        ]

    def __str__(self) -> str:
        return f"GPAI documentation v{self.version} of {self.system}"
