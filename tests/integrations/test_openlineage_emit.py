"""Our own records told as OpenLineage RunEvents, each carrying the ledger receipt
facet whose schema we serve; the events read back through the real client's types."""

from __future__ import annotations

import pytest
from django.urls import reverse
from openlineage.client.serde import Serde

from apps.registry import services as registry
from tests import factories
from tests.support import entry_types

pytestmark = pytest.mark.django_db


def test_a_training_run_is_emitted_with_its_ledger_receipts(org, pipeline):
    dataset_version = factories.DatasetVersionFactory(
        dataset__system__organization=org, sha256="ab" * 32, uri="s3://lake/train"
    )
    system = dataset_version.dataset.system
    run = factories.TrainingRunFactory(system=system, dataset_versions=[dataset_version])
    run, _ = registry.training_run_complete(
        actor=factories.tests_actor(org), run=run, metrics={"auc": 0.9}
    )
    factories.ModelVersionFactory(
        model=factories.ModelFactory(system=system, name="scorer"),
        training_run=run,
        artifact_sha256="cd" * 32,
    )

    response = pipeline.get(reverse("openlineage-training-run", kwargs={"pk": run.pk}))

    assert response.status_code == 200
    start, complete = response.json()["events"]
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    receipt = complete["run"]["facets"]["auditTrail_ledgerReceipt"]
    assert receipt["entryType"] == "training_run.completed"
    assert entry_types(org)[receipt["seq"]] == "training_run.completed"
    assert receipt["_schemaURL"].endswith(
        "/api/v1/openlineage/facets/AuditTrailLedgerReceiptRunFacet.json"
        "#/$defs/AuditTrailLedgerReceiptRunFacet"
    )
    assert start["run"]["runId"] == complete["run"]["runId"]
    assert complete["inputs"][0]["facets"]["auditTrail_digest"]["sha256"] == "ab" * 32
    assert complete["outputs"][0]["name"] == "model/scorer"
    assert complete["outputs"][0]["facets"]["auditTrail_digest"]["sha256"] == "cd" * 32
    # What we emit is what the OpenLineage client itself would serialize.
    assert Serde.to_dict(complete) == complete


def test_the_facet_schemas_are_served_without_a_key(client):
    response = client.get(
        reverse("openlineage-facet-schema", kwargs={"name": "AuditTrailLedgerReceiptRunFacet"})
    )
    missing = client.get(reverse("openlineage-facet-schema", kwargs={"name": "Nope"}))

    assert response.status_code == 200
    assert "AuditTrailLedgerReceiptRunFacet" in response.json()["$defs"]
    assert missing.status_code == 404
