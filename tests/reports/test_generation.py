"""Each report kind renders for the demo system into a signed PDF/A-3a that carries
its evidence, and the ledger records the exact file."""

from __future__ import annotations

import hashlib
import json
import ssl
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.ledger.models import Entry
from apps.ledger.offline_verifier import verify_proof_file
from apps.reports.models import Report
from apps.tasks.models import TaskRecord
from tests.reports.conftest import SIGNATORY, pdf_attachments, pdf_text

ANNEX_IV_HEADINGS = [
    "1. General description of the AI system",
    "2. Detailed description of the elements and of the development process",
    "2(a) Methods and steps performed for the development",
    "2(b) Design specifications",
    "2(c) System architecture and the computational resources",
    "2(d) Data requirements",
    "2(e) Assessment of the human oversight measures needed",
    "2(f) Pre-determined changes",
    "2(g) Validation and testing procedures",
    "test reports dated and signed by the responsible persons",
    "2(h) Cybersecurity measures put in place",
    "3. Monitoring, functioning and control",
    "4. Appropriateness of the performance metrics",
    "5. Risk management system",
    "6. Relevant changes made through the lifecycle",
    "7. Harmonised standards applied or other solutions adopted",
    "8. Copy of the EU declaration of conformity",
    "9. Post-market monitoring plan",
    "Missing for compliance",
    "How to verify this document",
]


def _range() -> dict:
    now = timezone.now()
    return {
        "time_from": (now - timedelta(days=1)).isoformat(),
        "time_to": (now + timedelta(minutes=5)).isoformat(),
    }


def payload_for(kind: str, system) -> dict:
    if kind == "model_card":
        version = system.models.get().versions.order_by("created_at").last()
        return {"kind": kind, "model_version_id": version.pk}
    body = {"kind": kind, "system_id": system.pk}
    if kind in ("audit_trail", "post_market_monitoring"):
        body.update(_range())
    if kind == "declaration_of_conformity":
        body.update(SIGNATORY)
    return body


HEADINGS = {
    "annex_iv": ANNEX_IV_HEADINGS,
    "audit_trail": [
        "Audit-trail report",
        "Verification of the log at render time",
        "Covering signed checkpoint",
        "Entries in order",
        "How to verify this document",
    ],
    "declaration_of_conformity": [
        "EU declaration of conformity",
        "1. AI system name and type",
        "2. Name and address of the provider",
        "3. Sole responsibility",
        "4. Statement of conformity",
        "6. Harmonised standards",
        "7. Notified body",
        "8. Place and date of issue",
    ],
    "post_market_monitoring": [
        "Performance",
        "Drift",
        "Alerts",
        "Actions",
        "Use during the period",
    ],
    "serious_incident": [
        "Serious-incident report",
        "1. Provider and AI system",
        "2. The incident",
        "3. Causal link, investigation and corrective actions",
    ],
    "model_card": [
        "Model details",
        "Intended use",
        "Data",
        "Metrics with intervals",
        "Fairness",
        "SHAP global importance",
        "Limitations",
    ],
}


@pytest.mark.parametrize("kind", sorted(HEADINGS))
def test_each_kind_renders_with_its_headings_and_is_recorded(
    kind, demo_system, request_report, download, org
):
    report = request_report(payload_for(kind, demo_system))
    assert report["status"] == "succeeded", report["failure_reason"]
    pdf = download(report)
    assert pdf.startswith(b"%PDF-")
    text = " ".join(pdf_text(pdf).split())
    for heading in HEADINGS[kind]:
        assert heading in text, heading
    entry = Entry.objects.get(log__organization=org, seq=report["ledger_seq"])
    body = json.loads(bytes(entry.body))
    assert body["type"] == "report.generated"
    assert body["data"]["sha256"] == report["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert body["data"]["kind"] == kind
    task = TaskRecord.objects.get(pk=report["task"])
    assert (task.state, task.percent) == ("succeeded", 100)


def test_annex_iv_states_missing_data_plainly(demo_system, request_report, download):
    report = request_report(payload_for("annex_iv", demo_system))
    text = " ".join(pdf_text(download(report)).split())
    assert (
        "No risk management system (risk register, risk assessments) is on the record yet" in text
    )
    assert "no EU declaration of conformity has been generated yet" in text
    assert "[seq " in text  # claims are footnoted with their ledger entries
    # Including the system's own registration, in section 1.
    registered = Entry.objects.get(
        type="ai_system.registered", subject_kind="ai_system", subject_id=str(demo_system.pk)
    )
    records = json.loads(pdf_attachments(download(report))["records.json"])
    assert records["system"]["seq"] == registered.seq


def test_attachments_carry_records_and_proofs_that_verify_offline(
    demo_system, request_report, download, tmp_path
):
    report = request_report(payload_for("annex_iv", demo_system))
    files = pdf_attachments(download(report))
    records = json.loads(files["records.json"])
    assert records["system"]["name"] == demo_system.name
    assert len(records["model_versions"]) == 3
    proofs = {name: data for name, data in files.items() if name.endswith(".tlog-proof")}
    assert len(proofs) == report["cited_seqs"] > 10
    vkeys = files["keys.vkey"].decode().split()
    for data in proofs.values():
        verify_proof_file(data.decode(), vkeys)
    # And with the command-line verifier an auditor runs, on the extracted file.
    name, data = next(iter(proofs.items()))
    (tmp_path / name).write_bytes(data)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "apps.ledger.offline_verifier",
            "proof",
            str(tmp_path / name),
            "--vkey",
            vkeys[0],
        ],
        capture_output=True,
        text=True,
        cwd=Path(settings.BASE_DIR),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verifies" in result.stdout


