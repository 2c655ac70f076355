"""``/api/v1/`` endpoints of compliance: classification, obligations and gaps, the risk
register, assessments, approvals and the stop button, overrides, incidents and FRIAs.
Views validate, call one service, and answer with the record and its ledger receipt.

Reads need READ. Writes need COMPLY, except asking for an approval and pressing the
stop button, which need RECORD (ML engineers and pipelines may); deciding on an
approval needs COMPLY and a person who is an owner or compliance officer."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.compliance import rules, selectors, services
from apps.compliance.api_schema import (
    AnswersField,
    DecisionField,
    GpaiDataField,
    ThresholdsField,
)
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
    RegistrationRecord,
    RetentionSetting,
    Risk,
)
from apps.registry import services as registry_services
from apps.registry.api import DeploymentOut, ReasonIn
from apps.registry.models import (
    AISystem,
    DatasetVersion,
    Deployment,
    ModelVersion,
    PredictionBatch,
)
from audit_platform.api import StrictSerializer
from audit_platform.errors import InvalidInput, NotFound
from audit_platform.roles import Capability
from audit_platform.views import (
    RecordDetailView,
    RecordListView,
    RecordView,
    ScopedPrimaryKey,
    receipt_response,
    validated,
)


class ComplianceView(RecordView):
    write_capability = Capability.COMPLY


class ListCreateView(ComplianceView, RecordListView):
    pass


class DetailView(ComplianceView, RecordDetailView):
    pass


# --- Classification --------------------------------------------------------------------


class QuestionOut(serializers.Serializer):
    key = serializers.CharField()
    text = serializers.CharField()
    kind = serializers.CharField()
    options = serializers.ListField(child=serializers.CharField())
    asked = serializers.CharField()


class QuestionnaireView(ComplianceView):
    """The classification questionnaire: its questions, answer kinds and options."""

    model, serializer_class = Classification, QuestionOut

    @extend_schema(responses=QuestionOut(many=True))
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "key": q.key,
                    "text": q.text,
                    "kind": q.kind,
                    "options": list(q.options),
                    "asked": q.when_text or "always",
                }
                for q in rules.QUESTIONS
            ]
        )


class ClassificationOut(serializers.ModelSerializer):
    requested_by_user = serializers.UUIDField(
        source="requested_by_user_id",
        allow_null=True,
        help_text="The person behind it (for a key, the key's person); null for an operator.",
    )
    decided_by = serializers.UUIDField(
        source="decided_by_id",
        allow_null=True,
        help_text="Who confirmed or declined a lowering (user id).",
    )

    class Meta:
        model = Classification
        extra_kwargs = {
            "status": {
                "help_text": "effective, or pending: it lowers the risk class and takes "
                "effect only when a second person confirms it (declined: never)."
            }
        }
        fields = [
            "id",
            "system",
            "version",
            "role",
            "answers",
            "category",
            "high_risk_basis",
            "annex_iii_area",
            "exemption",
            "result",
            "rationale",
            "citations",
            "status",
            "created_by",
            "requested_by_user",
            "decided_by",
            "decided_at",
            "created_at",
            "ledger_seq",
        ]


class ClassificationIn(StrictSerializer):
    system_id = ScopedPrimaryKey(AISystem)
    answers = AnswersField()


class ClassificationListCreateView(ListCreateView):
    model, out, serializer_class = Classification, ClassificationOut, ClassificationOut
    filters = {"system": "system_id", "category": "category"}

    @extend_schema(request=ClassificationIn, responses={201: ClassificationOut})
    def post(self, request: Request) -> Response:
        data = validated(ClassificationIn, request)
        classification, receipt = services.classification_record(
            actor=self.principal, system=data["system_id"], answers=data["answers"]
        )
        return receipt_response(ClassificationOut(classification).data, receipt)


class ClassificationDetailView(DetailView):
    model, out, serializer_class = Classification, ClassificationOut, ClassificationOut


class ClassificationDecideIn(StrictSerializer):
    decision = serializers.ChoiceField(choices=[("confirm", "confirm"), ("decline", "decline")])


class ClassificationDecideView(ComplianceView):
    """A second person confirms or declines a pending classification that lowers the
    system's risk class: an owner or compliance officer signed in, not the person
    behind it."""

    model, serializer_class = Classification, ClassificationOut

    @extend_schema(request=ClassificationDecideIn, responses=ClassificationOut)
    def post(self, request: Request, pk: int) -> Response:
        classification, receipt = services.classification_decide(
            actor=self.principal,
            classification=self.scoped_get(Classification, pk),
            **validated(ClassificationDecideIn, request),
        )
        return receipt_response(ClassificationOut(classification).data, receipt, status_code=200)


class GateAlertOut(serializers.ModelSerializer):
    class Meta:
        model = GateAlert
        fields = [
            "id",
            "deployment",
            "model_version",
            "classification",
            "action",
            "message",
            "created_at",
            "ledger_seq",
        ]


class GateAlertListView(ComplianceView, RecordListView):
    """Deployments found serving a version without approval when their system became
    high-risk: stopped, or (organization policy "alert") still serving."""

    model, out, serializer_class = GateAlert, GateAlertOut, GateAlertOut
    filters = {"deployment": "deployment_id", "action": "action"}


class EvidenceLinkOut(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.UUIDField()
    ledger_seq = serializers.IntegerField(required=False)


class ObligationOut(serializers.Serializer):
    code = serializers.CharField()
    article = serializers.CharField()
    requirement = serializers.CharField()
    applies_from = serializers.DateField()
    legal_source = serializers.CharField()
    status = serializers.CharField(
        help_text="evidenced, missing, upcoming (applies later), overdue, or prohibited."
    )
    evidence = EvidenceLinkOut(many=True)


class ChecklistOut(serializers.Serializer):
    system = serializers.UUIDField()
    classification = serializers.DictField(allow_null=True)
    obligations = ObligationOut(many=True)


class SystemObligationsView(ComplianceView):
    model, serializer_class = AISystem, ChecklistOut

    @extend_schema(responses=ChecklistOut)
    def get(self, request: Request, pk: int) -> Response:
        system = self.scoped_get(AISystem, pk)
        return Response(ChecklistOut(selectors.obligations_for_system(system=system)).data)


# --- The deployment gate -----------------------------------------------------------------


class GateParams(serializers.Serializer):
    model_version = ScopedPrimaryKey(
        ModelVersion, help_text="The model version the deployment would serve."
    )


class GateConditionOut(serializers.Serializer):
    code = serializers.CharField(
        help_text="incident_freeze, classification, assessments, approvals (and any an "
        "installed app adds)."
    )
    met = serializers.BooleanField()
    message = serializers.CharField(help_text="Why it holds, or what to do so it does.")


class GateOut(serializers.Serializer):
    deployment = serializers.CharField()
    model_version = serializers.CharField()
    allowed = serializers.BooleanField(help_text="True when every condition is met.")
    conditions = GateConditionOut(many=True)


class DeploymentGateView(ComplianceView):
    """GET ``deployments/{id}/gate?model_version=``: whether the deployment may serve the
    version, and every condition of the gate, met or not; the same decision its
    activation takes (``selectors.deployment_gate_conditions``). It records nothing."""

    model, serializer_class = Deployment, GateOut

    @extend_schema(parameters=[GateParams], responses=GateOut)
    def get(self, request: Request, pk: int) -> Response:
        deployment = self.scoped_get(Deployment, pk)
        params = GateParams(
            data=request.query_params,
            context={"organization": request.auth.organization, "request": request},
        )
        params.is_valid(raise_exception=True)
        version = params.validated_data["model_version"]
        if version.model.system_id != deployment.system_id:
            raise InvalidInput(
                f"Model version {version.pk} belongs to another system than deployment "
                f"{deployment.pk}.",
                fields={"model_version": ["Not a version of this deployment's system."]},
            )
        conditions = selectors.deployment_gate_conditions(
            deployment=deployment, model_version=version
        )
        return Response(
            GateOut(
                {
                    "deployment": str(deployment.pk),
                    "model_version": str(version.pk),
                    "allowed": all(c.met for c in conditions),
                    "conditions": [c.as_json() for c in conditions],
                }
            ).data
        )


class GapOut(serializers.Serializer):
    system = serializers.UUIDField()
    code = serializers.CharField()
    article = serializers.CharField()
    requirement = serializers.CharField()
    applies_from = serializers.DateField()
    legal_source = serializers.CharField()
    status = serializers.CharField()


class GapParams(serializers.Serializer):
    system = serializers.UUIDField(required=False)


class GapAnalysisView(ComplianceView):
    """What is missing for each system (or one, ``?system=``), ordered by date."""

    model, serializer_class = AISystem, GapOut

    @extend_schema(parameters=[GapParams], responses=GapOut(many=True))
    def get(self, request: Request) -> Response:
        params = GapParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        system_id = params.validated_data.get("system")
        if system_id is not None:
            self.scoped_get(AISystem, system_id)
        gaps = selectors.gap_analysis(organization=self.principal.organization, system_id=system_id)
        in_scope = self.principal.system_ids
        if in_scope is not None:  # a key limited to some systems sees only theirs
            gaps = [gap for gap in gaps if gap["system"] in in_scope]
        return Response(GapOut(gaps, many=True).data)


class ObligationEvidenceOut(serializers.ModelSerializer):
    class Meta:
        model = ObligationEvidence
        fields = [
            "id",
            "system",
            "obligation",
            "description",
            "uri",
            "sha256",
            "created_by",
            "created_at",
            "ledger_seq",
        ]


class ObligationEvidenceIn(StrictSerializer):
    system_id = ScopedPrimaryKey(AISystem)
    obligation = serializers.CharField(max_length=32)
    description = serializers.CharField()
    uri = serializers.CharField(max_length=1000, required=False, default="")
    sha256 = serializers.RegexField(r"^[0-9a-f]{64}$", required=False, default="")


class ObligationEvidenceListCreateView(ListCreateView):
    model, out, serializer_class = ObligationEvidence, ObligationEvidenceOut, ObligationEvidenceOut
    filters = {"system": "system_id", "obligation": "obligation"}

    @extend_schema(request=ObligationEvidenceIn, responses={201: ObligationEvidenceOut})
    def post(self, request: Request) -> Response:
        data = validated(ObligationEvidenceIn, request)
        evidence, receipt = services.obligation_evidence_attach(
            actor=self.principal, system=data.pop("system_id"), **data
        )
        return receipt_response(ObligationEvidenceOut(evidence).data, receipt)


# --- Risk register ------------------------------------------------------------------------


class RiskOut(serializers.ModelSerializer):
    owner_email = serializers.EmailField(source="owner.email", default=None)

    class Meta:
        model = Risk
        fields = [
            "id",
            "system",
            "hazard",
            "affected_persons",
            "likelihood",
            "severity",
            "mitigation",
            "residual_risk",
            "owner_email",
            "review_date",
            "status",
            "revision",
            "created_at",
            "updated_at",
        ]


class RiskIn(StrictSerializer):
    system_id = ScopedPrimaryKey(AISystem)
    hazard = serializers.CharField()
    affected_persons = serializers.CharField(help_text="Categories of persons, never names.")
    likelihood = serializers.ChoiceField(choices=Risk.Likelihood.choices)
    severity = serializers.ChoiceField(choices=Risk.Severity.choices)
    mitigation = serializers.CharField(required=False, default="", allow_blank=True)
    residual_risk = serializers.ChoiceField(choices=Risk.Level.choices)
    owner_email = serializers.EmailField(required=False)
    review_date = serializers.DateField()


class RiskChangeIn(StrictSerializer):
    hazard = serializers.CharField(required=False)
    affected_persons = serializers.CharField(required=False)
    likelihood = serializers.ChoiceField(choices=Risk.Likelihood.choices, required=False)
    severity = serializers.ChoiceField(choices=Risk.Severity.choices, required=False)
    mitigation = serializers.CharField(required=False, allow_blank=True)
    residual_risk = serializers.ChoiceField(choices=Risk.Level.choices, required=False)
    owner_email = serializers.EmailField(required=False, allow_null=True)
    review_date = serializers.DateField(required=False)
    status = serializers.ChoiceField(choices=Risk.Status.choices, required=False)


class RiskListCreateView(ListCreateView):
    model, out, serializer_class = Risk, RiskOut, RiskOut
    filters = {"system": "system_id", "status": "status", "residual_risk": "residual_risk"}

    @extend_schema(request=RiskIn, responses={201: RiskOut})
    def post(self, request: Request) -> Response:
        data = validated(RiskIn, request)
        risk, receipt = services.risk_create(
            actor=self.principal, system=data.pop("system_id"), **data
        )
        return receipt_response(RiskOut(risk).data, receipt)


class RiskDetailView(DetailView):
    model, out, serializer_class = Risk, RiskOut, RiskOut

    @extend_schema(request=RiskChangeIn, responses=RiskOut)
    def patch(self, request: Request, pk: int) -> Response:
        risk = self.get_object()
        risk, receipt = services.risk_update(
            actor=self.principal, risk=risk, changes=dict(validated(RiskChangeIn, request))
        )
        return receipt_response(RiskOut(risk).data, receipt, status_code=200)


# --- Assessments --------------------------------------------------------------------------


class AssessmentOut(serializers.ModelSerializer):
    task = serializers.ChoiceField(source="learning_task", choices=Assessment.Task.choices)
    task_id = serializers.UUIDField(allow_null=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "system",
            "model_version",
            "dataset_version",
            "kind",
            "task",
            "config",
            "thresholds",
            "status",
            "outcomes",
            "results",
            "failure_reason",
            "task_id",
            "created_by",
            "created_at",
            "finished_at",
        ]


class AssessmentIn(StrictSerializer):
    system_id = ScopedPrimaryKey(AISystem)
    dataset_version_id = ScopedPrimaryKey(DatasetVersion)
    model_version_id = ScopedPrimaryKey(ModelVersion, required=False, allow_null=True, default=None)
    kind = serializers.ChoiceField(choices=Assessment.Kind.choices)
    task = serializers.ChoiceField(choices=Assessment.Task.choices)
    label_column = serializers.CharField(required=False, default=None)
    prediction_column = serializers.CharField(
        required=False, default=None, help_text="Decisions (classification) or predicted values."
    )
    score_column = serializers.CharField(
        required=False,
        default=None,
        help_text="Scores of the positive class (ROC AUC, robustness).",
    )
    protected_attributes = serializers.ListField(
        child=serializers.CharField(), required=False, default=list
    )
    numeric_features = serializers.ListField(
        child=serializers.CharField(), required=False, default=list
    )
    categorical_features = serializers.ListField(
        child=serializers.CharField(), required=False, default=list
    )
    thresholds = ThresholdsField()
    decision_threshold = serializers.FloatField(required=False, default=0.5)
    noise_scale = serializers.FloatField(required=False, default=0.1)
    flip_probability = serializers.FloatField(required=False, default=0.1)
    bootstrap_resamples = serializers.IntegerField(
        required=False, default=services.DEFAULT_RESAMPLES
    )
    seed = serializers.IntegerField(required=False, default=0, min_value=0)


class AssessmentListCreateView(ListCreateView):
    model, out, serializer_class = Assessment, AssessmentOut, AssessmentOut
    filters = {"system": "system_id", "kind": "kind", "status": "status"}

    @extend_schema(request=AssessmentIn, responses={201: AssessmentOut})
    def post(self, request: Request) -> Response:
        data = validated(AssessmentIn, request)
        assessment, receipt = services.assessment_request(
            actor=self.principal,
            system=data.pop("system_id"),
            dataset_version=data.pop("dataset_version_id"),
            model_version=data.pop("model_version_id"),
            **data,
        )
        assessment.refresh_from_db()
        return receipt_response(AssessmentOut(assessment).data, receipt)


class AssessmentDetailView(DetailView):
    model, out, serializer_class = Assessment, AssessmentOut, AssessmentOut


class AssessmentSignatureOut(serializers.ModelSerializer):
    signed_by = serializers.UUIDField(
        source="signed_by_id", help_text="The person who signed (user id)."
    )

    class Meta:
        model = AssessmentSignature
        fields = ["signed_by", "role", "function", "report_sha256", "signed_at", "ledger_seq"]


class TestReportOut(serializers.Serializer):
    assessment = serializers.UUIDField()
    report = serializers.JSONField(help_text="The test report as it is signed.")
    sha256 = serializers.CharField(help_text="RFC 8785 SHA-256 of the report: sign this.")
    signatures = AssessmentSignatureOut(many=True)


class AssessmentSignIn(StrictSerializer):
    report_sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$", help_text="The sha256 of the test report you read and sign."
    )
    function = serializers.CharField(
        max_length=200, help_text="Your responsibility for the test (e.g. 'test lead')."
    )


def _test_report(assessment: Assessment) -> dict[str, Any]:
    return {
        "assessment": str(assessment.pk),
        "report": selectors.assessment_test_report(assessment=assessment),
        "sha256": selectors.assessment_test_report_sha256(assessment=assessment),
        "signatures": AssessmentSignatureOut(
            selectors.assessment_signatures(assessment=assessment), many=True
        ).data,
    }


class AssessmentTestReportView(ComplianceView):
    """The test report of a completed assessment as a person signs it (Annex IV 2(g)),
    its digest, and the signatures on it."""

    model, serializer_class = Assessment, TestReportOut

    @extend_schema(responses=TestReportOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_test_report(self.scoped_get(Assessment, pk)))


class AssessmentSignView(ComplianceView):
    """A responsible person, signed in, signs the test report whose sha256 they name
    (Annex IV 2(g)); the ledger entry names the person and the digest."""

    model, serializer_class = Assessment, TestReportOut
    write_capability = Capability.RECORD

    @extend_schema(request=AssessmentSignIn, responses=TestReportOut)
    def post(self, request: Request, pk: int) -> Response:
        assessment = self.scoped_get(Assessment, pk)
        _, receipt = services.assessment_sign(
            actor=self.principal, assessment=assessment, **validated(AssessmentSignIn, request)
        )
        return receipt_response(_test_report(assessment), receipt, status_code=200)


# --- Approvals, stop button, overrides ---------------------------------------------------


class ApprovalDecisionOut(serializers.ModelSerializer):
    decided_by = serializers.UUIDField(
        source="decided_by_id", help_text="The person who decided (user id)."
    )

    class Meta:
        model = ApprovalDecision
        fields = ["decided_by", "role", "decision", "comment", "created_at", "ledger_seq"]


class ApprovalRequestOut(serializers.ModelSerializer):
    decisions = ApprovalDecisionOut(many=True, read_only=True)
    requested_by = serializers.CharField(
        help_text="The credential it came through: user:<id>, api_key:<prefix> or system:<name>."
    )
    requested_by_user = serializers.UUIDField(
        source="requested_by_user_id",
        allow_null=True,
        help_text="The person answerable for the request (user id; for a request made "
        "through an API key, the key's person). Null when an operator asked. That person "
        "cannot decide on it.",
    )

    class Meta:
        model = ApprovalRequest
        fields = [
            "id",
            "deployment",
            "model_version",
            "requested_by",
            "requested_by_user",
            "reason",
            "required_approvals",
            "status",
            "decisions",
            "created_at",
        ]


class ApprovalRequestIn(StrictSerializer):
    deployment_id = ScopedPrimaryKey(Deployment)
    model_version_id = ScopedPrimaryKey(ModelVersion)
    reason = serializers.CharField(required=False, default="", allow_blank=True)


class ApprovalDecideIn(StrictSerializer):
    decision = serializers.ChoiceField(choices=ApprovalDecision.Decision.choices)
    comment = serializers.CharField(required=False, default="", allow_blank=True)


class ApprovalListCreateView(ListCreateView):
    model, out, serializer_class = ApprovalRequest, ApprovalRequestOut, ApprovalRequestOut
    write_capability = Capability.RECORD
    filters = {"deployment": "deployment_id", "status": "status"}

    @extend_schema(request=ApprovalRequestIn, responses={201: ApprovalRequestOut})
    def post(self, request: Request) -> Response:
        data = validated(ApprovalRequestIn, request)
        approval, receipt = services.approval_request_create(
            actor=self.principal,
            deployment=data["deployment_id"],
            model_version=data["model_version_id"],
            reason=data["reason"],
        )
        return receipt_response(ApprovalRequestOut(approval).data, receipt)


class ApprovalDetailView(DetailView):
    model, out, serializer_class = ApprovalRequest, ApprovalRequestOut, ApprovalRequestOut


class ApprovalDecideView(ComplianceView):
    model, serializer_class = ApprovalRequest, ApprovalRequestOut

    @extend_schema(request=ApprovalDecideIn, responses=ApprovalRequestOut)
    def post(self, request: Request, pk: int) -> Response:
        approval = self.scoped_get(ApprovalRequest, pk)
        approval, receipt = services.approval_decide(
            actor=self.principal, request=approval, **validated(ApprovalDecideIn, request)
        )
        return receipt_response(ApprovalRequestOut(approval).data, receipt, status_code=200)


class DeploymentStopView(ComplianceView):
    """The stop button (Art. 14(4)(e)): the deployment stops serving at once."""

    model, serializer_class = Deployment, DeploymentOut
    write_capability = Capability.RECORD

    @extend_schema(request=ReasonIn, responses=DeploymentOut)
    def post(self, request: Request, pk: int) -> Response:
        deployment, _, receipt = registry_services.deployment_stop(
            actor=self.principal,
            deployment=self.scoped_get(Deployment, pk),
            **validated(ReasonIn, request),
        )
        return receipt_response(DeploymentOut(deployment).data, receipt, status_code=200)


class DecisionOverrideOut(serializers.ModelSerializer):
    class Meta:
        model = DecisionOverride
        fields = [
            "id",
            "deployment",
            "prediction_batch",
            "row_index",
            "original_decision",
            "new_decision",
            "reason",
            "created_by",
            "created_at",
            "ledger_seq",
        ]


class DecisionOverrideIn(StrictSerializer):
    deployment_id = ScopedPrimaryKey(Deployment)
    prediction_batch_id = ScopedPrimaryKey(
        PredictionBatch, required=False, allow_null=True, default=None
    )
    row_index = serializers.IntegerField(required=False, allow_null=True, default=None)
    original_decision = DecisionField()
    new_decision = DecisionField()
    reason = serializers.CharField()


class DecisionOverrideListCreateView(ListCreateView):
    model, out, serializer_class = DecisionOverride, DecisionOverrideOut, DecisionOverrideOut
    filters = {"deployment": "deployment_id"}

    @extend_schema(request=DecisionOverrideIn, responses={201: DecisionOverrideOut})
    def post(self, request: Request) -> Response:
        data = validated(DecisionOverrideIn, request)
        override, receipt = services.decision_override_record(
            actor=self.principal,
            deployment=data.pop("deployment_id"),
            prediction_batch=data.pop("prediction_batch_id"),
            **data,
        )
        return receipt_response(DecisionOverrideOut(override).data, receipt)


# --- Incidents ----------------------------------------------------------------------------


class IncidentReportOut(serializers.ModelSerializer):
    class Meta:
        model = IncidentReport
        fields = [
            "id",
            "kind",
            "content",
            "root_cause",
            "corrective_actions",
            "created_by",
            "created_at",
            "ledger_seq",
        ]


class IncidentDeadlineOut(serializers.Serializer):
    duty = serializers.CharField()
    due = serializers.DateTimeField(allow_null=True, help_text="null: no causal link yet.")
    legal_source = serializers.CharField()


class RegimeIn(StrictSerializer):
    regime = serializers.ChoiceField(choices=list(rules.PARALLEL_REGIMES))
    reference = serializers.CharField(max_length=300)


class IncidentDetailsIn(StrictSerializer):
    """The Commission reporting template's facts; each optional, recorded when known."""

    member_state = serializers.ChoiceField(choices=list(rules.EU_MEMBER_STATES), required=False)
    receiving_authority = serializers.CharField(max_length=300, required=False)
    occurred_at = serializers.DateTimeField(required=False)
    causal_link_established_at = serializers.DateTimeField(required=False)
    harm_category = serializers.ChoiceField(choices=Incident.Harm.choices, required=False)
    parallel_regimes = RegimeIn(many=True, required=False)


