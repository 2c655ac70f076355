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
