"""The audit trail of a system lists every entry about the system and everything
under it (datasets, runs, models and versions, deployments, batches, classifications,
risks, assessments, approvals and their decisions, incidents and their reports,
reports), states the rule it selected them by and how many, and nothing of another
system or of the organization itself."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone

from apps.compliance import services as compliance
from apps.ledger.models import Entry
from apps.registry.models import Deployment
from apps.reports.demo import HIGH_RISK_ANSWERS, demo_answers, demo_system_seed
from audit_platform.principal import Principal
from tests import factories
from tests.reports.conftest import pdf_attachments, pdf_text

ORGANIZATION_SUBJECTS = {"organization", "membership", "api_key", "ledger_key"}


def _seqs(org) -> int:
    return Entry.objects.filter(log__organization=org).count()


def _person(org, role: str, email: str, first: str, last: str) -> Principal:
    membership = factories.MembershipFactory(organization=org, email=email, role=role)
    membership.user.first_name, membership.user.last_name = first, last
    membership.user.save()
    return Principal.for_user(organization=org, user=membership.user, role=role)


def _compliance_record(org, system, officer, engineer) -> None:
    deployment = Deployment.objects.get(system=system)
    version = system.models.get().versions.order_by("created_at").last()
    compliance.classification_record(
        actor=officer, system=system, answers=demo_answers(HIGH_RISK_ANSWERS)
    )
    risk = factories.RiskFactory(system=system, actor=officer)
    compliance.risk_update(actor=officer, risk=risk, changes={"mitigation": "Manual review"})
    factories.AssessmentFactory(system=system, actor=officer)
    request, _ = compliance.approval_request_create(
        actor=engineer, deployment=deployment, model_version=version, reason="retrained"
    )
    compliance.approval_decide(actor=officer, request=request, decision="approve")
    factories.IncidentFactory(
        system=system, actor=officer, reports=[("initial", "Postcode feature removed.")]
    )


def test_a_systems_trail_holds_every_entry_under_it_and_states_rule_and_count(
    org, request_report, download
):
    officer = _person(org, "compliance_officer", "erika@acme.example", "Erika", "Mustermann")
    engineer = _person(org, "ml_engineer", "max@acme.example", "Max", "Muster")
    start = timezone.now() - timedelta(seconds=1)
    first = _seqs(org)
    system = demo_system_seed(organization=org, model_versions=2, batches=2)
    _compliance_record(org, system, officer, engineer)
    mine_until = _seqs(org)
    # Another system of the same organization, with records of its own.
    other = demo_system_seed(organization=org, name="Fraud screening", model_versions=1)
    factories.RiskFactory(system=other, actor=officer)
    others_until = _seqs(org)
    system.refresh_from_db()
    report = request_report(
        {
            "kind": "audit_trail",
            "system_id": system.pk,
            "time_from": start.isoformat(),
            "time_to": (timezone.now() + timedelta(minutes=5)).isoformat(),
        }
    )
    pdf = download(report)
    listed = [json.loads(line) for line in pdf_attachments(pdf)["entries.jsonl"].splitlines()]
    # Up to its own request: the report's own report.generated comes after it.
    entries = Entry.objects.filter(
        log__organization=org, seq__gte=first, seq__lte=report["requested_seq"]
    )
    expected = {
        e.seq
        for e in entries
        if not (mine_until <= e.seq < others_until) and e.subject_kind not in ORGANIZATION_SUBJECTS
    }
    assert {e["seq"] for e in listed} == expected, [
        (e.seq, e.type, e.subject_kind, e.subject_id)
        for e in entries
        if e.seq in expected ^ {x["seq"] for x in listed}
    ]
    types = {e["type"] for e in listed}
    assert {
        "classification.recorded",
        "risk.created",
        "risk.updated",
        "assessment.requested",
        "approval.requested",
        "approval.decided",
        "incident.opened",
        "incident.report_added",
        "deployment.rolled_back",
        "prediction_batch.recorded",
        "artifact.stored",
        "report.requested",
    } <= types
    text = " ".join(pdf_text(pdf).split())
    assert f"Entries listed {len(expected)} (every entry the rule selects)" in text
    assert "or a record under it" in text and "approval requests on its deployments" in text
    # People by name and role; event types whole.
    assert "Erika Mustermann (compliance officer)" in text
    assert "dataset_version.statistics" not in text or "dataset_version.statistics_" in text
