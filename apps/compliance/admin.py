"""Compliance in the admin. What the ledger has recorded is shown, never edited:
changes go through the services (and the API), which put them on the record and
apply the rules (approvals, the Art. 73(6) block) on every path."""

from __future__ import annotations

from django.contrib import admin

from apps.compliance.models import (
    ApprovalDecision,
    ApprovalRequest,
    Assessment,
    AssessmentSignature,
    BiometricMatch,
    BiometricUse,
    BiometricVerification,
    Classification,
    DecisionOverride,
    DualVerificationSetting,
    FundamentalRightsAssessment,
    GateAlert,
    GpaiDocumentation,
    Incident,
    IncidentReport,
    ObligationEvidence,
    RetentionSetting,
    Risk,
)
from audit_platform.admin import ReadOnlyAdmin


@admin.register(Classification)
class ClassificationAdmin(ReadOnlyAdmin):
    list_display = ["system", "version", "category", "status", "high_risk_basis", "annex_iii_area"]
    list_filter = ["category", "status", "high_risk_basis"]


@admin.register(ObligationEvidence)
class ObligationEvidenceAdmin(ReadOnlyAdmin):
    list_display = ["system", "obligation", "uri", "created_at"]


@admin.register(Risk)
class RiskAdmin(ReadOnlyAdmin):
    list_display = ["pk", "system", "likelihood", "severity", "residual_risk", "review_date"]
    list_filter = ["residual_risk", "status"]


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ["pk", "system", "kind", "learning_task", "status", "created_at"]
    list_filter = ["kind", "status"]


class ApprovalDecisionInline(admin.TabularInline):
    model = ApprovalDecision
    extra = 0
    can_delete = False
    fields = ["decided_by", "role", "decision", "created_at", "ledger_seq"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(GateAlert)
class GateAlertAdmin(ReadOnlyAdmin):
    list_display = ["pk", "deployment", "model_version", "action", "created_at"]
    list_filter = ["action"]


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ["pk", "deployment", "model_version", "status", "required_approvals"]
    list_filter = ["status"]
    inlines = [ApprovalDecisionInline]


@admin.register(DecisionOverride)
class DecisionOverrideAdmin(ReadOnlyAdmin):
    list_display = ["pk", "deployment", "prediction_batch", "row_index", "created_at"]


class IncidentReportInline(admin.TabularInline):
    model = IncidentReport
    extra = 0
    can_delete = False
    fields = ["kind", "created_at", "ledger_seq"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["pk", "system", "kind", "status", "became_aware_at", "reporting_deadline"]
    list_filter = ["kind", "status"]
    inlines = [IncidentReportInline]


@admin.register(FundamentalRightsAssessment)
class FundamentalRightsAssessmentAdmin(ReadOnlyAdmin):
    list_display = ["system", "version", "created_at"]


@admin.register(RetentionSetting)
class RetentionSettingAdmin(ReadOnlyAdmin):
    list_display = ["system", "version", "documentation_years", "log_months", "created_at"]


@admin.register(BiometricUse)
class BiometricUseAdmin(ReadOnlyAdmin):
    list_display = ["pk", "system", "started_at", "ended_at", "reference_database"]


@admin.register(BiometricMatch)
class BiometricMatchAdmin(ReadOnlyAdmin):
    list_display = ["pk", "use", "status", "acted_at"]
    list_filter = ["status"]


@admin.register(BiometricVerification)
class BiometricVerificationAdmin(ReadOnlyAdmin):
    list_display = ["match", "verified_by", "role", "outcome", "created_at"]


@admin.register(DualVerificationSetting)
class DualVerificationSettingAdmin(ReadOnlyAdmin):
    list_display = ["system", "version", "exception_applies", "area", "created_at"]


@admin.register(AssessmentSignature)
class AssessmentSignatureAdmin(ReadOnlyAdmin):
    list_display = ["assessment", "signed_by", "role", "signed_at"]


@admin.register(GpaiDocumentation)
class GpaiDocumentationAdmin(ReadOnlyAdmin):
    list_display = ["system", "version", "created_at"]
