"""Human oversight (Art. 14): approval requests for a model version on a deployment,
and the decisions of owners and compliance officers on them."""

from __future__ import annotations

from django.db import transaction

from apps.compliance import events, selectors
from apps.compliance.models import ApprovalDecision, ApprovalRequest
from apps.compliance.services._common import who
from apps.ledger.digests import text_sha256
from apps.ledger.types import Receipt
from apps.registry.models import Deployment, ModelVersion
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import Forbidden, InvalidInput, RuleViolation
from audit_platform.principal import Principal
from audit_platform.roles import Role

APPROVER_ROLES = (Role.OWNER, Role.COMPLIANCE_OFFICER)


def approval_request_create(
    *, actor: Principal, deployment: Deployment, model_version: ModelVersion, reason: str = ""
) -> tuple[ApprovalRequest, Receipt]:
    if model_version.model.system_id != deployment.system_id:
        raise RuleViolation(
            f"Model version {model_version.pk} belongs to another AI system than deployment "
            f"{deployment.pk}."
        )
    with transaction.atomic():
        pending = ApprovalRequest.objects.filter(
            deployment=deployment,
            model_version=model_version,
            status__in=[ApprovalRequest.Status.PENDING, ApprovalRequest.Status.APPROVED],
        ).first()
        if pending is not None:
            raise RuleViolation(
                f"Approval request {pending.pk} for this version and deployment is "
                f"{pending.status} already."
            )
        request = ApprovalRequest.objects.create(
            deployment=deployment,
            model_version=model_version,
            requested_by=who(actor),
            reason=reason,
            required_approvals=selectors.required_approvals(),
        )
        receipt = record_event(
            actor=actor,
            event=events.APPROVAL_REQUESTED,
            id=request.pk,
            data={
                "deployment": record_ref("deployment", deployment),
                "model_version": record_ref("model_version", model_version),
                "sha256": model_version.artifact_sha256,
                "required_approvals": request.required_approvals,
                **({"reason_sha256": text_sha256(reason)} if reason else {}),
            },
        )
    return request, receipt


def approval_decide(
    *, actor: Principal, request: ApprovalRequest, decision: str, comment: str = ""
) -> tuple[ApprovalRequest, Receipt]:
    """An owner or compliance officer, in person and not the requester, approves or
    rejects. Enough approvals make the request approved; one rejection rejects it."""
    if actor.kind != "user" or actor.user is None:
        raise Forbidden(
            "Approvals are given by people: sign in as an owner or compliance officer "
            "(an API key cannot approve)."
        )
    if actor.role not in APPROVER_ROLES:
        raise Forbidden(
            f"The role '{actor.role}' cannot approve deployments; owners and compliance "
            "officers can (Art. 14)."
        )
    if decision not in ApprovalDecision.Decision.values:
        raise InvalidInput("decision must be approve or reject.", fields={"decision": ["Invalid."]})
    with transaction.atomic():
        request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
        if request.requested_by == who(actor):
            raise Forbidden(
                f"You requested approval request {request.pk}; someone else must approve it "
                "(no self-approval)."
            )
        if request.status != ApprovalRequest.Status.PENDING:
            raise RuleViolation(f"Approval request {request.pk} is {request.status} already.")
        if request.decisions.filter(decided_by=actor.user).exists():
            raise RuleViolation(f"You decided on approval request {request.pk} already.")
        ApprovalDecision.objects.create(
            request=request,
            decided_by=actor.user,
            role=actor.role,
            decision=decision,
            comment=comment,
            ledger_seq=0,
        )
        approvals = request.decisions.filter(decision=ApprovalDecision.Decision.APPROVE).count()
        if decision == ApprovalDecision.Decision.REJECT:
            request.status = ApprovalRequest.Status.REJECTED
        elif approvals >= request.required_approvals:
            request.status = ApprovalRequest.Status.APPROVED
        request.save(update_fields=["status"])
        receipt = record_event(
            actor=actor,
            event=events.APPROVAL_DECIDED,
            id=request.pk,
            data={
                "decision": decision,
                "role": actor.role,
                "approvals": approvals,
                "required_approvals": request.required_approvals,
                "status": request.status,
                **({"comment_sha256": text_sha256(comment)} if comment else {}),
            },
        )
        ApprovalDecision.objects.filter(request=request, decided_by=actor.user).update(
            ledger_seq=receipt.seq
        )
    return request, receipt
