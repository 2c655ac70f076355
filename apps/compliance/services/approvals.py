"""Human oversight (Art. 14): approval requests for a model version on a deployment,
and the decisions of owners and compliance officers on them.

Separation of duties compares people, not credentials: a request made through an API
key is the request of the person answerable for that key, and nobody decides on a
request they stand behind. Approvals count only on their own request (a rejection
ends it; a request for another version supersedes a pending one)."""

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


def _person(user_id: int | None) -> str | None:
    return None if user_id is None else str(user_id)


def approval_request_create(
    *, actor: Principal, deployment: Deployment, model_version: ModelVersion, reason: str = ""
) -> tuple[ApprovalRequest, Receipt]:
    """Opens the request for ``model_version`` on ``deployment``, in the name of the
    person behind ``actor``; a pending request for another version of the deployment
    ends (superseded), with its approvals."""
    if model_version.model.system_id != deployment.system_id:
        raise RuleViolation(
            f"Model version {model_version.pk} belongs to another AI system than deployment "
            f"{deployment.pk}."
        )
    if actor.kind == "api_key" and actor.person_id is None:
        raise Forbidden(
            f"Separation of duties: API key {actor.id} names no person answerable for it, so "
            "its request could not be kept apart from its approval. Use a key created by a "
            "person (or with create_api_key --answerable-email)."
        )
    with transaction.atomic():
        Deployment.objects.select_for_update().filter(pk=deployment.pk).first()
        open_requests = ApprovalRequest.objects.filter(
            deployment=deployment,
            status__in=[ApprovalRequest.Status.PENDING, ApprovalRequest.Status.APPROVED],
        )
        pending = open_requests.filter(model_version=model_version).first()
        if pending is not None:
            raise RuleViolation(
                f"Approval request {pending.pk} for this version and deployment is "
                f"{pending.status} already."
            )
        superseded = list(
            open_requests.filter(status=ApprovalRequest.Status.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        ApprovalRequest.objects.filter(pk__in=superseded).update(
            status=ApprovalRequest.Status.SUPERSEDED
        )
        request = ApprovalRequest.objects.create(
            deployment=deployment,
            model_version=model_version,
            requested_by=who(actor),
            requested_by_user_id=actor.person_id,
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
                "requested_by_user_id": _person(actor.person_id),
                "supersedes": [str(pk) for pk in superseded],
                **({"reason_sha256": text_sha256(reason)} if reason else {}),
            },
        )
    return request, receipt


def _check_approver(actor: Principal) -> None:
    if not actor.in_person:
        raise Forbidden(
            "Approvals are given by people: sign in as an owner or compliance officer "
            "(an API key cannot approve)."
        )
    if actor.role not in APPROVER_ROLES:
        raise Forbidden(
            f"The role '{actor.role}' cannot approve deployments; owners and compliance "
            "officers can (Art. 14)."
        )
    actor.require_second_factor(act="Deciding on a deployment's approval")


def _check_separation(actor: Principal, request: ApprovalRequest) -> None:
    """Nobody decides on a request they stand behind, however it was made."""
    if request.requested_by == who(actor) or (
        request.requested_by_user_id is not None and request.requested_by_user_id == actor.person_id
    ):
        through = (
            f"through API key {request.requested_by.removeprefix('api_key:')}, which you are "
            "answerable for"
            if request.requested_by.startswith("api_key:")
            else "in your session"
        )
        raise Forbidden(
            f"Separation of duties: you requested approval request {request.pk} ({through}); "
            "another owner or compliance officer must decide on it (no self-approval)."
        )


def approval_decide(
    *, actor: Principal, request: ApprovalRequest, decision: str, comment: str = ""
) -> tuple[ApprovalRequest, Receipt]:
    """An owner or compliance officer, in person and not the person behind the request,
    approves or rejects. Enough approvals on this request make it approved; one
    rejection rejects it, and its approvals then count for nothing."""
    _check_approver(actor)
    if decision not in ApprovalDecision.Decision.values:
        raise InvalidInput("decision must be approve or reject.", fields={"decision": ["Invalid."]})
    with transaction.atomic():
        request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
        _check_separation(actor, request)
        if request.status != ApprovalRequest.Status.PENDING:
            raise RuleViolation(
                f"Approval request {request.pk} is {request.status} already: decisions count "
                "only on an open request (ask for a new one)."
            )
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
                "requested_by_user_id": _person(request.requested_by_user_id),
                "decided_by_user_id": _person(actor.person_id),
                **({"comment_sha256": text_sha256(comment)} if comment else {}),
            },
        )
        ApprovalDecision.objects.filter(request=request, decided_by=actor.user).update(
            ledger_seq=receipt.seq
        )
    return request, receipt
