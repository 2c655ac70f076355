"""Each report kind is one declaration: its sections are its template's headings, it
cites only the records it says it cites, and a record it cannot read fails the report
instead of being reported as absent."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.template.loader import get_template

from apps.compliance.models import Assessment
from apps.ledger import selectors as ledger_selectors
from apps.ledger.models import Entry
from apps.reports import kinds
from apps.reports.models import Report
from apps.reports.services import report_request
from audit_platform.principal import Principal
from tests.reports.conftest import SIGNATORY
from tests.reports.test_generation import _range
from tests.reports.test_gpai import make_gpai


def test_every_report_kind_is_declared_once():
    assert set(kinds.KINDS) == set(Report.Kind)
    assert all(key == kind.key for key, kind in kinds.KINDS.items())


@pytest.mark.parametrize("key", sorted(kinds.KINDS))
def test_declared_sections_are_the_template_headings_in_order(key):
    kind = kinds.KINDS[key]
    source = get_template(kind.template).template.source
    headings = [re.sub(r"\s+", " ", h).strip() for h in re.findall(r"<h2>(.*?)</h2>", source)]
    assert tuple(headings) == kind.sections


# A decision explanation is about a batch our workers scored, not the demo system's
# recorded ones: tests/reports/test_decision_explanation.py checks what it cites.
@pytest.mark.parametrize("key", sorted(set(kinds.KINDS) - {"decision_explanation"}))
def test_a_kind_cites_only_the_records_it_declares(key, org, demo_system):
    """Gathered without rendering: every cited entry is about a declared subject kind."""
    actor = Principal.system(organization=org, name="tests")
    version = demo_system.models.get().versions.order_by("created_at").last()
    about = {"model_version": version} if key == "model_card" else {"system": demo_system}
    if key in ("audit_trail", "post_market_monitoring"):
        about.update({name: datetime.fromisoformat(value) for name, value in _range().items()})
    if key == "declaration_of_conformity":
        about["signatory"] = SIGNATORY
    if key.startswith("gpai_"):
        make_gpai(org, demo_system)
    report, _ = report_request(actor=actor, kind=key, **about)
    log = ledger_selectors.log_for(organization=org)
    cite = kinds.Citations(log)
    document = kinds.build(report=report, cite=cite)
    assert document.template == kinds.KINDS[key].template
    subjects = {e.subject_kind for e in ledger_selectors.entry_summaries(log=log, seqs=cite.cited)}
    assert cite.cited and subjects
    declared = kinds.KINDS[key].cites
    assert kinds.ANY_SUBJECT in declared or subjects <= declared, subjects - declared


MALFORMED_FAIRNESS = {
    "not-an-object": ["age_band", 0.1],
    "groups-as-a-list": {
        "attributes": {"age_band": {"groups": [0.4, 0.3], "metrics": {}}},
    },
    "metric-as-a-number": {
        "attributes": {"age_band": {"groups": {}, "metrics": {"demographic_parity_difference": 1}}}
    },
    "no-attributes": {"rows": 100, "metrics": {}},
}


def _assessment(system, results, outcomes=None) -> Assessment:
    version = system.models.get().versions.order_by("created_at").last()
    return Assessment.objects.create(
        system=system,
        model_version=version,
        dataset_version=version.dataset_versions.get(split="test"),
        kind="fairness",
        learning_task="classification",
        config={},
        thresholds={},
        status="passed",
        created_by="tests",
        results=results,
        outcomes=outcomes,
    )


def _assert_failed_for(report: dict, org, reason: str) -> None:
    assert report["status"] == "failed", report
    assert reason in report["failure_reason"]
    assert report["pdf_url"] is None and report["sha256"] == ""
    assert Entry.objects.filter(log__organization=org, type="report.failed").count() == 1
    assert not Entry.objects.filter(log__organization=org, type="report.generated").exists()


@pytest.mark.parametrize("results", MALFORMED_FAIRNESS.values(), ids=MALFORMED_FAIRNESS.keys())
def test_a_model_card_whose_fairness_results_cannot_be_read_fails_with_the_reason(
    results, org, demo_system, request_report
):
    assessment = _assessment(demo_system, results)
    version = demo_system.models.get().versions.order_by("created_at").last()
    report = request_report({"kind": "model_card", "model_version_id": version.pk})
    _assert_failed_for(
        report, org, f"cannot read the results of fairness assessment {assessment.pk}"
    )


@pytest.mark.parametrize(
    "results, outcomes",
    [(["not", "an", "object"], None), ({"rows": 1, "metrics": {}}, ["passed"])],
    ids=["results-not-an-object", "outcomes-not-an-object"],
)
def test_an_annex_iv_whose_assessment_cannot_be_read_fails_with_the_reason(
    results, outcomes, org, demo_system, request_report
):
    assessment = _assessment(demo_system, results, outcomes)
    report = request_report({"kind": "annex_iv", "system_id": demo_system.pk})
    _assert_failed_for(
        report, org, f"cannot read the results of fairness assessment {assessment.pk}"
    )


def test_a_section_whose_selector_fails_fails_the_report(
    org, demo_system, request_report, monkeypatch
):
    from apps.compliance import selectors as compliance

    def broken(**kwargs):
        raise RuntimeError("the risk register could not be read")

    monkeypatch.setattr(compliance, "risks_of_system", broken)
    report = request_report({"kind": "annex_iv", "system_id": demo_system.pk})
    _assert_failed_for(report, org, "the risk register could not be read")
