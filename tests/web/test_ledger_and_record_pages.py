"""The ledger explorer (filters, paging, one entry decoded with its proof, verify now,
export) and the pages of datasets, model versions, training runs, deployments and
prediction batches."""

from __future__ import annotations

import html
import io
import json
import zipfile

import pytest
from django.urls import reverse

from apps.reports.demo import demo_system_seed
from tests.factories import AISystemFactory, ModelFactory, ModelVersionFactory
from tests.support import assert_nothing_written

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return demo_system_seed(organization=org, model_versions=2, batches=2)


def test_the_explorer_filters_by_type_and_subject_and_pages(org, make_person, client_as):
    system = AISystemFactory(organization=org, name="Scorer")
    model = ModelFactory(system=system)
    for i in range(3):
        ModelVersionFactory(model=model, version=f"v{i}")
    client = client_as(make_person(org, "auditor"))
    page = client.get(reverse("web:ledger"), {"type": "model_version.registered"})
    listing = page.content.decode()
    assert page.status_code == 200
    assert listing.count("model_version.registered") >= 3
    assert "ai_system.registered</td>" not in listing
    one = client.get(reverse("web:ledger"), {"subject_kind": "ai_system", "subject_id": system.pk})
    assert "ai_system.registered" in one.content.decode()
    # Each subject reads in words, linked to its page, with its kind and id on hover.
    assert (
        f'<a href="/systems/{system.pk}/" title="ai_system {system.pk}">AI system Scorer</a>'
        in (one.content.decode())
    )
    assert f"model version {model.name} v0" in listing


def _seqs(page) -> list[int]:
    return [int(part.split("/")[0]) for part in page.split('href="/ledger/entries/')[1:]]


def test_the_explorer_pages_fifty_entries_newest_first(org, make_person, client_as):
    for i in range(55):
        AISystemFactory(organization=org, name=f"System {i}")
    client = client_as(make_person(org, "auditor"))
    first = client.get(reverse("web:ledger")).content.decode()
    second = client.get(reverse("web:ledger"), {"page": 2}).content.decode()
    assert 'aria-label="Pages"' in first
    assert len(_seqs(first)) == 50 and _seqs(first) == sorted(_seqs(first), reverse=True)
    assert max(_seqs(second)) == min(_seqs(first)) - 1


def test_an_entry_is_decoded_and_its_proof_downloads(org, make_person, client_as):
    system = AISystemFactory(organization=org, name="Scorer")
    client = client_as(make_person(org, "auditor"))
    listing = client.get(reverse("web:ledger"), {"type": "ai_system.registered"}).content.decode()
    seq = int(listing.split('href="/ledger/entries/')[1].split("/")[0])
    page = html.unescape(client.get(reverse("web:ledger-entry", args=[seq])).content.decode())
    assert '"name": "Scorer"' in page and str(system.pk) in page
    proof = client.get(reverse("web:ledger-entry-proof", args=[seq]))
    assert proof.status_code == 200
    assert proof["Content-Disposition"].startswith("attachment")
    assert proof.content.decode().startswith("c2sp.org/tlog-proof@v1")
    assert client.get(reverse("web:ledger-entry", args=[10_000])).status_code == 404


def test_verify_now_runs_the_verification_as_a_task_with_progress(
    org, make_person, client_as, django_capture_on_commit_callbacks
):
    client = client_as(make_person(org, "auditor"))
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(reverse("web:ledger-verify"), HTTP_HX_REQUEST="true")
    assert started.status_code == 200
    task_url = started.content.decode().split('hx-get="')[1].split('"')[0]
    done = client.get(task_url, HTTP_HX_REQUEST="true").content.decode()
    assert "succeeded" in done and 'value="100"' in done
    assert "hx-trigger" not in done  # it stops polling once done


def test_export_downloads_the_bundle_for_those_who_verify(org, make_person, client_as):
    # Every member role verifies; the export is refused to none of them, so this checks
    # the download itself.
    bundle = client_as(make_person(org, "auditor")).get(reverse("web:ledger-export"))
    assert bundle.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(b"".join(bundle.streaming_content))).namelist()
    assert "entries.jsonl" in names and "VERIFY.md" in names


def test_record_pages_show_digests_lineage_and_entries(org, demo, make_person, client_as):
    client = client_as(make_person(org, "auditor"))
    version = demo.models.get().versions.order_by("created_at").first()
    run = version.training_run
    data = version.dataset_versions.first() or run.dataset_versions.first()
    page = client.get(reverse("web:record", args=["model_version", version.pk])).content.decode()
    assert version.artifact_sha256 in page
    assert reverse("web:record", args=["training_run", run.pk]) in page
    assert "model_version.registered" in page
    run_page = client.get(reverse("web:record", args=["training_run", run.pk])).content.decode()
    assert reverse("web:record", args=["dataset_version", data.pk]) in run_page
    assert reverse("web:record", args=["model_version", version.pk]) in run_page
    data_page = client.get(
        reverse("web:record", args=["dataset_version", data.pk])
    ).content.decode()
    assert data.sha256 in data_page
    deployment = demo.deployments.get()
    dep_page = client.get(
        reverse("web:record", args=["deployment", deployment.pk])
    ).content.decode()
    assert "deployment.rolled_back" in dep_page
    assert client.get(reverse("web:record", args=["dataset", data.pk])).status_code == 404


def test_a_batch_page_gives_one_decisions_receipt_or_says_why_not(
    org, demo, make_person, client_as
):
    client = client_as(make_person(org, "auditor"))
    from apps.registry.selectors import prediction_batches_of_system

    batch = prediction_batches_of_system(system=demo).first()
    page = client.get(reverse("web:record", args=["prediction_batch", batch.pk])).content.decode()
    assert batch.input_sha256 in page and batch.rows_root in page
    with assert_nothing_written():
        response = client.get(reverse("web:row-receipt", args=[batch.pk]), {"row": 0})
    if batch.rows_artifact_id is None:
        assert response.status_code == 409
        assert "was recorded without its rows" in response.content.decode()
    else:
        receipt = json.loads(response.content)
        assert receipt["prediction_batch"] == str(batch.pk) and receipt["row"] == 0
