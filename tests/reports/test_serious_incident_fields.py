"""The serious-incident report shows the facts the Commission's reporting template asks
for (Art. 73) as the compliance app records them: where, to whom, when, what harm,
other regimes, root cause and corrective actions, the "immediately" duty beside the
outer deadline, and names what the record still lacks."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.compliance import services as compliance
from audit_platform.principal import Principal
from tests import factories
from tests.reports.conftest import pdf_text
from tests.reports.test_readable import _assert_readable


def _person(org, role: str, email: str, first: str, last: str) -> Principal:
    membership = factories.MembershipFactory(organization=org, email=email, role=role)
    membership.user.first_name, membership.user.last_name = first, last
    membership.user.save(update_fields=["first_name", "last_name"])
    return Principal.for_user(organization=org, user=membership.user, role=role)


def _text(request_report, download, payload) -> str:
    return " ".join(pdf_text(download(request_report(payload))).split())


def test_follow_up_report_shows_the_art_73_facts_in_words(
    org, demo_system, request_report, download
):
    officer = _person(org, "compliance_officer", "rita@acme.example", "Rita", "Owner")
    now = timezone.now()
    incident, _ = compliance.incident_open(
        actor=officer,
        system=demo_system,
        kind="general",
        description="Applicants of one region were refused in bulk.",
        became_aware_at=now - timedelta(days=4),
        occurred_at=now - timedelta(days=5),
        harm_category="fundamental_rights",
    )
    compliance.incident_report_add(
        actor=officer, incident=incident, kind="initial", content="Region feature disabled."
    )
    compliance.incident_details_record(
        actor=officer,
        incident=incident,
        changes={
            "causal_link_established_at": now - timedelta(days=3),
            "parallel_regimes": [{"regime": "gdpr", "reference": "DPA case 2026-117"}],
        },
    )
    compliance.incident_authority_informed(
        actor=officer,
        incident=incident,
        informed_at=now - timedelta(days=2),
        member_state="DE",
        receiving_authority="Bundesnetzagentur",
    )
    compliance.incident_report_add(
        actor=officer,
        incident=incident,
        kind="final",
        content="Investigation closed.",
        root_cause="A region code leaked into the features as a proxy.",
        corrective_actions="Region code removed; model 1.1 retrained and re-assessed.",
    )
    text = _text(
        request_report,
        download,
        {"kind": "serious_incident", "system_id": demo_system.pk, "stage": "follow_up"},
    )
    fmt = "%Y-%m-%d %H:%M:%S UTC"
    assert "Report stage: final report" in text
    assert "Member State where it occurred Germany (DE)" in text
    assert "Receiving market surveillance authority Bundesnetzagentur" in text
    assert f"Occurred {incident.occurred_at.strftime(fmt)}" in text
    incident.refresh_from_db()
    assert f"Causal link established {incident.causal_link_established_at.strftime(fmt)}" in text
    assert (
        "Infringement of obligations under Union law intended to protect fundamental rights "
        "(Art. 3(49)(c))" in text
    )
    assert "Regulation (EU) 2016/679 (GDPR), Art. 33: DPA case 2026-117" in text
    # The "immediately" duty beside the outer deadline, each with its source.
    assert "Report immediately after establishing a causal link" in text
    assert "Art. 73(2), first subparagraph" in text
    assert "Report at the latest 15 days after becoming aware." in text
    assert "Reports filed Initial, Final" in text
    assert "Final report," in text and "Filed by Rita Owner (compliance officer)." in text
    assert "Root cause A region code leaked into the features as a proxy." in text
    assert "Corrective actions Region code removed; model 1.1 retrained and re-assessed." in text
    assert "Recorded by Rita Owner (compliance officer)" in text
    assert "Nothing the record can show is missing." in text
    _assert_readable(text)


def test_initial_report_lists_the_facts_not_recorded_as_missing(
    org, demo_system, request_report, download
):
    factories.IncidentFactory(
        system=demo_system,
        kind="general",
        description="Scores drifted for a week.",
        reports=[("initial", "Under investigation.")],
    )
    text = _text(
        request_report, download, {"kind": "serious_incident", "system_id": demo_system.pk}
    )
    assert "Report stage: initial report" in text
    missing = text[text.index("Missing for compliance") :]
    for label in (
        "Member State where the incident occurred (Art. 73(1))",
        "Market surveillance authority receiving the report (Art. 73(1))",
        "When the incident occurred",
        "When the causal link with the AI system was established (Art. 73(2))",
        "Harm category (Art. 3(49))",
        "Root cause (Art. 73(6)): stated in no report on the record",
        "Corrective actions (Art. 73(6)): stated in no report on the record",
    ):
        assert label in missing, label
    assert "not yet due: no causal link is established on the record" in text
    assert "Reported under other regimes none recorded" in text
    _assert_readable(text)
