"""The fleet page (workers online or not with their GPUs, energy and cost per day and
per system) and the AI system page's monitoring (drift and performance charts, open
alerts and retraining triggers)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.fleet.models import Worker
from apps.registry.models import PredictionBatch
from tests.factories import DeploymentFactory, ModelVersionFactory, PredictionBatchFactory
from tests.monitoring import isolation_cases

pytestmark = pytest.mark.django_db

H100 = {
    "name": "NVIDIA H100 80GB HBM3",
    "uuid": "GPU-aaaa-1111",
    "driver": "550.54.15",
    "memory_total_bytes": 80 * 2**30,
    "memory_used_bytes": 3 * 2**30,
    "mig_mode": "disabled",
    "temperature_c": 61.0,
    "power_w": 300.0,
}


def _worker(name: str, *, seen_ago: timedelta, gpus: list, no_gpu_reason: str = "") -> Worker:
    now = timezone.now()
    return Worker.objects.create(
        name=name,
        worker_class="gpu" if gpus else "default",
        host="node-1",
        pid=4242,
        queues=["gpu"] if gpus else ["default"],
        pool="solo",
        concurrency=1,
        software={},
        gpus=gpus,
        no_gpu_reason=no_gpu_reason,
        hardware_sha256="ab" * 32,
        first_seen_at=now - timedelta(days=1),
        last_seen_at=now - seen_ago,
    )


def _batch(org) -> PredictionBatch:
    version = ModelVersionFactory(model__system__organization=org)
    deployment = DeploymentFactory(system=version.model.system, serving=version)
    return PredictionBatchFactory(deployment=deployment)


def test_the_fleet_page_shows_workers_online_and_offline_with_their_gpus(
    org, make_person, client_as
):
    _worker("gpu@node-1", seen_ago=timedelta(seconds=5), gpus=[H100])
    _worker("cpu@node-2", seen_ago=timedelta(days=1), gpus=[], no_gpu_reason="no NVIDIA driver")
    html = client_as(make_person(org, "auditor")).get("/fleet/").content.decode()
    assert "1 of 2 workers online" in html
    online = re.search(r"<tr>\s*<td><strong>gpu@node-1</strong>.*?</tr>", html, re.S).group(0)
    assert ">online<" in online and "NVIDIA H100 80GB HBM3: 3.0 / 80.0 GiB" in online
    assert "300 W" in online
    offline = re.search(r"<tr>\s*<td><strong>cpu@node-2</strong>.*?</tr>", html, re.S).group(0)
    assert ">offline<" in offline and "none: no NVIDIA driver" in offline


def test_the_fleet_page_charts_energy_and_costs_it_per_system(
    org, make_person, client_as, settings
):
    settings.FLEET_ENERGY_PRICE_PER_KWH = "0.30"
    batch = _batch(org)
    PredictionBatch.objects.filter(pk=batch.pk).update(
        status=PredictionBatch.Status.COMPLETED,
        energy_joules=1_800_000.0,  # 0.5 kWh
        finished_at=timezone.now() - timedelta(hours=1),
    )
    html = client_as(make_person(org, "auditor")).get("/fleet/").content.decode()
    assert re.search(r'<svg[^>]*aria-label="Energy per day \(kWh\), 1 days"', html)
    system = batch.deployment.system
    row = re.search(rf'<tr><td><a href="/systems/{system.pk}/">.*?</tr>', html, re.S).group(0)
    assert f"AI system {system.name}" in row
    assert "0.500000" in row and "0.15" in row


def test_the_fleet_page_is_in_the_navigation_and_changes_nothing(org, make_person, client_as):
    client = client_as(make_person(org, "owner"))
    assert '<a href="/fleet/"' in client.get("/").content.decode()
    refused = client.post("/fleet/")
    assert refused.status_code == 403
    assert "only shows" in refused.content.decode()


def test_the_system_page_charts_monitoring_with_open_alerts_and_triggers(
    org, make_person, client_as
):
    monitored = isolation_cases.victim(org)
    system = monitored["monitoring_policy"].deployment.system
    html = client_as(make_person(org, "auditor")).get(f"/systems/{system.pk}/").content.decode()
    section = re.search(r'<section id="monitoring".*?</section>', html, re.S).group(0)
    assert re.search(r'<svg[^>]*aria-label="Drift over time', section)
    assert re.search(r'<svg[^>]*aria-label="Estimated \(CBPE', section)
    assert "1 drift report," in section
    assert isolation_cases.CAUSE in section
    assert "Retraining triggers waiting for an answer" in section
    assert "No retraining trigger waits" not in section
    assert "<form" not in section  # an auditor, and monitoring is answered by the API


def test_a_system_without_monitoring_says_so(org, make_person, client_as):
    batch = _batch(org)
    system = batch.deployment.system
    html = client_as(make_person(org, "auditor")).get(f"/systems/{system.pk}/").content.decode()
    section = re.search(r'<section id="monitoring".*?</section>', html, re.S).group(0)
    assert "No deployment of this system is monitored" in section
    assert "<svg" not in section and "No open alert." in section
