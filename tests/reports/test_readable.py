"""Every report reads as a document, not as a dump of the record (issue #12,
"Readable"): labels in words, never ``snake_case`` identifiers or JSON; people by name
and role, never "user 12"; event types whole; charts with axes from zero, intervals
drawn where recorded and no metric left out because it has one; the classification
questionnaire's questions in correct English."""

from __future__ import annotations

import re

import pytest

from apps.compliance.rules import QUESTIONS
from apps.ledger.events import declared
from apps.reports import charts
from apps.reports.kinds.common import metric_pairs, numeric_metrics, pairs
from tests.reports.conftest import pdf_attachments, pdf_text
from tests.reports.test_compliance_record import record  # noqa: F401 - a fixture
from tests.reports.test_generation import payload_for

SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
# An API key is named by its prefix (``ak_1a2b3c4d``): an identifier the reader needs.
API_KEY_PREFIX = re.compile(r"\bak_[0-9a-f]{8}\b")
JSON = re.compile(r"[{\[]\s*\"|\"\s*:\s*[\"{\[\d]")
USER_ID = re.compile(r"\buser \d+\b")
# Boilerplate every kind ends with (file and command names of the offline checks).
APPENDICES = ("Cited ledger entries", "How to verify this document")


def _body(text: str) -> str:
    """The document's own text, before the shared appendices, with the event types
    (identifiers shown whole on purpose) and API key prefixes taken out."""
    text = " ".join(text.split())
    ends = [text.index(a) for a in APPENDICES if a in text]
    text = text[: min(ends)] if ends else text
    for event in sorted((e.name for e in declared()), key=len, reverse=True):
        text = text.replace(event, "")
    return API_KEY_PREFIX.sub("", text)


def _assert_readable(text: str) -> None:
    body = _body(text)
    assert not SNAKE.findall(body), sorted(set(SNAKE.findall(body)))
    assert not JSON.findall(body), JSON.findall(body)
    assert not USER_ID.findall(body), USER_ID.findall(body)


@pytest.fixture
def rich(record):  # noqa: F811 - the imported fixture
    """The compliance record's system (risk, approvals, stop, fairness assessment,
    incidents), its served version's metrics recorded one with an interval."""
    system = record["system"]
    version = system.models.get().versions.order_by("created_at").last()
    version.metrics = {"auc": {"value": 0.81, "low": 0.78, "high": 0.84}, "accuracy": 0.7}
    version.save(update_fields=["metrics"])
    return system


@pytest.mark.parametrize(
    "kind", ["annex_iv", "audit_trail", "post_market_monitoring", "serious_incident", "model_card"]
)
def test_every_kind_reads_in_words_with_people_by_name(kind, rich, request_report, download):
    report = request_report(payload_for(kind, rich))
    assert report["status"] == "succeeded", report["failure_reason"]
    _assert_readable(pdf_text(download(report)))


def test_the_declaration_reads_in_words(demo_system, request_report, download):
    report = request_report(payload_for("declaration_of_conformity", demo_system))
    assert report["status"] == "succeeded", report["failure_reason"]
    _assert_readable(pdf_text(download(report)))


def test_annex_iv_states_datasheets_classification_and_requester_in_words(
    rich, request_report, download
):
    report = request_report(payload_for("annex_iv", rich))
    text = " ".join(pdf_text(download(report)).split())
    # A datasheet's keys as labels, a nested answer as a sentence, not JSON.
    assert "Bias examination Approval rates compared by age band and sex." in text
    assert "Preparation steps cleaning: Dropped duplicates; labelling: Default in 12 months" in text
    assert "Category High Risk, classification version" in text
    assert "High-risk basis Annex III (Art. 6(2)); Annex III area: essential services" in text
    # Who asked for the document, by what they are.
    assert re.search(r"requested by API key test \(prefix ak_[0-9a-f]{8}\)", text)


