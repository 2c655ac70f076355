"""Fixtures every test folder may use, registered by the root conftest.py: tenants and
their API clients, calls to the API that assert their status, and a served model.
Objects come from tests/factories.py, so they carry their ledger entries."""

from __future__ import annotations

import contextlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from apps.registry.models import AISystem
from tests.factories import ApiKeyFactory, OrganizationFactory, classify_unclassified
from tests.support import (
    assert_nothing_written,
    sha256,
    sign_in_with_second_factor,
    train_xgboost,
    xgboost_bytes,
)

# --- Organizations and who acts for them ---------------------------------------------


@pytest.fixture
def make_org(db):
    """Creates organizations (with their ledger) on demand: ``make_org("acme")``."""

    def make(slug: str = "acme", name: str | None = None):
        return OrganizationFactory(slug=slug, name=name or slug.title())

    return make


@pytest.fixture
def org(make_org):
    return make_org("acme")


@pytest.fixture
def other_org(make_org):
    return make_org("globex")


@pytest.fixture
def api_key_for(db):
    """``api_key_for(org, role)`` returns a fresh secret for a key of that role."""

    def make(organization, role: str = "owner", name: str = "test") -> str:
        return ApiKeyFactory(organization=organization, role=role, name=name).secret

    return make


@pytest.fixture
def client_for(api_key_for):
    """``client_for(org, role)``: a DRF test client that sends a Bearer key of that role."""

    def make(organization, role: str = "owner") -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(organization, role)}")
        return client

    return make


@pytest.fixture
def owner(org, client_for):
    return client_for(org, "owner")


@pytest.fixture
def officer(org, client_for):
    return client_for(org, "compliance_officer")


@pytest.fixture
def pipeline(org, client_for):
    return client_for(org, "pipeline")


# --- Calling the API as a pipeline ------------------------------------------------------


@pytest.fixture
def upload(pipeline):
    """Uploads bytes as an artifact and returns the response JSON."""

    def run(data: bytes, name: str = "file.bin", client=None, **extra):
        response = (client or pipeline).post(
            reverse("artifact-list"),
            {"file": SimpleUploadedFile(name, data), **extra},
            format="multipart",
        )
        assert response.status_code in (200, 201), response.content
        return response.json()

    return run


@pytest.fixture
def post(pipeline, django_capture_on_commit_callbacks):
    """POSTs JSON and asserts the status; returns the response JSON. Work queued on
    commit (in-process tasks) runs, as it would after a real commit. A request
    expected to be refused (4xx) is also checked to have written nothing, unless
    ``refusal_recorded``: the service puts that refusal itself on the record (an
    integrity failure), which the test then checks."""

    def run(
        name: str,
        payload: dict,
        status: int = 201,
        client=None,
        refusal_recorded: bool = False,
        **kwargs,
    ):
        checked = status >= 400 and not refusal_recorded
        refused = assert_nothing_written() if checked else contextlib.nullcontext()
        with refused, django_capture_on_commit_callbacks(execute=True):
            response = (client or pipeline).post(
                reverse(name, kwargs=kwargs), payload, format="json"
            )
        assert response.status_code == status, response.content
        return response.json()

    return run


@pytest.fixture
def served(post, upload):
    """``served(model_bytes, fmt)`` registers the model and a deployment serving it
    through the API, as a pipeline does; returns ids."""

    def make(model_bytes: bytes | None = None, fmt: str = "xgboost-json", name: str = "scorer"):
        if model_bytes is None:
            model_bytes = xgboost_bytes(train_xgboost())
        system = post(
            "system-list",
            {"name": f"System {name}", "intended_purpose": "Credit scoring", "role": "provider"},
        )
        model = post("model-list", {"system_id": system["id"], "name": name})
        upload(model_bytes, name="model.bin")
        version = post(
            "model-version-list",
            {
                "version": "1",
                "artifact_sha256": sha256(model_bytes),
                "artifact_format": fmt,
                "framework": fmt.split("-")[0],
                "framework_version": "1",
                "uploaded": True,
            },
            model_pk=model["id"],
        )
        deployment = post(
            "deployment-list", {"system_id": system["id"], "environment": "production"}
        )
        # Unclassified systems serve nothing (the default policy): an officer classifies
        # this one minimal-risk first.
        classify_unclassified(AISystem.objects.get(pk=system["id"]))
        post(
            "deployment-activate",
            {"model_version_id": version["id"]},
            status=200,
            pk=deployment["id"],
        )
        return {
            "system": system,
            "model": model,
            "version": version,
            "deployment": deployment,
            "model_sha256": sha256(model_bytes),
        }

    return make


@pytest.fixture
def run_batch(post, upload):
    """Uploads input bytes and asks for a run; returns the response JSON (``post``
    checks that a refused run wrote nothing; see ``refusal_recorded`` there)."""

    def run(
        deployment_id: int,
        data: bytes,
        status: int = 201,
        name: str = "input.parquet",
        refusal_recorded: bool = False,
    ):
        upload(data, name=name)
        return post(
            "prediction-batch-run",
            {"deployment_id": deployment_id, "input_sha256": sha256(data)},
            status=status,
            refusal_recorded=refusal_recorded,
        )

    return run


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's ``admin_client``, logged in as an operator logs in to the admin:
    with the code of their second factor (the admin requires it)."""
    sign_in_with_second_factor(client, admin_user)
    return client
