"""Reports read the compliance record: Annex IV shows the classification, the risk
register, human oversight and assessments with their ledger entries; the
serious-incident report is about the incident asked for."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest
from django.utils import timezone

from apps.compliance import services as compliance
from apps.ledger.models import Entry
from apps.registry import services as registry
from apps.registry.models import Deployment
from apps.reports.demo import DATASHEET, demo_system_seed
from apps.reports.models import Report
from audit_platform.principal import Principal
from tests import factories
from tests.reports.conftest import pdf_attachments, pdf_text
from tests.support import answers

HAZARD = "Older applicants refused more often than others"
ROWS = 200


def _person(org, role: str, email: str) -> Principal:
    membership = factories.MembershipFactory(organization=org, email=email, role=role)
    return Principal.for_user(organization=org, user=membership.user, role=role)


def _fairness_data(org, actor, system):
    """A small balanced test set (Parquet, uploaded) with decisions and a sex column."""
    rng = np.random.default_rng(5)
    label = rng.integers(0, 2, ROWS)
    columns = {
        "sex": rng.choice(["f", "m"], ROWS).tolist(),
        "label": label.tolist(),
        "decision": label.tolist(),
    }
    return factories.DatasetVersionFactory(
        dataset__system=system,
        dataset__name="fairness-eval",
        version="1",
        columns=columns,
        split="test",
        datasheet=DATASHEET,
        contains_personal_data=True,
        contains_special_category_data=True,
        actor=actor,
    )


@pytest.fixture
def record(org, django_capture_on_commit_callbacks):
    """A high-risk system with a risk, an approved and activated version (then stopped),
    a completed fairness assessment and an incident with its initial report."""
    actor = Principal.system(organization=org, name="tests")
    system = demo_system_seed(organization=org, model_versions=2, batches=1)
    versions = list(system.models.get().versions.order_by("created_at"))
    deployment = Deployment.objects.get(system=system)
    officer = _person(org, "compliance_officer", "risk.owner@acme.example")
    officer.user.first_name, officer.user.last_name = "Rita", "Owner"
    officer.user.save(update_fields=["first_name", "last_name"])
    engineer = _person(org, "ml_engineer", "engineer@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        classification, _ = compliance.classification_record(
            actor=officer,
            system=system,
            answers=answers(annex_iii_area="essential_services", profiling=True),
        )
        risk, _ = compliance.risk_create(
            actor=officer,
            system=system,
            hazard=HAZARD,
            affected_persons="applicants over 75",
            likelihood="possible",
            severity="major",
            mitigation="Manual review of every refusal",
            residual_risk="medium",
            review_date=date(2027, 1, 31),
            owner_email="risk.owner@acme.example",
        )
        request, _ = compliance.approval_request_create(
            actor=engineer, deployment=deployment, model_version=versions[1], reason="retrained"
        )
        _, decided = compliance.approval_decide(
            actor=officer, request=request, decision="approve", comment="validated"
        )
        registry.deployment_activate(
            actor=engineer, deployment=deployment, model_version=versions[1], reason="approved"
        )
        registry.deployment_stop(actor=officer, deployment=deployment, reason="complaints")
        assessment, _ = compliance.assessment_request(
            actor=officer,
            system=system,
            dataset_version=_fairness_data(org, actor, system),
            model_version=versions[1],
            kind="fairness",
            task="classification",
            label_column="label",
            prediction_column="decision",
            protected_attributes=["sex"],
            thresholds={"demographic_parity_difference": {"max": 0.2}},
            bootstrap_resamples=20,
        )
        now = timezone.now()
        older, _ = compliance.incident_open(
            actor=officer,
            system=system,
            kind="general",
            description="A whole postcode was refused.",
            became_aware_at=now - timedelta(days=3),
        )
        compliance.incident_report_add(
            actor=officer, incident=older, kind="initial", content="Postcode feature removed."
        )
        compliance.incident_authority_informed(
            actor=officer,
            incident=older,
            informed_at=now - timedelta(days=2),
            member_state="DE",
            receiving_authority="Bundesnetzagentur",
        )
        latest, _ = compliance.incident_open(
            actor=officer,
            system=system,
            kind="death",
            description="An applicant died after a wrongful refusal.",
            became_aware_at=now - timedelta(days=1),
        )
    assessment.refresh_from_db()
    assert assessment.status == "passed", assessment.outcomes
    return {
        "system": system,
        "classification": classification,
        "risk": risk,
        "decided_seq": decided.seq,
        "assessment": assessment,
        "older": older,
        "latest": latest,
        "officer": officer,
    }


def _seq(org, type: str) -> int:
    return Entry.objects.filter(log__organization=org, type=type).latest("seq").seq


def test_annex_iv_shows_the_compliance_record_with_its_entries(
    org, record, request_report, download
):
    report = request_report({"kind": "annex_iv", "system_id": record["system"].pk})
    assert report["status"] == "succeeded", report["failure_reason"]
    pdf = download(report)
    text = " ".join(pdf_text(pdf).split())
    # 1: the classification, with its entry.
    classification_seq = record["classification"].ledger_seq
    assert "High Risk" in text and "essential services" in text
    assert "Annex III (Art. 6(2))" in text
    assert f"[seq {classification_seq}]" in text
    assert "No classification is on the record yet" not in text
    # 5: the risk register; the owner by name and role, never as "user N".
    assert HAZARD in text and "Manual review of every refusal" in text
    assert "Rita Owner (compliance officer)" in text
    assert f"user {record['officer'].id}" not in text
    assert "No risk management system (risk register, risk assessments)" not in text
    # 3: the approval and the stop button.
    assert "approve by Rita Owner (compliance officer)" in text
    assert "by engineer@acme.example (ml engineer)" in text  # no name recorded: the e-mail
    assert f"[seq {record['decided_seq']}]" in text
    assert "complaints" in text
    assert "No human-oversight measures (Art. 14) are on the record yet" not in text
    # 4: the assessment, metric by metric, with threshold and verdict.
    assert "demographic parity difference (by sex)" in text
    assert "≤ 0.2" in text
    # Missing for compliance: the gap analysis, no guesses where it has an answer.
    assert "Compliance gap analysis: Art. 72: Run post-market monitoring under a plan." in text
    assert "no risk management system (risk register) is on the record yet" not in text
    assert "no harmonised standards or other solutions adopted are on the record yet" in text
    # Every new citation is in the table of cited entries and has its tlog-proof.
    cited = {
        classification_seq,
        _seq(org, "risk.created"),
        record["decided_seq"],
        _seq(org, "approval.requested"),
        _seq(org, "deployment.stopped"),
        _seq(org, "assessment.completed"),
    }
    files = pdf_attachments(pdf)
    for seq in cited:
        assert f"proof-{seq}.tlog-proof" in files, seq
    table = text[text.index("Cited ledger entries") :]
    for type_ in ("classification.recorded", "risk.created", "approval.decided"):
        assert type_ in table
    records = json.loads(files["records.json"])
    assert records["classification"]["category"] == "high_risk"
    assert records["risk_register"][0]["hazard"] == HAZARD


def test_an_unclassified_system_says_so(org, request_report, download):
    system = demo_system_seed(organization=org, model_versions=1, batches=0, classify=False)
    text = " ".join(
        pdf_text(download(request_report({"kind": "annex_iv", "system_id": system.pk}))).split()
    )
    assert "No classification is on the record yet" in text
    assert "Compliance gap analysis: Art. 5, Art. 6: Classify the system" in text


def test_incident_report_for_an_explicit_incident_shows_its_deadline(
    org, record, request_report, download
):
    older, latest = record["older"], record["latest"]
    payload = {
        "kind": "serious_incident",
        "system_id": record["system"].pk,
        "incident_id": older.pk,
    }
    report = request_report(payload)
    assert report["params"]["incident_id"] == str(older.pk)
    text = " ".join(pdf_text(download(report)).split())
    deadline = older.reporting_deadline.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert f"{deadline} (15 days, Art. 73(2))" in text
    assert "A whole postcode was refused." in text
    assert "Postcode feature removed." in text
    assert f"[seq {older.reports.get().ledger_seq}]" in text
    older.refresh_from_db()
    informed = older.authority_informed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert f"{informed}[seq {_seq(org, 'incident.authority_informed')}]; on time" in text
    assert "An applicant died" not in text
    # Without incident_id the report takes the latest incident.
    default = request_report({"kind": "serious_incident", "system_id": record["system"].pk})
    text = " ".join(pdf_text(download(default)).split())
    assert "An applicant died after a wrongful refusal." in text
    assert latest.reporting_deadline.strftime("%Y-%m-%d %H:%M:%S UTC") in text


def test_an_incident_of_another_organization_or_system_is_404(
    org, other_org, record, request_report
):
    theirs = demo_system_seed(organization=other_org, model_versions=1, batches=0)
    foreign, _ = compliance.incident_open(
        actor=Principal.system(organization=other_org, name="tests"),
        system=theirs,
        kind="general",
        description="Theirs.",
        became_aware_at=timezone.now(),
    )
    before = Report.objects.count()
    system_id = record["system"].pk
    body = request_report(
        {"kind": "serious_incident", "system_id": system_id, "incident_id": foreign.pk},
        status=404,
    )
    assert body["error"]["code"] == "not_found"
    sibling = demo_system_seed(organization=org, name="Other system", model_versions=1, batches=0)
    request_report(
        {"kind": "serious_incident", "system_id": sibling.pk, "incident_id": record["older"].pk},
        status=404,
    )
    # incident_id belongs to serious-incident reports only.
    request_report(
        {"kind": "annex_iv", "system_id": system_id, "incident_id": record["older"].pk},
        status=400,
    )
    assert Report.objects.count() == before


def test_model_card_shows_fairness_of_the_latest_assessment_of_the_version(
    record, request_report, download
):
    version = record["assessment"].model_version
    report = request_report({"kind": "model_card", "model_version_id": version.pk})
    text = " ".join(pdf_text(download(report)).split())
    # A UUID may wrap anywhere in a PDF line: compared without the white space.
    assert f"assessment#{record['assessment'].pk},passed" in "".join(text.split())
    assert "Selection rate by sex" in text
    assert "No fairness assessment by group is on the record yet" not in text
