"""Annex IV, point 2, in the technical documentation: each of its points (a)-(h) under
its own label, and test reports dated and signed by the responsible persons (2(g)):
a person signs an assessment's test report in the product, the ledger entry names the
person and the digest of what was signed, and the signature shows in Annex IV."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.compliance import rules
from audit_platform.principal import Principal
from tests import factories
from tests.factories import MembershipFactory
from tests.reports.conftest import pdf_text
from tests.reports.test_generation import payload_for
from tests.support import last_entry, sign_in_with_second_factor

RESULTS = {"rows": 4, "metrics": {"accuracy": {"value": 0.75, "ci": [0.5, 1.0]}}}


def _completed(system):
    return factories.AssessmentFactory(
        system=system,
        results=RESULTS,
        outcomes={"accuracy": {"value": 0.75, "min": 0.5, "passed": True}},
    )


def _person(org, role: str, email: str, *, second_factor: bool = True) -> APIClient:
    """A person's browser session on the API; signing needs one logged in with a code."""
    membership = MembershipFactory(organization=org, email=email, role=role)
    client = APIClient()
    if second_factor:
        sign_in_with_second_factor(client, membership.user)
    else:
        client.force_login(membership.user)
    return client


def _sign(client, assessment_id: int, sha256: str, status: int = 200) -> dict:
    response = client.post(
        reverse("assessment-sign", kwargs={"pk": assessment_id}),
        {"report_sha256": sha256, "function": "Head of validation"},
        format="json",
    )
    assert response.status_code == status, response.content
    return response.json()


def _report(client, assessment_id: int) -> dict:
    response = client.get(reverse("assessment-test-report", kwargs={"pk": assessment_id}))
    assert response.status_code == 200, response.content
    return response.json()


def test_annex_iv_points_2a_to_2h_are_in_the_report_under_their_labels(
    demo_system, request_report, download
):
    """Annex IV, point 2(a)-(h): every point, in order, labelled as the Annex words it."""
    text = " ".join(
        pdf_text(download(request_report(payload_for("annex_iv", demo_system)))).split()
    )
    positions = []
    for point, label in rules.ANNEX_IV_POINT_2.items():
        heading = " ".join(f"2({point}) {label}".split())
        assert heading in text, heading
        positions.append(text.index(heading))
    assert positions == sorted(positions)
    # What the record cannot back is listed as missing, point by point.
    assert "Annex IV 2(h): no document stating the cybersecurity measures" in text
    assert "Annex IV 2(b): no document stating the general logic" in text
    assert "Annex IV 2(f): no document stating the pre-determined changes" in text
    # How to record it: the checklist item, by its article.
    assert "evidence of the checklist item Art. 11(1), Annex IV, point 2(f)" in text


@pytest.mark.parametrize(
    ("point", "obligation", "document"),
    [
        pytest.param(
            "a",
            rules.ANNEX_IV_THIRD_PARTY_COMPONENTS,
            "Component register CR-1: pre-trained tokenizer from vendor X, used unmodified",
            id="Annex IV, point 2(a) recourse to third-party or pre-trained components recorded",
        ),
        pytest.param(
            "b",
            rules.ANNEX_IV_DESIGN_SPECIFICATIONS,
            "Design specification DS-7: gradient-boosted trees over bureau features",
            id="Annex IV, point 2(b) design specifications recorded",
        ),
        pytest.param(
            "f",
            rules.ANNEX_IV_PREDETERMINED_CHANGES,
            "Change plan CP-2: quarterly retraining on the same features, gated by approval",
            id="Annex IV, point 2(f) pre-determined changes recorded",
        ),
    ],
)
def test_an_attached_document_states_its_point_and_closes_the_gap(
    demo_system, officer, request_report, download, point, obligation, document
):
    """Annex IV, point 2(a), 2(b) and 2(f): what only the provider can state is attached as
    evidence of its checklist item; the point then shows it, and neither the point nor
    the checklist lists it as missing."""
    checklist = officer.get(reverse("system-obligations", kwargs={"pk": demo_system.pk})).json()
    before = {o["code"]: o for o in checklist["obligations"]}
    assert before[obligation]["article"] == f"Art. 11(1), Annex IV, point 2({point})"
    assert before[obligation]["status"] in {"missing", "upcoming"}
    attached = officer.post(
        reverse("obligation-evidence-list"),
        {
            "system_id": demo_system.pk,
            "obligation": obligation,
            "description": document,
            "uri": f"s3://docs/annex-iv-2{point}.pdf",
        },
        format="json",
    )
    assert attached.status_code == 201, attached.content
    text = " ".join(
        pdf_text(download(request_report(payload_for("annex_iv", demo_system)))).split()
    )
    label = " ".join(f"2({point}) {rules.ANNEX_IV_POINT_2[point]}".split())
    next_label = " ".join(f"2({chr(ord(point) + 1)})".split())
    section = text[text.index(label) : text.index(next_label, text.index(label) + len(label))]
    assert document in section and f"annex-iv-2{point}.pdf" in section
    assert f"Annex IV 2({point}): no document stating" not in text
    assert f"Art. 11(1), Annex IV, point 2({point})" not in text.split("Missing for compliance")[-1]
    checklist = officer.get(reverse("system-obligations", kwargs={"pk": demo_system.pk})).json()
    assert {o["code"]: o for o in checklist["obligations"]}[obligation]["status"] == "evidenced"