class IncidentOut(serializers.ModelSerializer):
    reports = IncidentReportOut(many=True, read_only=True)
    blocks_changes = serializers.SerializerMethodField(
        help_text="Changes to the system are refused until the authority is informed."
    )
    deadlines = serializers.SerializerMethodField(
        help_text="Immediately after the causal link (Art. 73(2)), and the outer deadline."
    )

    class Meta:
        model = Incident
        fields = [
            "id",
            "system",
            "kind",
            "description",
            "became_aware_at",
            "reporting_deadline",
            "deadlines",
            *services.INCIDENT_DETAILS,
            "status",
            "authority_informed_at",
            "blocks_changes",
            "reports",
            "created_by",
            "created_at",
            "closed_at",
        ]

    def get_blocks_changes(self, incident: Incident) -> bool:
        return incident.status == Incident.Status.OPEN and incident.authority_informed_at is None

    @extend_schema_field(IncidentDeadlineOut(many=True))
    def get_deadlines(self, incident: Incident) -> list[dict]:
        return IncidentDeadlineOut(selectors.incident_deadlines(incident=incident), many=True).data


class IncidentIn(IncidentDetailsIn):
    system_id = ScopedPrimaryKey(AISystem)
    kind = serializers.ChoiceField(choices=Incident.Kind.choices)
    description = serializers.CharField()
    became_aware_at = serializers.DateTimeField()


class IncidentReportIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=IncidentReport.Kind.choices)
    content = serializers.CharField()
    root_cause = serializers.CharField(required=False, default="", allow_blank=True)
    corrective_actions = serializers.CharField(required=False, default="", allow_blank=True)


class AuthorityInformedIn(StrictSerializer):
    informed_at = serializers.DateTimeField()
    member_state = serializers.ChoiceField(
        choices=list(rules.EU_MEMBER_STATES), required=False, default=""
    )
    receiving_authority = serializers.CharField(max_length=300, required=False, default="")


class IncidentListCreateView(ListCreateView):
    model, out, serializer_class = Incident, IncidentOut, IncidentOut
    filters = {"system": "system_id", "status": "status", "kind": "kind"}

    @extend_schema(request=IncidentIn, responses={201: IncidentOut})
    def post(self, request: Request) -> Response:
        data = validated(IncidentIn, request)
        incident, receipt = services.incident_open(
            actor=self.principal, system=data.pop("system_id"), **data
        )
        return receipt_response(IncidentOut(incident).data, receipt)


class IncidentDetailView(DetailView):
    model, out, serializer_class = Incident, IncidentOut, IncidentOut

    @extend_schema(request=IncidentDetailsIn, responses=IncidentOut)
    def patch(self, request: Request, pk: int) -> Response:
        incident, receipt = services.incident_details_record(
            actor=self.principal,
            incident=self.get_object(),
            changes=dict(validated(IncidentDetailsIn, request)),
        )
        return receipt_response(IncidentOut(incident).data, receipt, status_code=200)


