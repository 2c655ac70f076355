"""Documents state what the record holds and nothing else: the version they cover is
the one named or the one serving (not the latest registered), a rollback shows the
version it replaced, the lifecycle status and its changes appear in every document,
open serious incidents appear in Annex IV and the post-market report, and Annex IV
does not list itself (Art. 11) as missing. Requests naming a version, range or
subject that does not exist or is not the caller's are refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.compliance import services as compliance
from apps.registry import services as registry
from apps.reports.demo import demo_system_seed
from audit_platform.principal import Principal
from tests.reports.conftest import SIGNATORY, pdf_text


def _text(pdf: bytes) -> str:
    """The PDF's words, without the [seq N] citation marks."""
    return " ".join(re.sub(r"\[seq\s\d+\]", "", pdf_text(pdf)).split())


def _range() -> dict:
    now = timezone.now()
    return {
        "time_from": (now - timedelta(days=1)).isoformat(),
        "time_to": (now + timedelta(minutes=5)).isoformat(),
    }


@pytest.fixture
def lived(demo_system, org):
    """The demo system moved into validation, with an open serious incident."""
    actor = Principal.system(organization=org, name="tests")
    registry.ai_system_status_change(
        actor=actor, system=demo_system, status="validation", reason="Test-set evaluation"
    )
    compliance.incident_open(
        actor=actor,
        system=demo_system,
        kind="general",
        description="A whole postcode was refused.",
        became_aware_at=timezone.now() - timedelta(hours=2),
    )
    demo_system.refresh_from_db()
    return demo_system


def test_annex_iv_covers_the_serving_version_and_states_status_incidents_and_rollback(
    lived, request_report, download
):
    text = _text(download(request_report({"kind": "annex_iv", "system_id": lived.pk})))
    # The demo activated 1.0, then 1.2, then rolled back: 1.0 serves, 1.2 is the latest.
    assert "Version this documentation covers: scorer@1.0 (serving now" in text
    assert "rolled back scorer@1.0 scorer@1.2 drift alarm" in text
    assert "Lifecycle status in validation" in text
    assert "in development in validation Test-set evaluation the service (tests)" in text
    assert "A whole postcode was refused." in text
    assert "Art. 11: Draw up technical documentation" not in text


def test_annex_iv_covers_the_version_named(lived, request_report, download):
    named = lived.models.get().versions.order_by("created_at")[1]
    report = request_report(
        {"kind": "annex_iv", "system_id": lived.pk, "model_version_id": named.pk}
    )
    text = _text(download(report))
    assert "Version this documentation covers: scorer@1.1 (named in the request" in text


def test_post_market_report_states_incidents_rollback_and_status(lived, request_report, download):
    payload = {"kind": "post_market_monitoring", "system_id": lived.pk, **_range()}
    text = _text(download(request_report(payload)))
    assert "Serious incidents" in text and "A whole postcode was refused." in text
    assert "rolled back scorer@1.0 scorer@1.2 drift alarm" in text
    assert "Model version covered: scorer@1.0 (serving now)" in text
    assert "Lifecycle status in validation" in text


@pytest.mark.parametrize("kind", ["model_card", "serious_incident", "audit_trail"])
def test_every_document_shows_the_lifecycle_status(lived, request_report, download, kind):
    if kind == "model_card":
        payload = {"kind": kind, "model_version_id": lived.models.get().versions.first().pk}
    else:
        payload = {"kind": kind, "system_id": lived.pk}
    if kind == "audit_trail":
        payload.update(_range())
    text = _text(download(request_report(payload)))
    assert "Lifecycle status in validation" in text


def test_a_version_of_another_system_or_organization_is_404(
    demo_system, request_report, org, other_org
):
    sibling = demo_system_seed(organization=org, name="Other", model_versions=1, batches=0)
    theirs = demo_system_seed(organization=other_org, model_versions=1, batches=0)
    for system in (sibling, theirs):
        version = system.models.get().versions.get()
        body = request_report(
            {"kind": "annex_iv", "system_id": demo_system.pk, "model_version_id": version.pk},
            status=404,
        )
        assert body["error"]["code"] == "not_found"
    body = request_report(
        {
            "kind": "declaration_of_conformity",
            "system_id": demo_system.pk,
            "model_version_id": 999_999,
            **SIGNATORY,
        },
        status=404,
    )


def test_a_version_for_a_kind_that_covers_none_and_a_future_range_are_400(
    demo_system, request_report
):
    version = demo_system.models.get().versions.first()
    body = request_report(
        {
            "kind": "audit_trail",
            "system_id": demo_system.pk,
            "model_version_id": version.pk,
            **_range(),
        },
        status=400,
    )
    assert "model_version_id" in body["error"]["fields"]
    later = timezone.now() + timedelta(days=2)
    body = request_report(
        {
            "kind": "post_market_monitoring",
            "system_id": demo_system.pk,
            "time_from": later.isoformat(),
            "time_to": (later + timedelta(days=1)).isoformat(),
        },
        status=400,
    )
    assert "future" in body["error"]["message"]
