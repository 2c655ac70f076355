from __future__ import annotations

import contextlib
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from apps.reports.demo import demo_declaration_ready, demo_system_seed
from tests.reports.tsa import tsa_start
from tests.support import assert_nothing_written


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def serve_approved(org, system, version=None, environment="production"):
    """A high-risk system's production deployment serves ``version`` (default: its
    first) after an engineer asked and a compliance officer approved (Art. 14)."""
    from apps.compliance import services as compliance
    from apps.registry import services as registry
    from apps.registry.models import Deployment
    from apps.tenancy.models import Membership
    from audit_platform.principal import Principal
    from tests import factories

    people = {}
    for role, email in (
        ("ml_engineer", "max@acme.example"),
        ("compliance_officer", "erika@acme.example"),
    ):
        membership = Membership.objects.filter(organization=org, user__email=email).first()
        if membership is None:
            membership = factories.MembershipFactory(organization=org, email=email, role=role)
        people[role] = Principal.for_user(organization=org, user=membership.user, role=role)
    version = version or system.models.get().versions.order_by("created_at").first()
    deployment = Deployment.objects.get(system=system, environment=environment)
    request, _ = compliance.approval_request_create(
        actor=people["ml_engineer"], deployment=deployment, model_version=version, reason="release"
    )
    compliance.approval_decide(
        actor=people["compliance_officer"], request=request, decision="approve"
    )
    registry.deployment_activate(
        actor=people["ml_engineer"], deployment=deployment, model_version=version, reason="approved"
    )
    return version


@pytest.fixture
def demo_system(org):
    """A high-risk credit scorer with its conformity assessment on the record, so that
    every kind, the declaration of conformity included, can be issued for it; its
    classification as high-risk stopped the unapproved version, and the approved
    version 1.0 serves again."""
    system = demo_declaration_ready(
        system=demo_system_seed(organization=org, model_versions=3, batches=3)
    )
    serve_approved(org, system)
    return system


# Annex V, point 8: who signs a declaration of conformity, and where.
SIGNATORY = {
    "signatory_name": "Erika Mustermann",
    "signatory_function": "Head of Compliance",
    "place_of_issue": "Berlin",
}


@pytest.fixture
def request_report(officer, django_capture_on_commit_callbacks):
    """POSTs a report request, runs the queued rendering as a worker would after the
    commit, and returns the report as the API shows it then. A request expected to be
    refused (4xx) is also checked to have written nothing."""

    def run(payload: dict, status: int = 202, client=None) -> dict:
        client = client or officer
        refused = assert_nothing_written() if status >= 400 else contextlib.nullcontext()
        with refused, django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("report-list"), payload, format="json")
        assert response.status_code == status, response.content
        body = response.json()
        if status != 202:
            return body
        detail = client.get(reverse("report-detail", kwargs={"pk": body["id"]}))
        return detail.json()

    return run


@pytest.fixture
def download(officer):
    def run(report: dict, client=None) -> bytes:
        response = (client or officer).get(reverse("report-download", kwargs={"pk": report["id"]}))
        assert response.status_code == 200, response
        return b"".join(response.streaming_content)

    return run


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def pdf_attachments(pdf: bytes) -> dict[str, bytes]:
    reader = PdfReader(io.BytesIO(pdf))
    return {name: contents[0] for name, contents in reader.attachments.items()}


@pytest.fixture
def tsa(settings, tmp_path):
    """The test time-stamping authority on loopback (tests/reports/tsa.py), configured
    as the service's: report signatures get RFC 3161 timestamps and validation data."""
    authority, server = tsa_start()
    settings.REPORT_TSA_URL = authority.url
    settings.REPORT_TRUST_ROOTS = str(authority.write_root(tmp_path / "tsa-root.pem"))
    yield authority
    server.shutdown()