class IncidentReportView(ComplianceView):
    model, serializer_class = Incident, IncidentOut

    @extend_schema(request=IncidentReportIn, responses={201: IncidentOut})
    def post(self, request: Request, pk: int) -> Response:
        incident = self.scoped_get(Incident, pk)
        _, receipt = services.incident_report_add(
            actor=self.principal, incident=incident, **validated(IncidentReportIn, request)
        )
        incident.refresh_from_db()
        return receipt_response(IncidentOut(incident).data, receipt)


class IncidentAuthorityInformedView(ComplianceView):
    model, serializer_class = Incident, IncidentOut

    @extend_schema(request=AuthorityInformedIn, responses=IncidentOut)
    def post(self, request: Request, pk: int) -> Response:
        incident, receipt = services.incident_authority_informed(
            actor=self.principal,
            incident=self.scoped_get(Incident, pk),
            **validated(AuthorityInformedIn, request),
        )
        return receipt_response(IncidentOut(incident).data, receipt, status_code=200)


class IncidentCloseView(ComplianceView):
    model, serializer_class = Incident, IncidentOut

    @extend_schema(request=None, responses=IncidentOut)
    def post(self, request: Request, pk: int) -> Response:
        incident, receipt = services.incident_close(
            actor=self.principal, incident=self.scoped_get(Incident, pk)
        )
        return receipt_response(IncidentOut(incident).data, receipt, status_code=200)