def test_cited_event_types_are_shown_whole(org, rich, request_report, download):
    from apps.ledger.models import Entry

    report = request_report(payload_for("annex_iv", rich))
    pdf = download(report)
    text = pdf_text(pdf)
    table = text[text.index("Cited ledger entries") :].splitlines()
    seqs = [
        int(n.split("-")[1].split(".")[0]) for n in pdf_attachments(pdf) if n.startswith("proof-")
    ]
    types = set(
        Entry.objects.filter(log__organization=org, seq__in=seqs).values_list("type", flat=True)
    )
    assert {
        "approval.decided",
        "classification.recorded",
        "dataset_version.statistics_computed",
    } <= types
    for name in types:
        # Whole, on one line: never broken inside the identifier.
        assert any(name in line for line in table), name


# --- Charts -------------------------------------------------------------------------

NUMBER = r"-?\d+(?:\.\d+)?"


def _value_ticks(svg: str) -> list[str]:
    """The tick labels of a chart's value axis (text anchored at its end or middle)."""
    return re.findall(rf'font-size="7"[^>]*>({NUMBER})</text>', svg)


def test_a_line_chart_starts_its_axis_at_zero_and_draws_intervals():
    svg = charts.line_chart(
        {"area under the ROC curve": [0.80, 0.82, None]},
        ["scorer@1.0", "scorer@1.1", "scorer@1.2"],
        title="t",
        intervals={"area under the ROC curve": [(0.78, 0.83), None, None]},
    )
    assert "0" in _value_ticks(svg)
    assert svg.count('class="interval"') == 1
    # Labels and series names whole, however long.
    assert "area under the ROC curve" in svg and "scorer@1.2" in svg


def test_a_bar_chart_starts_at_zero_draws_intervals_and_cuts_no_label():
    label = "a protected attribute level with a long name"
    svg = charts.bar_chart([(label, 0.4), ("b", 0.3)], title="t", intervals=[(0.35, 0.45), None])
    assert "0" in _value_ticks(svg)
    assert svg.count('class="interval"') == 1
    assert f">{label}<" in svg


def test_a_monitoring_chart_starts_its_axis_at_zero():
    from types import SimpleNamespace

    from apps.monitoring import charts as monitoring_charts

    policy = SimpleNamespace(drift_share=0.5)
    reports = [
        SimpleNamespace(status="completed", share=share, policy=policy, created_at=at)
        for share, at in ((0.6, _at(1)), (0.7, _at(2)))
    ]
    svg = monitoring_charts.drift_over_time(reports)
    assert re.search(r">0</text>", svg), svg


def _at(day: int):
    from datetime import UTC, datetime

    return datetime(2026, 11, day, tzinfo=UTC)


def test_no_metric_is_dropped_because_it_has_an_interval():
    metrics = {"auc": {"value": 0.81, "low": 0.78, "high": 0.84}, "accuracy": 0.7}
    assert numeric_metrics(metrics) == {"auc": 0.81, "accuracy": 0.7}
    assert dict(metric_pairs(metrics)) == {
        "accuracy": "0.7",
        "auc": "0.81 (interval 0.78 to 0.84)",
    }


def test_model_card_charts_every_metric_with_its_interval(rich, request_report, download):
    from apps.reports.kinds.model_card import _metrics_chart

    version = rich.models.get().versions.order_by("created_at").last()
    svg = _metrics_chart(version.metrics)
    assert ">auc<" in svg and ">accuracy<" in svg
    assert svg.count('class="interval"') == 1


def test_stored_mappings_read_as_words():
    assert pairs({"data_gaps": "few", "steps": {"de_dup": True}, "tags": ["a_b", "c"]}) == [
        ("data gaps", "few"),
        ("steps", "de dup: yes"),
        ("tags", "a_b, c"),
    ]


# --- The classification questionnaire ---------------------------------------------

INTERROGATIVES = ("Is ", "Does ", "Has ", "Which ", "In which ", "When ", "What ", "Are ")


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.key)
def test_each_questionnaire_question_is_an_english_question(question):
    assert question.text.startswith(INTERROGATIVES), question.text
    assert "?" in question.text, question.text
    # A third-person verb after "does the system" is the mistake these questions made.
    assert not re.search(r"\bdoes the system (\w+s|emotion|deep)\b", question.text), question.text


def test_the_transparency_questions_read_correctly():
    texts = {q.key: q.text for q in QUESTIONS}
    assert texts["interacts_with_persons"] == (
        "Does the system interact directly with natural persons? (Art. 50(1))"
    )
    assert texts["generates_synthetic_content"].startswith("Does the system generate synthetic")
