"""A declaration of conformity states only what the record backs (Art. 47, Annex V):
it is refused, with every reason and no PDF, for a system that is not high-risk, a
deployer's system, or one without a completed conformity assessment; when issued it
names the provider with its address, the data-protection statement, the place and date
of issue, the signatory with their function, the version it covers, and how long it is
kept."""

from __future__ import annotations

import pytest

from apps.compliance import services as compliance
from apps.ledger.models import Entry
from apps.registry import services as registry
from apps.reports.demo import (
    HIGH_RISK_ANSWERS,
    demo_answers,
    demo_declaration_ready,
    demo_system_seed,
)
from apps.reports.models import Report
from audit_platform.principal import Principal
from tests.reports.conftest import SIGNATORY, pdf_text, serve_approved


def _declaration(system, **extra) -> dict:
    return {"kind": "declaration_of_conformity", "system_id": system.pk, **SIGNATORY, **extra}


def _refused(request_report, payload, org) -> str:
    report = request_report(payload)
    assert report["status"] == "failed" and report["pdf_url"] is None
    assert not Report.objects.get(pk=report["id"]).pdf
    failed = Entry.objects.filter(log__organization=org, type="report.failed")
    assert failed.count() == 1
    assert not Entry.objects.filter(log__organization=org, type="report.generated").exists()
    return report["failure_reason"]


def test_refused_for_a_system_classified_prohibited(org, request_report):
    system = demo_system_seed(organization=org, model_versions=1, batches=0)
    actor = Principal.system(organization=org, name="tests")
    compliance.classification_record(
        actor=actor,
        system=system,
        answers=demo_answers({**HIGH_RISK_ANSWERS, "prohibited_practices": ["social_scoring"]}),
    )
    reason = _refused(request_report, _declaration(system), org)
    assert "classified prohibited" in reason and "not high-risk" in reason
    assert "Art. 47(1)" in reason
    # Every reason at once, so one fix-up round is enough.
    assert "conformity assessment" in reason and "Art. 43" in reason
    assert "address" in reason


def test_refused_for_an_unclassified_system(org, request_report):
    system = demo_system_seed(organization=org, model_versions=1, batches=0, classify=False)
    reason = _refused(request_report, _declaration(system), org)
    assert "not classified" in reason


def test_refused_without_a_completed_conformity_assessment(org, request_report):
    system = demo_system_seed(organization=org, model_versions=1, batches=0)
    actor = Principal.system(organization=org, name="tests")
    compliance.classification_record(
        actor=actor, system=system, answers=demo_answers(HIGH_RISK_ANSWERS)
    )
    registry.ai_system_provider_record(
        actor=actor,
        system=system,
        provider_name="Acme",
        provider_address="Street 1, Berlin",
        data_protection_statement="GDPR compliant.",
    )
    reason = _refused(request_report, _declaration(system), org)
    assert (
        "no completed conformity assessment is on the record (Art. 43): attach its evidence "
        "to obligation art_43" in reason
    )


def test_refused_for_a_deployer(org, request_report):
    actor = Principal.system(organization=org, name="tests")
    system, _ = registry.ai_system_register(
        actor=actor, name="Bought scorer", intended_purpose="Scores credit", role="deployer"
    )
    reason = _refused(request_report, _declaration(system), org)
    assert "deployer, not its provider" in reason


def test_refused_when_several_versions_serve_and_none_is_named(org, request_report):
    system = demo_declaration_ready(
        system=demo_system_seed(organization=org, model_versions=2, batches=0)
    )
    actor = Principal.system(organization=org, name="tests")
    registry.deployment_create(actor=actor, system=system, environment="staging")
    serve_approved(org, system)
    newest = system.models.get().versions.order_by("created_at").last()
    serve_approved(org, system, newest, environment="staging")
    reason = _refused(request_report, _declaration(system), org)
    assert "serve several versions" in reason and "model_version_id" in reason


def test_issued_with_every_annex_v_item_for_the_serving_version(
    demo_system, request_report, download
):
    report = request_report(_declaration(demo_system))
    assert report["status"] == "succeeded", report["failure_reason"]
    text = " ".join(pdf_text(download(report)).split())
    # The demo rolled production back to 1.0 after activating 1.2: 1.0 serves.
    assert "Version covered (serving now): scorer@1.0" in text
    assert "Acme Lending GmbH" in text and "10115 Berlin" in text
    assert "5. Data-protection statement" in text and "Regulation (EU) 2016/679" in text
    assert "Internal control (Annex VI)" in text
    assert "Place of issue Berlin" in text
    assert "Name of the signatory Erika Mustermann" in text
    assert "Function of the signatory Head of Compliance" in text
    assert "Date of issue" in text and "Electronic signature (PAdES)" in text
    assert "for 10 years" in text and "Art. 47(1)" in text
    assert "classified high risk (basis: Annex III" in text


def test_covers_the_version_named_in_the_request(demo_system, request_report, download):
    named = demo_system.models.get().versions.order_by("created_at")[1]
    report = request_report(_declaration(demo_system, model_version_id=named.pk))
    assert report["params"]["model_version_id"] == str(named.pk)
    text = " ".join(pdf_text(download(report)).split())
    assert "Version covered (named in the request): scorer@1.1" in text


@pytest.mark.parametrize("absent", ["signatory_name", "signatory_function", "place_of_issue"])
def test_a_declaration_without_its_signatory_or_place_is_400(demo_system, request_report, absent):
    payload = _declaration(demo_system)
    del payload[absent]
    body = request_report(payload, status=400)
    assert absent in body["error"]["fields"]


def test_a_signatory_on_another_kind_is_400(demo_system, request_report):
    body = request_report({"kind": "annex_iv", "system_id": demo_system.pk, **SIGNATORY}, 400)
    assert "signatory_name" in body["error"]["fields"]