# --- Fundamental-rights impact assessments --------------------------------------------


class FriaOut(serializers.ModelSerializer):
    class Meta:
        model = FundamentalRightsAssessment
        fields = [
            "id",
            "system",
            "version",
            *services.FRIA_ELEMENTS,
            "created_by",
            "created_at",
            "ledger_seq",
        ]


class FriaIn(StrictSerializer):
    system_id = ScopedPrimaryKey(AISystem)
    process_and_purpose = serializers.CharField(required=False, allow_blank=True, default="")
    period_and_frequency = serializers.CharField(required=False, allow_blank=True, default="")
    affected_categories = serializers.CharField(required=False, allow_blank=True, default="")
    specific_risks = serializers.CharField(required=False, allow_blank=True, default="")
    human_oversight_measures = serializers.CharField(required=False, allow_blank=True, default="")
    measures_if_risks_materialise = serializers.CharField(
        required=False, allow_blank=True, default=""
    )


class FriaListCreateView(ListCreateView):
    model, out, serializer_class = FundamentalRightsAssessment, FriaOut, FriaOut
    filters = {"system": "system_id"}

    @extend_schema(request=FriaIn, responses={201: FriaOut})
    def post(self, request: Request) -> Response:
        data = validated(FriaIn, request)
        fria, receipt = services.fria_record(
            actor=self.principal, system=data.pop("system_id"), **data
        )
        return receipt_response(FriaOut(fria).data, receipt)


