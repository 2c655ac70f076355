"""Isolation cases for the compliance routes (see tests/api_routes.py)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.compliance import services as compliance_services
from tests import factories
from tests.api_routes import DETAIL, RouteCase


def victim(org) -> dict[str, Any]:
    """One record of every compliance kind, made through the services."""
    system = factories.AISystemFactory(
        organization=org, name="Victim compliance system", role="deployer"
    )
    classification = factories.ClassificationFactory(system=system)
    risk = factories.RiskFactory(system=system, hazard="victim-hazard")
    assessment = factories.AssessmentFactory(
        system=system, dataset_version__dataset__name="victim-c-data"
    )
    model_version = factories.ModelVersionFactory(
        model__system=system, model__name="victim-c-model", uri="s3://victim-c-model"
    )
    deployment = factories.DeploymentFactory(
        system=system, environment="prod", serving=model_version
    )
    approval = factories.ApprovalRequestFactory(deployment=deployment, model_version=model_version)
    override = factories.DecisionOverrideFactory(deployment=deployment, reason="r")
    fria = factories.FriaFactory(system=system, text="victim-fria")
    incident = factories.IncidentFactory(system=system, description="victim-incident")
    biometric = factories.AISystemFactory(
        organization=org, name="Victim biometric system", role="deployer"
    )
    factories.ClassificationFactory(
        system=biometric,
        answers=factories.questionnaire_answers(
            role="deployer", annex_iii_area="biometrics", annex_iii_point="1a"
        ),
    )
    use = compliance_services.biometric_use_start(
        actor=factories.tests_actor(org),
        system=biometric,
        started_at=timezone.now(),
        reference_database="victim-reference-db",
    )[0]
    match = compliance_services.biometric_match_record(
        actor=factories.tests_actor(org), use=use, input_sha256="cd" * 32
    )[0]
    return {
        "c_biometric_use": use,
        "c_biometric_match": match,
        "c_system": system,
        "c_classification": classification,
        "c_risk": risk,
        "c_assessment": assessment,
        "c_deployment": deployment,
        "c_approval": approval,
        "c_override": override,
        "c_fria": fria,
        "c_incident": incident,
    }


def secrets(objects: dict[str, Any]) -> list[str]:
    return [
        "Victim compliance system",
        "victim-hazard",
        "victim-fria",
        "victim-incident",
        "victim-c-model",
        "victim-reference-db",
        "Victim biometric system",
    ]


CASES = {
    "compliance-questionnaire": RouteCase("get", lambda v: {}, 200),
    # The deployment is looked up (and found not to be the caller's) before the version.
    "deployment-gate": RouteCase(
        "get", lambda v: {"pk": v["c_deployment"].pk}, DETAIL, query={"model_version": "1"}
    ),
    "compliance-gaps": RouteCase("get", lambda v: {}, 200),
    "classification-list": RouteCase("get", lambda v: {}, 200),
    "classification-detail": RouteCase("get", lambda v: {"pk": v["c_classification"].pk}, DETAIL),
    "classification-decide": RouteCase(
        "post", lambda v: {"pk": v["c_classification"].pk}, DETAIL, body={"decision": "confirm"}
    ),
    "gate-alert-list": RouteCase("get", lambda v: {}, 200),
    "system-obligations": RouteCase("get", lambda v: {"pk": v["c_system"].pk}, DETAIL),
    "obligation-evidence-list": RouteCase("get", lambda v: {}, 200),
    "risk-list": RouteCase("get", lambda v: {}, 200),
    "risk-detail": RouteCase(
        "patch", lambda v: {"pk": v["c_risk"].pk}, DETAIL, body={"severity": "minor"}
    ),
    "assessment-list": RouteCase("get", lambda v: {}, 200),
    "assessment-detail": RouteCase("get", lambda v: {"pk": v["c_assessment"].pk}, DETAIL),
    "assessment-test-report": RouteCase("get", lambda v: {"pk": v["c_assessment"].pk}, DETAIL),
    "assessment-sign": RouteCase(
        "post",
        lambda v: {"pk": v["c_assessment"].pk},
        DETAIL,
        body={"report_sha256": "ab" * 32, "function": "test lead"},
    ),
    "approval-list": RouteCase("get", lambda v: {}, 200),
    "approval-detail": RouteCase("get", lambda v: {"pk": v["c_approval"].pk}, DETAIL),
    "approval-decide": RouteCase(
        "post", lambda v: {"pk": v["c_approval"].pk}, DETAIL, body={"decision": "approve"}
    ),
    "deployment-stop": RouteCase(
        "post", lambda v: {"pk": v["c_deployment"].pk}, DETAIL, body={"reason": "x"}
    ),
    "decision-override-list": RouteCase("get", lambda v: {}, 200),
    "incident-list": RouteCase("get", lambda v: {}, 200),
    "incident-detail": RouteCase("get", lambda v: {"pk": v["c_incident"].pk}, DETAIL),
    "incident-report": RouteCase(
        "post",
        lambda v: {"pk": v["c_incident"].pk},
        DETAIL,
        body={"kind": "initial", "content": "x"},
    ),
    "incident-authority-informed": RouteCase(
        "post",
        lambda v: {"pk": v["c_incident"].pk},
        DETAIL,
        body={"informed_at": "2030-01-01T00:00:00Z"},
    ),
    "incident-close": RouteCase("post", lambda v: {"pk": v["c_incident"].pk}, DETAIL),
    "fria-list": RouteCase("get", lambda v: {}, 200),
    "fria-detail": RouteCase("get", lambda v: {"pk": v["c_fria"].pk}, DETAIL),
    "retention-list": RouteCase("get", lambda v: {}, 200),
    "registration-list": RouteCase("get", lambda v: {}, 200),
    "system-registration": RouteCase("get", lambda v: {"pk": v["c_system"].pk}, DETAIL),
    "biometric-use-list": RouteCase("get", lambda v: {}, 200),
    "biometric-use-detail": RouteCase("get", lambda v: {"pk": v["c_biometric_use"].pk}, DETAIL),
    "biometric-use-end": RouteCase(
        "post",
        lambda v: {"pk": v["c_biometric_use"].pk},
        DETAIL,
        body={"ended_at": "2030-01-01T00:00:00Z"},
    ),
    "biometric-match-create": RouteCase(
        "post", lambda v: {"pk": v["c_biometric_use"].pk}, DETAIL, body={"input_sha256": "ab" * 32}
    ),
    "biometric-match-detail": RouteCase("get", lambda v: {"pk": v["c_biometric_match"].pk}, DETAIL),
    "biometric-match-verify": RouteCase(
        "post", lambda v: {"pk": v["c_biometric_match"].pk}, DETAIL, body={"outcome": "confirmed"}
    ),
    "biometric-match-act": RouteCase(
        "post", lambda v: {"pk": v["c_biometric_match"].pk}, DETAIL, body={"action": "x"}
    ),
    "dual-verification-list": RouteCase("get", lambda v: {}, 200),
    "gpai-documentation-list": RouteCase("get", lambda v: {}, 200),
}
