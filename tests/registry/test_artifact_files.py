"""An uploaded file whose Artifact row rolls back does not stay in storage, and no
rollback ever removes a file that a committed artifact uses."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from celery.signals import task_postrun
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.urls import reverse

from apps.ledger import services as ledger
from apps.registry.artifacts import artifact_orphans_remove, artifact_store
from apps.registry.models import Artifact
from apps.tenancy import idempotency
from audit_platform.principal import Principal

DATA = b"model weights, version 7\n"


class LaterFailure(Exception):
    """A step after the upload, in the same transaction, that fails."""


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media: Path) -> list[Path]:
    return sorted(path for path in media.rglob("*") if path.is_file())


def store(org, data: bytes = DATA) -> Artifact:
    artifact, _ = artifact_store(
        organization=org,
        uploaded=SimpleUploadedFile("weights.bin", data),
        declared_sha256=None,
        actor=Principal.system(organization=org, name="tests"),
    )
    return artifact


def test_a_failed_ledger_append_removes_the_file_it_wrote(org, media, monkeypatch):
    written: list[Path] = []

    def unavailable(**kwargs):
        written.extend(stored_files(media))
        raise LaterFailure("the ledger is unavailable")

    monkeypatch.setattr(ledger, "entry_append", unavailable)

    with pytest.raises(LaterFailure):
        store(org)

    assert len(written) == 1  # the file was in storage when the append failed
    assert stored_files(media) == []
    assert not Artifact.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_callers_rollback_after_the_upload_removes_the_file_once_it_is_over(org, media):
    # Earlier tests ran in transactions that rolled back, and left their names behind.
    artifact_orphans_remove()
    with pytest.raises(LaterFailure), transaction.atomic():
        path = Path(store(org).file.path)
        # Still inside the transaction: it may yet commit, so the file stays.
        assert artifact_orphans_remove() == 0
        assert path.read_bytes() == DATA
        raise LaterFailure("a later validation error")

    assert artifact_orphans_remove() == 1
    assert stored_files(media) == []
    assert not Artifact.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_callers_commit_keeps_the_file(org, media):
    with transaction.atomic():
        artifact = store(org)

    artifact_orphans_remove()
    assert Path(Artifact.objects.get(pk=artifact.pk).file.path).read_bytes() == DATA


@pytest.mark.django_db(transaction=True)
def test_files_of_a_task_that_rolled_back_are_removed_when_the_task_ends(org, media):
    with pytest.raises(LaterFailure), transaction.atomic():
        store(org)
        raise LaterFailure("the batch could not be completed")

    task_postrun.send(sender=None, task_id="t-1", task=None, args=(), kwargs={}, retval=None)

    assert stored_files(media) == []


@pytest.mark.django_db(transaction=True)
def test_a_keyed_upload_that_fails_before_commit_leaves_no_file_and_a_retry_stores_it(
    org, media, client_for, monkeypatch
):
    pipeline = client_for(org, "pipeline")
    pipeline.raise_request_exception = False
    real_store = idempotency._store

    def lost_connection(*args, **kwargs):
        raise LaterFailure("the connection dropped before the answer was stored")

    def upload():
        return pipeline.post(
            reverse("artifact-list"),
            {"file": SimpleUploadedFile("weights.bin", DATA)},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )

    monkeypatch.setattr(idempotency, "_store", lost_connection)
    assert upload().status_code == 500
    assert stored_files(media) == []
    assert not Artifact.objects.exists()

    monkeypatch.setattr(idempotency, "_store", real_store)
    retry = upload()
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert stored_files(media) == [Path(Artifact.objects.get().file.path)]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_duplicate_upload_keeps_the_file_the_existing_artifact_uses(org, media):
    existing = store(org)

    with pytest.raises(LaterFailure), transaction.atomic():
        assert store(org).pk == existing.pk
        raise LaterFailure("a later validation error")

    artifact_orphans_remove()
    assert stored_files(media) == [Path(existing.file.path)]
    assert Path(existing.file.path).read_bytes() == DATA


def _racing_upload(org, results: list) -> threading.Thread:
    """Uploads DATA from another connection, as a concurrent request would."""

    def run() -> None:
        try:
            results.append(store(org))
        except Exception as exc:
            results.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_until_blocked_on_a_lock() -> None:
    deadline = time.monotonic() + 10
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            # Inside a transaction PostgreSQL keeps showing its first look at the view.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the racing upload never waited on the claim")


@pytest.mark.django_db(transaction=True)
def test_an_upload_racing_one_that_rolls_back_keeps_its_own_file(postgres, org, media):
    results: list = []
    with pytest.raises(LaterFailure), transaction.atomic():
        store(org)
        racer = _racing_upload(org, results)
        _wait_until_blocked_on_a_lock()
        raise LaterFailure("the first upload's request failed")
    artifact_orphans_remove()
    racer.join(10)

    (artifact,) = results
    assert isinstance(artifact, Artifact)
    assert stored_files(media) == [Path(artifact.file.path)]
    assert Path(artifact.file.path).read_bytes() == DATA


@pytest.mark.django_db(transaction=True)
def test_an_upload_racing_one_that_commits_writes_no_second_file(postgres, org, media):
    results: list = []
    with transaction.atomic():
        first = store(org)
        racer = _racing_upload(org, results)
        _wait_until_blocked_on_a_lock()
    racer.join(10)

    assert [artifact.pk for artifact in results] == [first.pk]
    assert stored_files(media) == [Path(first.file.path)]
    assert connection.in_atomic_block is False