class FriaDetailView(DetailView):
    model, out, serializer_class = FundamentalRightsAssessment, FriaOut, FriaOut


# --- Retention settings (Art. 18, 19, 26(6)) ------------------------------------------


class RetentionOut(serializers.ModelSerializer):
    class Meta:
        model = RetentionSetting
        fields = [
            "id",
            "system",
            "version",
            "documentation_years",
            "log_months",
            "created_by",
            "created_at",
            "ledger_seq",
        ]


class RetentionIn(StrictSerializer):
    system_id = ScopedPrimaryKey(AISystem)
    documentation_years = serializers.IntegerField(help_text="Art. 18(1): 10 to count.")
    log_months = serializers.IntegerField(help_text="Art. 19(1), Art. 26(6): 6 to count.")


class RetentionListCreateView(ListCreateView):
    """A system's retention settings (Art. 18, 19, 26(6)), newest first; POST records a
    new version."""

    model, out, serializer_class = RetentionSetting, RetentionOut, RetentionOut
    filters = {"system": "system_id"}

    @extend_schema(request=RetentionIn, responses={201: RetentionOut})
    def post(self, request: Request) -> Response:
        data = validated(RetentionIn, request)
        setting, receipt = services.retention_setting_record(
            actor=self.principal, system=data.pop("system_id"), **data
        )
        return receipt_response(RetentionOut(setting).data, receipt)


# --- Registration data (Art. 49, Annex VIII) ------------------------------------------


class RegistrationOut(serializers.ModelSerializer):
    class Meta:
        model = RegistrationRecord
        fields = [
            "id",
            "system",
            "version",
            "duty",
            "section",
            "database",
            "data",
            "created_by",
            "created_at",
            "ledger_seq",
        ]


def _registration_fields() -> dict[str, serializers.Field]:
    fields: dict[str, serializers.Field] = {}
    for section, (_, specs) in rules.ANNEX_VIII_SECTIONS.items():
        for spec in specs:
            fields.setdefault(
                spec.key,
                serializers.CharField(
                    required=False,
                    allow_blank=True,
                    max_length=5000,
                    help_text=f"Annex VIII Section {section}, point {spec.point}: {spec.label}.",
                ),
            )
    return fields


