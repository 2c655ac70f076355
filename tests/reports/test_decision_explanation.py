"""Decision explanation (Art. 86(1)): for one decision of an Annex III high-risk system
(other than point 2), a PDF and its JSON with the decision's receipt (provable
offline), the model version and deployment that made it, the features that drove it
(per-row SHAP values the explainability workers compute), the human oversight applied
and how to contest it; refused with the reason otherwise, nothing written."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from apps.compliance import services as compliance
from apps.ledger.models import Entry
from apps.ledger.offline_verifier import verify_receipt
from apps.registry.models import AISystem
from apps.reports import kinds
from audit_platform.principal import Principal
from tests.reports.conftest import pdf_attachments, pdf_text
from tests.reports.test_readable import _assert_readable
from tests.support import answers, entry_types, last_entry, make_frame, parquet_bytes

HEADINGS = [
    "1. The decision",
    "2. The AI system that contributed to it",
    "3. What drove this decision",
    "4. Human oversight",
    "5. How to contest this decision",
    "6. Proof of this decision",
]


def _classify(org, system_id: int, **overrides) -> None:
    actor = Principal.system(organization=org, name="tests")
    compliance.classification_record(
        actor=actor, system=AISystem.objects.get(pk=system_id), answers=answers(**overrides)
    )


@pytest.fixture
def decided(org, served, run_batch):
    """A batch of 6 decisions our worker scored, then the system classified high-risk
    under Annex III, point 5(b) (creditworthiness, with profiling)."""
    ids = served()
    batch = run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(6, seed=3)))
    _classify(org, ids["system"]["id"], annex_iii_area="essential_services", profiling=True)
    return {**ids, "batch": batch}


def _ask(batch_id: int, row: int) -> dict:
    return {"kind": "decision_explanation", "prediction_batch_id": batch_id, "row": row}


def test_art_86_1_a_decision_is_explained_in_a_pdf_and_json(
    org, decided, request_report, download, officer, pipeline
):
    report = request_report(_ask(decided["batch"]["id"], 4))
    assert report["status"] == "succeeded", report["failure_reason"]
    pdf = download(report)
    text = " ".join(pdf_text(pdf).split())
    for heading in HEADINGS:
        assert heading in text, heading
    assert f"Row 4 of prediction batch {decided['batch']['id']}" in text
    # The features that drove it, in words, with their direction.
    assert " the output by " in text and ("raised" in text or "lowered" in text)
    assert "market surveillance authority" in text
    _assert_readable(pdf_text(pdf))
    # Computed by the explainability workers for this request.
    assert "explanation.requested" in entry_types(org)
    # The receipt travels with it and verifies offline.
    receipt = json.loads(pdf_attachments(pdf)["receipt.json"])
    vkey = pipeline.get(reverse("ledger-keys")).content.decode().split()[0]
    lines = verify_receipt(receipt, [vkey])
    assert any("ok: row 4 is leaf 4" in line for line in lines)
    # The same explanation as JSON through the API.
    records = officer.get(reverse("report-records", kwargs={"pk": report["id"]})).json()
    assert records["decision"]["row"] == 4
    assert records["shap"]["drivers"] and records["shap"]["drivers"][0]["direction"]
    assert records["served"]["model_version"]
    # The request and its delivery are on the ledger.
    requested = last_entry(org, "report.requested")["data"]
    assert (requested["prediction_batch_id"], requested["row"]) == (decided["batch"]["id"], 4)
    assert last_entry(org, "report.generated")["data"]["sha256"] == report["sha256"]
    # It cites only the records its kind declares.
    cited = {
        e.subject_kind
        for e in Entry.objects.filter(log__organization=org, seq__in=_cited_seqs(pdf))
    }
    assert cited and cited <= kinds.KINDS["decision_explanation"].cites, cited


def _cited_seqs(pdf: bytes) -> list[int]:
    return [
        int(name.split("-")[1].split(".")[0])
        for name in pdf_attachments(pdf)
        if name.startswith("proof-")
    ]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param(
            {"annex_iii_area": "critical_infrastructure"},
            "point 2",
            id="Art. 86(1) excludes Annex III point 2",
        ),
        pytest.param({}, "Annex III only", id="Art. 86(1) covers Annex III systems only"),
    ],
)
def test_art_86_1_a_system_without_the_right_is_refused_with_the_reason(
    org, served, run_batch, request_report, overrides, reason
):
    ids = served()
    batch = run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(3, seed=4)))
    if overrides:
        _classify(org, ids["system"]["id"], **overrides)
    answer = request_report(_ask(batch["id"], 0), status=409)
    assert reason in answer["error"]["message"]


def test_a_row_or_a_batch_that_does_not_exist_is_refused(decided, request_report):
    answer = request_report(_ask(decided["batch"]["id"], 6), status=400)
    assert "row" in answer["error"]["fields"]
    request_report(_ask(10**6, 0), status=404)
    # Only this kind names a decision.
    wrong = {**_ask(decided["batch"]["id"], 0), "kind": "model_card"}
    request_report(wrong, status=400)


@pytest.fixture
def explanations_held(monkeypatch):
    """The explainability workers busy: a requested explanation stays queued until the
    test runs it (``run``) or fails it (``fail``), as a worker would."""
    from apps.explainability import services as explainability
    from apps.explainability.tasks import explanation_run_task

    monkeypatch.setattr(explanation_run_task, "apply_async", lambda *args, **kwargs: None)

    class Workers:
        @staticmethod
        def run(explanation_id, capture) -> None:
            with capture(execute=True):
                explanation_run_task.apply(args=[explanation_id])

        @staticmethod
        def fail(explanation_id, capture, reason: str) -> None:
            with capture(execute=True):
                explainability.explanation_fail(explanation_id=explanation_id, reason=reason)

    return Workers


def _task_of(officer, report: dict) -> dict:
    return officer.get(reverse("task-detail", kwargs={"pk": report["task"]})).json()


def test_art_86_1_the_report_waits_for_the_shap_values_however_long_they_take(
    org,
    decided,
    request_report,
    officer,
    explanations_held,
    django_capture_on_commit_callbacks,
):
    """The rendering is queued when the explanation completes: no retry budget runs out
    while the explainability workers compute."""
    report = request_report(_ask(decided["batch"]["id"], 2))
    assert report["status"] == "queued"
    waiting = _task_of(officer, report)
    assert waiting["state"] == "queued"
    assert "waiting for the SHAP values" in waiting["message"]
    explanation_id = last_entry(org, "report.requested")["data"]["explanation_id"]
    assert explanation_id is not None

    explanations_held.run(explanation_id, django_capture_on_commit_callbacks)
    done = officer.get(reverse("report-detail", kwargs={"pk": report["id"]})).json()
    assert done["status"] == "succeeded", done["failure_reason"]
    assert _task_of(officer, report)["state"] == "succeeded"
    assert (
        officer.get(reverse("report-records", kwargs={"pk": report["id"]})).json()["shap"]["id"]
        == explanation_id
    )
    # Rendered once, on the first try.
    assert [e for e in entry_types(org) if e == "report.generated"] == ["report.generated"]


def test_art_86_1_a_report_whose_shap_values_cannot_be_computed_fails_with_the_reason(
    org,
    decided,
    request_report,
    officer,
    explanations_held,
    django_capture_on_commit_callbacks,
):
    report = request_report(_ask(decided["batch"]["id"], 1))
    explanation_id = last_entry(org, "report.requested")["data"]["explanation_id"]
    explanations_held.fail(
        explanation_id, django_capture_on_commit_callbacks, "the model could not be loaded"
    )
    failed = officer.get(reverse("report-detail", kwargs={"pk": report["id"]})).json()
    assert failed["status"] == "failed"
    assert "SHAP explanation" in failed["failure_reason"]
    assert "the model could not be loaded" in failed["failure_reason"]
    assert last_entry(org, "report.failed")["data"]["reason"] == failed["failure_reason"]


def test_art_86_1_a_second_request_waits_for_the_same_explanation(
    org,
    decided,
    request_report,
    officer,
    explanations_held,
    django_capture_on_commit_callbacks,
):
    first = request_report(_ask(decided["batch"]["id"], 0))
    second = request_report(_ask(decided["batch"]["id"], 3))
    asked = [e for e in entry_types(org) if e == "explanation.requested"]
    assert len(asked) == 1
    explanation_id = last_entry(org, "report.requested")["data"]["explanation_id"]
    explanations_held.run(explanation_id, django_capture_on_commit_callbacks)
    for report in (first, second):
        done = officer.get(reverse("report-detail", kwargs={"pk": report["id"]})).json()
        assert done["status"] == "succeeded", done["failure_reason"]
