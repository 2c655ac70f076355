"""Human oversight (Art. 14): a high-risk deployment serves only approved versions,
through every path; no self-approval; the stop button; decision overrides."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from apps.compliance.models import ApprovalDecision
from apps.registry import selectors as registry_selectors
from apps.registry import services as registry
from apps.registry.models import Deployment, DeploymentEvent, ModelVersion
from audit_platform.errors import RuleViolation
from audit_platform.principal import Principal
from tests.support import (
    assert_nothing_written,
    entry_types,
    last_entry,
    sign_in_with_second_factor,
)

HIGH_RISK = {"annex_iii_area": "essential_services", "profiling": True}


def test_unapproved_high_risk_deployment_is_refused_through_the_api(call, deployed, org):
    _, deployment, (v1, _) = deployed(**HIGH_RISK)
    before = entry_types(org)
    error = call(
        "post", "deployment-activate", {"model_version_id": v1}, status=409, pk=deployment
    )["error"]
    assert "high-risk" in error["message"]
    assert "0 of the 1 approval(s)" in error["message"]
    assert Deployment.objects.get(pk=deployment).status == "pending"
    assert not DeploymentEvent.objects.filter(deployment_id=deployment).exists()
    assert entry_types(org) == before


def test_unapproved_high_risk_deployment_is_refused_through_a_service_call(deployed, org):
    _, deployment, (v1, _) = deployed(**HIGH_RISK)
    with assert_nothing_written(), pytest.raises(RuleViolation, match="high-risk"):
        registry.deployment_activate(
            actor=Principal.system(organization=org, name="script"),
            deployment=Deployment.objects.get(pk=deployment),
            model_version=ModelVersion.objects.get(pk=v1),
        )
    assert Deployment.objects.get(pk=deployment).model_version is None


def test_the_admin_offers_no_way_to_activate_a_deployment(client, deployed):
    _, deployment, (v1, _) = deployed(**HIGH_RISK)
    admin_user = get_user_model().objects.create_superuser("root", "root@x.example", "pw-123456")
    sign_in_with_second_factor(client, admin_user)
    url = reverse("admin:registry_deployment_change", args=[deployment])
    response = client.post(url, {"status": "active", "model_version": v1})
    assert response.status_code == 403
    assert Deployment.objects.get(pk=deployment).model_version is None


def test_an_approved_version_can_be_activated(call, deployed, person, org):
    _, deployment, (v1, v2) = deployed(**HIGH_RISK)
    engineer, _ = person("ml_engineer", "eng@acme.example")
    approver, _ = person("compliance_officer", "co@acme.example")
    request = call(
        "post",
        "approval-list",
        {"deployment_id": deployment, "model_version_id": v1, "reason": "quarterly model"},
        client=engineer,
    )
    assert request["status"] == "pending"
    decided = call(
        "post",
        "approval-decide",
        {"decision": "approve", "comment": "validated"},
        status=200,
        client=approver,
        pk=request["id"],
    )
    assert decided["status"] == "approved"
    assert last_entry(org, "approval.decided")["data"]["status"] == "approved"
    call("post", "deployment-activate", {"model_version_id": v1}, status=200, pk=deployment)
    # Approval is per version: the next one needs its own.
    call("post", "deployment-activate", {"model_version_id": v2}, status=409, pk=deployment)


def test_the_requester_cannot_approve(call, deployed, person):
    _, deployment, (v1, _) = deployed(**HIGH_RISK)
    officer_person, _ = person("compliance_officer", "co@acme.example")
    request = call(
        "post",
        "approval-list",
        {"deployment_id": deployment, "model_version_id": v1},
        client=officer_person,
    )
    error = call(
        "post",
        "approval-decide",
        {"decision": "approve"},
        status=403,
        client=officer_person,
        pk=request["id"],
    )["error"]
    assert "no self-approval" in error["message"]
    assert not ApprovalDecision.objects.exists()
    call("post", "deployment-activate", {"model_version_id": v1}, status=409, pk=deployment)


@pytest.mark.parametrize("role", ["ml_engineer", "auditor"])
def test_only_owners_and_compliance_officers_approve(call, deployed, person, role):
    _, deployment, (v1, _) = deployed(**HIGH_RISK)
    request = call("post", "approval-list", {"deployment_id": deployment, "model_version_id": v1})
    someone, _ = person(role, f"{role}@acme.example")
    call(
        "post",
        "approval-decide",
        {"decision": "approve"},
        status=403,
        client=someone,
        pk=request["id"],
    )
    assert not ApprovalDecision.objects.exists()


def test_an_api_key_cannot_approve(call, deployed, client_for, org):
    _, deployment, (v1, _) = deployed(**HIGH_RISK)
    engineer = client_for(org, "ml_engineer")
    request = call(
        "post",
        "approval-list",
        {"deployment_id": deployment, "model_version_id": v1},
        client=engineer,
    )
    error = call("post", "approval-decide", {"decision": "approve"}, status=403, pk=request["id"])[
        "error"
    ]
    assert "API key cannot approve" in error["message"]


def test_required_approvals_is_configurable(call, deployed, person, settings):
    settings.COMPLIANCE_REQUIRED_APPROVALS = 2
    _, deployment, (v1, _) = deployed(**HIGH_RISK)
    request = call("post", "approval-list", {"deployment_id": deployment, "model_version_id": v1})
    first, _ = person("compliance_officer", "a@acme.example")
    second, _ = person("owner", "b@acme.example")
    assert (
        call(
            "post",
            "approval-decide",
            {"decision": "approve"},
            status=200,
            client=first,
            pk=request["id"],
        )["status"]
        == "pending"
    )
    error = call(
        "post", "deployment-activate", {"model_version_id": v1}, status=409, pk=deployment
    )["error"]
    assert "1 of the 2 approval(s)" in error["message"]
    # The same person twice does not count twice.
    call(
        "post",
        "approval-decide",
        {"decision": "approve"},
        status=409,
        client=first,
        pk=request["id"],
    )
    assert (
        call(
            "post",
            "approval-decide",
            {"decision": "approve"},
            status=200,
            client=second,
            pk=request["id"],
        )["status"]
        == "approved"
    )
    call("post", "deployment-activate", {"model_version_id": v1}, status=200, pk=deployment)


def test_a_rejection_closes_the_request(call, deployed, person):
    _, deployment, (v1, _) = deployed(**HIGH_RISK)
    request = call("post", "approval-list", {"deployment_id": deployment, "model_version_id": v1})
    approver, _ = person("compliance_officer", "co@acme.example")
    assert (
        call(
            "post",
            "approval-decide",
            {"decision": "reject"},
            status=200,
            client=approver,
            pk=request["id"],
        )["status"]
        == "rejected"
    )
    call("post", "deployment-activate", {"model_version_id": v1}, status=409, pk=deployment)


def test_a_classified_system_that_is_not_high_risk_is_not_gated(call, deployed):
    """An unclassified one is: tests/compliance/test_separation_of_duties.py."""
    _, deployment, (v1, _) = deployed(name="Chatbot", interacts_with_persons=True)
    call("post", "deployment-activate", {"model_version_id": v1}, status=200, pk=deployment)


def test_reclassifying_as_high_risk_gates_the_next_change(call, deployed, person):
    system, deployment, (v1, v2) = deployed()
    call("post", "deployment-activate", {"model_version_id": v1}, status=200, pk=deployment)
    from tests.support import answers

    call(
        "post",
        "classification-list",
        {"system_id": system["id"], "answers": answers(**HIGH_RISK)},
    )
    call("post", "deployment-activate", {"model_version_id": v2}, status=409, pk=deployment)


def test_rollback_to_an_unapproved_version_of_a_high_risk_system_is_refused(call, deployed):
    system, deployment, (v1, v2) = deployed()
    call("post", "deployment-activate", {"model_version_id": v1}, status=200, pk=deployment)
    call("post", "deployment-activate", {"model_version_id": v2}, status=200, pk=deployment)
    from tests.support import answers

    call(
        "post", "classification-list", {"system_id": system["id"], "answers": answers(**HIGH_RISK)}
    )
    error = call("post", "deployment-rollback", {"reason": "bad"}, status=409, pk=deployment)
    assert "rollback is refused" in error["error"]["message"]


def test_the_stop_button_stops_serving_and_is_recorded(call, deployed, org, client_for):
    _, deployment, (v1, v2) = deployed()
    call("post", "deployment-activate", {"model_version_id": v1}, status=200, pk=deployment)
    call("post", "deployment-activate", {"model_version_id": v2}, status=200, pk=deployment)
    stopped = call(
        "post",
        "deployment-stop",
        {"reason": "drift alarm"},
        status=200,
        client=client_for(org, "ml_engineer"),
        pk=deployment,
    )
    assert (stopped["status"], stopped["model_version"]) == ("stopped", None)
    entry = last_entry(org, "deployment.stopped")
    assert entry["data"]["model_version"] == {"kind": "model_version", "id": str(v2)}
    assert "drift alarm" not in str(entry)
    dep = Deployment.objects.get(pk=deployment)
    assert registry_selectors.served_at(deployment=dep, at=timezone.now()) is None
    call("post", "deployment-stop", {"reason": "again"}, status=409, pk=deployment)
    # After a stop, rolling back returns to the version before the stopped one.
    back = call("post", "deployment-rollback", {"reason": "restore"}, status=200, pk=deployment)
    assert (back["status"], back["model_version"]) == ("active", v1)


def test_auditors_cannot_press_the_stop_button(call, deployed, org, client_for):
    _, deployment, (v1, _) = deployed()
    call("post", "deployment-activate", {"model_version_id": v1}, status=200, pk=deployment)
    call(
        "post",
        "deployment-stop",
        {"reason": "x"},
        status=403,
        client=client_for(org, "auditor"),
        pk=deployment,
    )


def test_an_override_is_recorded_without_its_content(call, deployed, org):
    _, deployment, _ = deployed()
    override = call(
        "post",
        "decision-override-list",
        {
            "deployment_id": deployment,
            "original_decision": {"approved": False},
            "new_decision": {"approved": True},
            "reason": "Applicant provided missing payslips",
        },
    )
    assert override["new_decision"] == {"approved": True}
    entry = last_entry(org, "decision.overridden")
    assert set(entry["data"]) >= {
        "original_decision_sha256",
        "new_decision_sha256",
        "reason_sha256",
    }
    assert "payslips" not in str(entry)
    call(
        "post",
        "decision-override-list",
        {"deployment_id": deployment, "original_decision": 1, "new_decision": 1, "reason": "x"},
        status=400,
    )