RegistrationDataIn = type(
    "RegistrationDataIn",
    (StrictSerializer,),
    {
        "__doc__": "Annex VIII fields by key; which are required depends on the section.",
        **_registration_fields(),
    },
)


class RegistrationIn(StrictSerializer):
    system_id = ScopedPrimaryKey(AISystem)
    database = serializers.ChoiceField(choices=list(rules.REGISTRATION_DATABASES))
    data = RegistrationDataIn(help_text="Annex VIII fields of the section, by key.")


class RegistrationListCreateView(ListCreateView):
    """A system's registration data (Art. 49, Annex VIII), newest first; POST records a
    new version for the database the checklist's registration duty names."""

    model, out, serializer_class = RegistrationRecord, RegistrationOut, RegistrationOut
    filters = {"system": "system_id"}

    @extend_schema(request=RegistrationIn, responses={201: RegistrationOut})
    def post(self, request: Request) -> Response:
        data = validated(RegistrationIn, request)
        record, receipt = services.registration_record(
            actor=self.principal,
            system=data["system_id"],
            database=data["database"],
            data=dict(data["data"]),
        )
        return receipt_response(RegistrationOut(record).data, receipt)


class RegistrationPointOut(serializers.Serializer):
    point = serializers.CharField()
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField(allow_null=True)


class RegistrationExportOut(serializers.Serializer):
    system = serializers.UUIDField()
    version = serializers.IntegerField()
    duty = serializers.CharField()
    database = serializers.CharField()
    section = serializers.CharField()
    legal_source = serializers.CharField()
    points = RegistrationPointOut(many=True)
    ledger_seq = serializers.IntegerField()
    recorded_at = serializers.DateTimeField()


class SystemRegistrationView(ComplianceView):
    """The system's current registration data, by Annex VIII point (404 if none)."""

    model, serializer_class = AISystem, RegistrationExportOut

    @extend_schema(responses=RegistrationExportOut)
    def get(self, request: Request, pk: int) -> Response:
        system = self.scoped_get(AISystem, pk)
        export = selectors.registration_export(system=system)
        if export is None:
            raise NotFound(f"System {pk} has no registration data recorded yet.")
        return Response(RegistrationExportOut(export).data)


# --- Remote biometric identification (Art. 12(3), Art. 14(5)) ---------------------------


class BiometricVerificationOut(serializers.ModelSerializer):
    verified_by = serializers.UUIDField(
        source="verified_by_id", help_text="Art. 12(3)(d): the person who verified (user id)."
    )

    class Meta:
        model = BiometricVerification
        fields = ["verified_by", "role", "outcome", "created_at", "ledger_seq"]


class BiometricMatchOut(serializers.ModelSerializer):
    verifications = BiometricVerificationOut(many=True, read_only=True)

    class Meta:
        model = BiometricMatch
        fields = [
            "id",
            "use",
            "input_sha256",
            "input_reference",
            "status",
            "verifications",
            "action",
            "acted_by",
            "acted_at",
            "created_by",
            "created_at",
            "ledger_seq",
        ]


class BiometricUseOut(serializers.ModelSerializer):
    matches = BiometricMatchOut(many=True, read_only=True)

    class Meta:
        model = BiometricUse
        fields = [
            "id",
            "system",
            "deployment",
            "started_at",
            "ended_at",
            "reference_database",
            "reference_database_sha256",
            "matches",
            "created_by",
            "created_at",
            "ledger_seq",
        ]


class BiometricUseIn(StrictSerializer):
    system_id = ScopedPrimaryKey(AISystem)
    deployment_id = ScopedPrimaryKey(Deployment, required=False, allow_null=True, default=None)
    started_at = serializers.DateTimeField(help_text="Art. 12(3)(a): start of the use.")
    ended_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Art. 12(3)(a): its end."
    )
    reference_database = serializers.CharField(
        max_length=300, help_text="Art. 12(3)(b): the reference database checked against."
    )
    reference_database_sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$", required=False, default="", help_text="Digest of its state used."
    )


class BiometricUseEndIn(StrictSerializer):
    ended_at = serializers.DateTimeField(help_text="Art. 12(3)(a): end of the use.")


class BiometricMatchIn(StrictSerializer):
    input_sha256 = serializers.CharField(
        help_text="Art. 12(3)(c): SHA-256 of the input data that led to the match."
    )
    input_reference = serializers.CharField(
        max_length=1000, required=False, default="", allow_blank=True
    )


class BiometricVerifyIn(StrictSerializer):
    outcome = serializers.ChoiceField(choices=BiometricVerification.Outcome.choices)


class BiometricActIn(StrictSerializer):
    action = serializers.CharField(help_text="The action or decision taken on the match.")


class BiometricUseListCreateView(ListCreateView):
    """The Art. 12(3) log of remote biometric identification systems (Annex III point
    1(a)): each use, its matches and who verified them. POST logs a use."""

    model, out, serializer_class = BiometricUse, BiometricUseOut, BiometricUseOut
    write_capability = Capability.RECORD
    filters = {"system": "system_id"}

    @extend_schema(request=BiometricUseIn, responses={201: BiometricUseOut})
    def post(self, request: Request) -> Response:
        data = validated(BiometricUseIn, request)
        use, receipt = services.biometric_use_start(
            actor=self.principal,
            system=data.pop("system_id"),
            deployment=data.pop("deployment_id"),
            **data,
        )
        return receipt_response(BiometricUseOut(use).data, receipt)


