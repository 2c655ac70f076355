from __future__ import annotations

import hashlib
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.ledger.models import Entry

DATASHEET = {
    "design_choices": "Applicants of 2024-2025, one row per application.",
    "collection_process": "Exported from the loan origination system.",
    "data_origin": "Internal CRM",
    "original_purpose": "Loan servicing",
    "preparation_steps": {
        "cleaning": "Dropped duplicates",
        "labelling": "Default within 12 months",
    },
    "assumptions": "Past repayment predicts future repayment.",
    "suitability": "Covers all regions where the product is sold.",
    "bias_examination": "Approval rates compared by age band and sex.",
    "bias_mitigation": "Reweighing of under-represented age bands.",
    "data_gaps": "Few applicants over 75.",
}


def parquet_bytes(columns: dict[str, list]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def pipeline(org, client_for):
    return client_for(org, "pipeline")


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
    commit (in-process tasks) runs, as it would after a real commit."""

    def run(name: str, payload: dict, status: int = 201, client=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            response = (client or pipeline).post(
                reverse(name, kwargs=kwargs), payload, format="json"
            )
        assert response.status_code == status, response.content
        return response.json()

    return run


@pytest.fixture
def system(post):
    return post(
        "system-list",
        {
            "name": "Credit scoring",
            "intended_purpose": "Creditworthiness of consumers",
            "role": "provider",
        },
    )


def entry_types(org) -> list[str]:
    return list(
        Entry.objects.filter(log__organization=org).order_by("seq").values_list("type", flat=True)
    )


def entry_data(org, seq: int) -> dict:
    return json.loads(bytes(Entry.objects.get(log__organization=org, seq=seq).body))["data"]
