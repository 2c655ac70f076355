"""Compliance fixtures: an officer's calls to the API, classified systems and
deployments made through it, and people who approve in person."""

from __future__ import annotations

import contextlib
import hashlib
import io

import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from audit_platform.principal import Principal
from tests.factories import MembershipFactory
from tests.support import (
    DATASHEET,
    answers,
    assert_nothing_written,
    parquet_bytes,
    sign_in_with_second_factor,
)


@pytest.fixture
def person(org):
    """``person(role, email)``: a signed-in member of ``org`` (an API client) and its
    Principal, for actions only people may take (approvals)."""

    def make(role: str, email: str):
        membership = MembershipFactory(organization=org, email=email, role=role)
        client = APIClient()
        sign_in_with_second_factor(client, membership.user)
        principal = Principal.for_user(organization=org, user=membership.user, role=role)
        return client, principal

    return make


@pytest.fixture
def call(officer, django_capture_on_commit_callbacks):
    """``call(method, name, payload, status, client=None, **kwargs)``: asserts the status
    and returns the JSON. Work queued on commit runs, as after a real commit. A call
    expected to be refused (4xx) is also checked to have written nothing."""

    def run(method: str, name: str, payload=None, status: int = 201, client=None, **kwargs):
        refused = assert_nothing_written() if status >= 400 else contextlib.nullcontext()
        with refused, django_capture_on_commit_callbacks(execute=True):
            url = reverse(name, kwargs=kwargs)
            response = getattr(client or officer, method)(url, payload, format="json")
        assert response.status_code == status, response.content
        return response.json()

    return run


@pytest.fixture
def make_system(call):
    def make(
        name: str = "Credit scoring", role: str = "provider", classify: bool = True, **overrides
    ):
        system = call(
            "post",
            "system-list",
            {"name": name, "intended_purpose": "Assess applicants", "role": role},
        )
        if classify:
            call(
                "post",
                "classification-list",
                {"system_id": system["id"], "answers": answers(role=role, **overrides)},
            )
        return system

    return make


@pytest.fixture
def deployed(call, make_system):
    """``deployed(**answers)``: a classified system with a deployment and two model
    versions, nothing served yet."""

    def make(name: str = "Credit scoring", **answer_overrides):
        system = make_system(name=name, **answer_overrides)
        model = call("post", "model-list", {"system_id": system["id"], "name": "scorer"})
        versions = [
            call(
                "post",
                "model-version-list",
                {
                    "version": f"v{n}",
                    "artifact_sha256": f"{n:064x}",
                    "artifact_format": "onnx",
                    "framework": "onnx",
                    "framework_version": "1.16",
                    "uri": f"s3://m/v{n}.onnx",
                },
                model_pk=model["id"],
            )["id"]
            for n in (1, 2)
        ]
        deployment = call(
            "post", "deployment-list", {"system_id": system["id"], "environment": "production"}
        )["id"]
        return system, deployment, versions

    return make


@pytest.fixture
def dataset_version(call, officer, django_capture_on_commit_callbacks):
    """``dataset_version(system_id, columns)``: uploads the columns as Parquet and
    registers them as a test-split dataset version; returns its JSON."""
    from apps.registry.tabular import type_name

    counter = {"n": 0}

    def make(system_id: int, columns: dict[str, list]):
        counter["n"] += 1
        data = parquet_bytes(columns)
        digest = hashlib.sha256(data).hexdigest()
        response = officer.post(
            reverse("artifact-list"),
            {"file": SimpleUploadedFile("data.parquet", data)},
            format="multipart",
        )
        assert response.status_code in (200, 201), response.content
        dataset = call(
            "post", "dataset-list", {"system_id": system_id, "name": f"eval-{counter['n']}"}
        )
        arrow_schema = pq.read_schema(io.BytesIO(data))
        schema = [{"name": n, "type": type_name(arrow_schema.field(n).type)} for n in columns]
        return call(
            "post",
            "dataset-version-list",
            {
                "version": "1",
                "sha256": digest,
                "size_bytes": len(data),
                "row_count": len(next(iter(columns.values()))),
                "schema": schema,
                "split": "test",
                "datasheet": DATASHEET,
                "contains_personal_data": True,
                "contains_special_category_data": True,
                "artifact_sha256": digest,
            },
            dataset_pk=dataset["id"],
        )

    return make
