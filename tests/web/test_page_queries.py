"""No page's queries grow with its rows: each page is rendered with few records and
again with more, and must run the same number of queries (an N+1 fails here)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.compliance import services as compliance
from apps.registry import services as registry
from apps.registry.selectors import prediction_batches_of_system
from tests.factories import (
    AISystemFactory,
    ApprovalRequestFactory,
    DeploymentFactory,
    IncidentFactory,
    ModelFactory,
    ModelVersionFactory,
    PredictionBatchFactory,
    RiskFactory,
)
from tests.factories import (
    tests_actor as actor_of,
)

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured.captured_queries)


def _grows(client, url: str, add: Callable[[], None]) -> tuple[int, int]:
    client.get(url)  # warm caches that are per process, not per row (content types)
    before = _queries(client, url)
    add()
    return before, _queries(client, url)


@pytest.fixture
def system(org):
    system = AISystemFactory(organization=org, name="Scorer")
    return system


def _more_of_everything(org, system, n: int = 3) -> None:
    actor = actor_of(org)
    model = ModelFactory(system=system)
    for _ in range(n):
        version = ModelVersionFactory(model=model)
        deployment = DeploymentFactory(
            system=system, environment=f"env-{version.pk}", serving=version
        )
        other = ModelVersionFactory(model=model)
        registry.deployment_activate(actor=actor, deployment=deployment, model_version=other)
        registry.deployment_rollback(actor=actor, deployment=deployment, reason="back")
        PredictionBatchFactory(deployment=deployment)
        RiskFactory(system=system)
        ApprovalRequestFactory(deployment=deployment, model_version=version)
        # Open incidents stop every change to their system (Art. 73(6)): on another one.
        incident = IncidentFactory(
            system=AISystemFactory(organization=org),
            became_aware_at=timezone.now() - timedelta(hours=1),
        )
        compliance.incident_report_add(actor=actor, incident=incident, kind="initial", content="x")


@pytest.fixture
def viewer(org, make_person, client_as):
    return client_as(make_person(org, "owner"))


@pytest.mark.parametrize(
    "page",
    ["web:systems", "web:approvals", "web:incidents", "web:ledger", "web:reports", "system"],
)
def test_a_page_runs_as_many_queries_with_more_rows(org, system, viewer, page):
    _more_of_everything(org, system, n=1)
    url = reverse("web:system", args=[system.pk]) if page == "system" else reverse(page)
    before, after = _grows(viewer, url, lambda: _more_of_everything(org, system, n=3))
    assert after == before, f"{url}: {before} queries, then {after} with more rows"


@pytest.mark.parametrize("kind", ["model_version", "deployment", "prediction_batch"])
def test_a_record_page_runs_as_many_queries_with_more_entries(org, system, viewer, kind):
    _more_of_everything(org, system, n=1)
    deployment = system.deployments.get()
    record = {
        "model_version": deployment.model_version,
        "deployment": deployment,
        "prediction_batch": prediction_batches_of_system(system=system).first(),
    }[kind]
    url = reverse("web:record", args=[kind, record.pk])

    def more() -> None:
        actor = actor_of(org)
        for _ in range(3):
            other = ModelVersionFactory(model=deployment.model_version.model)
            registry.deployment_activate(actor=actor, deployment=deployment, model_version=other)

    before, after = _grows(viewer, url, more)
    assert after == before, f"{url}: {before} queries, then {after} with more entries"
