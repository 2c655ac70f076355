"""Isolation cases for the compliance routes (see tests/api_routes.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from apps.compliance import services as compliance
from apps.compliance.models import Assessment
from apps.registry import services as registry
from audit_platform.principal import Principal
from tests.api_routes import DETAIL, RouteCase
from tests.support import answers


def victim(org) -> dict[str, Any]:
    """One record of every compliance kind, made through the services."""
    actor = Principal.system(organization=org, name="tests")
    system, _ = registry.ai_system_register(
        actor=actor, name="Victim compliance system", intended_purpose="p", role="deployer"
    )
    classification, _ = compliance.classification_record(
        actor=actor, system=system, answers=answers(role="deployer")
    )
    risk, _ = compliance.risk_create(
        actor=actor,
        system=system,
        hazard="victim-hazard",
        affected_persons="applicants",
        likelihood="possible",
        severity="major",
        residual_risk="medium",
        review_date=date(2030, 1, 1),
    )
    dataset, _ = registry.dataset_create(actor=actor, system=system, name="victim-c-data")
    dataset_version, _ = registry.dataset_version_register(
        actor=actor,
        dataset=dataset,
        version="1",
        sha256="a1" * 32,
        size_bytes=1,
        row_count=1,
        schema=[{"name": "x", "type": "number"}],
        split="test",
        datasheet={f: "x" for f in registry.DATASHEET_FIELDS} | {"preparation_steps": {}},
        contains_personal_data=False,
        contains_special_category_data=False,
        uri="s3://victim-c",
    )
    # No uploaded file here, so the row is made directly: only its visibility is tested.
    assessment = Assessment.objects.create(
        system=system,
        dataset_version=dataset_version,
        kind="performance",
        task="classification",
        config={},
        thresholds={"accuracy": {"min": 0.5}},
        created_by="system:tests",
    )
    model, _ = registry.model_create(actor=actor, system=system, name="victim-c-model")
    model_version, _ = registry.model_version_register(
        actor=actor,
        model=model,
        version="1",
        artifact_sha256="b1" * 32,
        artifact_format="onnx",
        framework="onnx",
        framework_version="1",
        uri="s3://victim-c-model",
    )
    deployment, _ = registry.deployment_create(actor=actor, system=system, environment="prod")
    registry.deployment_activate(actor=actor, deployment=deployment, model_version=model_version)
    approval, _ = compliance.approval_request_create(
        actor=actor, deployment=deployment, model_version=model_version
    )
    override, _ = compliance.decision_override_record(
        actor=actor, deployment=deployment, original_decision=0, new_decision=1, reason="r"
    )
    fria, _ = compliance.fria_record(
        actor=actor,
        system=system,
        **{element: "victim-fria" for element in compliance.FRIA_ELEMENTS},
    )
    incident, _ = compliance.incident_open(
        actor=actor,
        system=system,
        kind="general",
        description="victim-incident",
        became_aware_at=timezone.now(),
    )
    return {
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
    ]


CASES = {
    "compliance-questionnaire": RouteCase("get", lambda v: {}, 200),
    "compliance-gaps": RouteCase("get", lambda v: {}, 200),
    "classification-list": RouteCase("get", lambda v: {}, 200),
    "classification-detail": RouteCase("get", lambda v: {"pk": v["c_classification"].pk}, DETAIL),
    "system-obligations": RouteCase("get", lambda v: {"pk": v["c_system"].pk}, DETAIL),
    "obligation-evidence-list": RouteCase("get", lambda v: {}, 200),
    "risk-list": RouteCase("get", lambda v: {}, 200),
    "risk-detail": RouteCase(
        "patch", lambda v: {"pk": v["c_risk"].pk}, DETAIL, body={"severity": "minor"}
    ),
    "assessment-list": RouteCase("get", lambda v: {}, 200),
    "assessment-detail": RouteCase("get", lambda v: {"pk": v["c_assessment"].pk}, DETAIL),
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
}