def test_a_signed_test_report_is_on_the_ledger_and_in_annex_iv(
    org, demo_system, request_report, download
):
    """Annex IV point 2(g): dated and signed by the responsible persons."""
    assessment = _completed(demo_system)
    signer = _person(org, "ml_engineer", "erika@example.org")
    shown = _report(signer, assessment.pk)
    assert shown["signatures"] == []
    before = " ".join(
        pdf_text(download(request_report(payload_for("annex_iv", demo_system)))).split()
    )
    # A UUID may wrap anywhere in a PDF line: compared without the white space.
    assert f"thetestreportofassessment#{assessment.pk}isnotsigned" in "".join(before.split())

    signed = _sign(signer, assessment.pk, shown["sha256"])
    assert signed["signatures"][0]["report_sha256"] == shown["sha256"]
    entry = last_entry(org, "assessment.signed")
    assert entry["subject"] == {"kind": "assessment", "id": str(assessment.pk)}
    assert entry["data"]["report_sha256"] == shown["sha256"]
    assert entry["data"]["signed_by_user_id"] == str(signed["signatures"][0]["signed_by"])

    text = " ".join(
        pdf_text(download(request_report(payload_for("annex_iv", demo_system)))).split()
    )
    assert "Signed by erika@example.org (ml engineer) as Head of validation" in text
    assert shown["sha256"] in text.replace(" ", "") or shown["sha256"][:16] in text
    assert f"the test report of assessment #{assessment.pk} is not signed" not in text


def test_a_signature_names_the_report_read(org, demo_system):
    assessment = _completed(demo_system)
    signer = _person(org, "compliance_officer", "c@example.org")
    body = _sign(signer, assessment.pk, "0" * 64, status=409)
    assert "sign what you read" in body["error"]["message"]


def test_signing_needs_a_session_logged_in_with_a_second_factor(org, demo_system):
    assessment = _completed(demo_system)
    signer = _person(org, "ml_engineer", "e@example.org", second_factor=False)
    sha = _report(signer, assessment.pk)["sha256"]
    body = _sign(signer, assessment.pk, sha, status=403)
    assert "Signing a test report needs a second factor" in body["error"]["message"]
    assert _report(signer, assessment.pk)["signatures"] == []


def test_an_api_key_cannot_sign(org, demo_system, officer):
    assessment = _completed(demo_system)
    sha = _report(officer, assessment.pk)["sha256"]
    body = _sign(officer, assessment.pk, sha, status=403)
    assert "Annex IV 2(g)" in body["error"]["message"]


def test_a_person_signs_once_and_only_a_completed_report(org, demo_system):
    signer = _person(org, "owner", "o@example.org")
    queued = factories.AssessmentFactory(system=demo_system)
    sha = _report(signer, queued.pk)["sha256"]
    assert (
        "only the report of a completed test"
        in _sign(signer, queued.pk, sha, 409)["error"]["message"]
    )
    done = _completed(demo_system)
    sha = _report(signer, done.pk)["sha256"]
    _sign(signer, done.pk, sha)
    assert "already" in _sign(signer, done.pk, sha, 409)["error"]["message"]


def test_the_service_refuses_an_operator(org, demo_system):
    from apps.compliance import services
    from audit_platform.errors import Forbidden

    assessment = _completed(demo_system)
    with pytest.raises(Forbidden):
        services.assessment_sign(
            actor=Principal.system(organization=org, name="tests"),
            assessment=assessment,
            report_sha256="0" * 64,
            function="x",
        )