class BiometricUseDetailView(DetailView):
    model, out, serializer_class = BiometricUse, BiometricUseOut, BiometricUseOut


class BiometricUseEndView(ComplianceView):
    """Records the end of a use (Art. 12(3)(a))."""

    model, serializer_class = BiometricUse, BiometricUseOut
    write_capability = Capability.RECORD

    @extend_schema(request=BiometricUseEndIn, responses=BiometricUseOut)
    def post(self, request: Request, pk: int) -> Response:
        use, receipt = services.biometric_use_end(
            actor=self.principal,
            use=self.scoped_get(BiometricUse, pk),
            **validated(BiometricUseEndIn, request),
        )
        return receipt_response(BiometricUseOut(use).data, receipt, status_code=200)


class BiometricMatchCreateView(ComplianceView):
    """Logs a match of the use: the input data that led to it (Art. 12(3)(c))."""

    model, serializer_class = BiometricUse, BiometricMatchOut
    write_capability = Capability.RECORD

    @extend_schema(request=BiometricMatchIn, responses={201: BiometricMatchOut})
    def post(self, request: Request, pk: int) -> Response:
        match, receipt = services.biometric_match_record(
            actor=self.principal,
            use=self.scoped_get(BiometricUse, pk),
            **validated(BiometricMatchIn, request),
        )
        return receipt_response(BiometricMatchOut(match).data, receipt)


class BiometricMatchDetailView(DetailView):
    model, out, serializer_class = BiometricMatch, BiometricMatchOut, BiometricMatchOut


class BiometricMatchVerifyView(ComplianceView):
    """One person's separate verification of a match (Art. 14(5)); signed in only."""

    model, serializer_class = BiometricMatch, BiometricMatchOut
    write_capability = Capability.RECORD

    @extend_schema(request=BiometricVerifyIn, responses=BiometricMatchOut)
    def post(self, request: Request, pk: int) -> Response:
        match, receipt = services.biometric_match_verify(
            actor=self.principal,
            match=self.scoped_get(BiometricMatch, pk),
            **validated(BiometricVerifyIn, request),
        )
        return receipt_response(BiometricMatchOut(match).data, receipt, status_code=200)


class BiometricMatchActView(ComplianceView):
    """Records the action or decision taken on a match; refused (409, naming Art. 14(5))
    before the required separate confirmations."""

    model, serializer_class = BiometricMatch, BiometricMatchOut
    write_capability = Capability.RECORD

    @extend_schema(request=BiometricActIn, responses=BiometricMatchOut)
    def post(self, request: Request, pk: int) -> Response:
        match, receipt = services.biometric_match_act(
            actor=self.principal,
            match=self.scoped_get(BiometricMatch, pk),
            **validated(BiometricActIn, request),
        )
        return receipt_response(BiometricMatchOut(match).data, receipt, status_code=200)


class DualVerificationOut(serializers.ModelSerializer):
    class Meta:
        model = DualVerificationSetting
        fields = [
            "id",
            "system",
            "version",
            "exception_applies",
            "area",
            "legal_basis",
            "created_by",
            "created_at",
            "ledger_seq",
        ]


class DualVerificationIn(StrictSerializer):
    system_id = ScopedPrimaryKey(AISystem)
    exception_applies = serializers.BooleanField(
        help_text="Art. 14(5), second subparagraph: does Union or national law consider the "
        "two-person verification disproportionate for this use?"
    )
    area = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="law_enforcement, migration, border_control or asylum (when it applies).",
    )
    legal_basis = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="The Union or national law relied on (required when it applies).",
    )


class DualVerificationListCreateView(ListCreateView):
    """Whether the Art. 14(5) exception applies to a system, as recorded by the user
    (versioned, newest first). Without a setting, two persons must confirm."""

    model, out, serializer_class = (
        DualVerificationSetting,
        DualVerificationOut,
        DualVerificationOut,
    )
    filters = {"system": "system_id"}

    @extend_schema(request=DualVerificationIn, responses={201: DualVerificationOut})
    def post(self, request: Request) -> Response:
        data = validated(DualVerificationIn, request)
        setting, receipt = services.dual_verification_setting_record(
            actor=self.principal, system=data.pop("system_id"), **data
        )
        return receipt_response(DualVerificationOut(setting).data, receipt)


# --- General-purpose AI models (Art. 53, Art. 55, Annex XI, Annex XII) ---------------------


class GpaiDocumentationOut(serializers.ModelSerializer):
    class Meta:
        model = GpaiDocumentation
        fields = ["id", "system", "version", "data", "created_by", "created_at", "ledger_seq"]


class GpaiDocumentationIn(StrictSerializer):
    system_id = ScopedPrimaryKey(AISystem)
    data = GpaiDataField()


class GpaiDocumentationListCreateView(ListCreateView):
    """What the provider states about a general-purpose AI model (Annex XI, Annex XII,
    the training-content summary), versioned, newest first."""

    model, out, serializer_class = GpaiDocumentation, GpaiDocumentationOut, GpaiDocumentationOut
    filters = {"system": "system_id"}

    @extend_schema(request=GpaiDocumentationIn, responses={201: GpaiDocumentationOut})
    def post(self, request: Request) -> Response:
        data = validated(GpaiDocumentationIn, request)
        doc, receipt = services.gpai_documentation_record(
            actor=self.principal, system=data["system_id"], data=data["data"]
        )
        return receipt_response(GpaiDocumentationOut(doc).data, receipt)