def test_audit_trail_lists_entries_and_attaches_their_bytes(
    demo_system, request_report, download, org
):
    report = request_report(payload_for("audit_trail", demo_system))
    pdf = download(report)
    files = pdf_attachments(pdf)
    lines = files["entries.jsonl"].splitlines()
    assert len(lines) == report["cited_seqs"]
    seqs = [json.loads(line)["seq"] for line in lines]
    assert seqs == sorted(seqs)
    text = pdf_text(pdf)
    assert "OK " in text  # the log verified at render time
    checkpoint = files["checkpoint.note"].decode()
    assert checkpoint.splitlines()[0] in text


def test_pades_signature_validates_with_pyhanko(demo_system, request_report, download, org):
    from io import BytesIO

    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from apps.reports.models import SigningCertificate

    report = request_report(payload_for("declaration_of_conformity", demo_system))
    pdf = download(report)
    cert = SigningCertificate.objects.get(organization=org)
    root = asn1_x509.Certificate.load(ssl.PEM_cert_to_DER_cert(cert.certificate_pem))
    reader = PdfFileReader(BytesIO(pdf))
    (signature,) = reader.embedded_signatures
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage.name == "ENTIRE_FILE"


def test_verify_endpoint_knows_the_file_and_not_a_changed_byte(
    demo_system, request_report, download, client_for, org
):
    report = request_report(payload_for("model_card", demo_system))
    pdf = download(report)
    auditor = client_for(org, "auditor")
    url = reverse("report-verify")
    from django.core.files.uploadedfile import SimpleUploadedFile

    answer = auditor.post(url, {"file": SimpleUploadedFile("r.pdf", pdf)}, format="multipart")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["known"] is True
    assert body["report"]["id"] == report["id"]
    assert body["report"]["ledger_seq"] == report["ledger_seq"]
    assert body["report"]["kind"] == "model_card"
    assert body["report"]["generated_by"]["kind"] == "api_key"

    flipped = bytearray(pdf)
    flipped[len(pdf) // 2] ^= 0x01
    answer = auditor.post(
        url, {"file": SimpleUploadedFile("r.pdf", bytes(flipped))}, format="multipart"
    )
    assert answer.status_code == 200
    assert answer.json()["known"] is False
    assert answer.json()["report"] is None

    raw = auditor.generic("POST", url, pdf, content_type="application/pdf")
    assert raw.json()["known"] is True
    by_digest = auditor.post(url, {"sha256": report["sha256"]}, format="json")
    assert by_digest.json()["known"] is True


def test_verify_answers_for_a_report_whose_generation_time_is_not_recorded(
    demo_system, request_report, client_for, org
):
    """A report row without ``generated_at`` (recorded before it was kept, or edited by
    hand) is still recognised, and the answer says the time is not recorded."""
    report = request_report(payload_for("model_card", demo_system))
    Report.objects.filter(pk=report["id"]).update(generated_at=None)
    answer = client_for(org, "auditor").post(
        reverse("report-verify"), {"sha256": report["sha256"]}, format="json"
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["known"] is True and body["report"]["generated_at"] is None
    assert "its generation time is not recorded" in body["message"]
    assert f"recorded on the ledger at seq {report['ledger_seq']}" in body["message"]


def test_list_and_progress(demo_system, request_report, officer):
    report = request_report(payload_for("model_card", demo_system))
    listing = officer.get(reverse("report-list"), {"kind": "model_card"}).json()
    assert [r["id"] for r in listing["results"]] == [report["id"]]
    assert listing["results"][0]["pdf_url"] == f"/api/v1/reports/{report['id']}/pdf"
    task = officer.get(reverse("task-detail", kwargs={"pk": report["task"]}))
    assert task.status_code == 200 and task.json()["state"] == "succeeded"
    assert Report.objects.get(pk=report["id"]).page_count >= 1
