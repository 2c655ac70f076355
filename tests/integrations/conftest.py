from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests import factories

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/integration/airflow"
RUN_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def run_event(
    event_type: str,
    run_id: str,
    *,
    job: tuple[str, str] = ("airflow", "credit.train"),
    time: str = "2026-11-23T09:15:02.123456+00:00",
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    run_facets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A RunEvent as Airflow's provider sends it (facets of the spec's shape)."""
    return {
        "eventType": event_type,
        "eventTime": time,
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT,
        "run": {"runId": run_id, "facets": run_facets or {}},
        "job": {"namespace": job[0], "name": job[1], "facets": {}},
        "inputs": inputs or [],
        "outputs": outputs or [],
    }


def facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": "https://example.org/facet.json", **fields}


@pytest.fixture
def new_run_id():
    return lambda: str(uuid.uuid4())


@pytest.fixture
def trained_system(org):
    system = factories.AISystemFactory(organization=org, name="Credit scoring")
    model = factories.ModelFactory(system=system, name="scorer")
    return system, model
