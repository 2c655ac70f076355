"""In a real browser: the fleet page (workers and their GPUs, the energy chart) and
the system page's monitoring charts pass axe, break no Content-Security-Policy rule,
and are kept as screenshots for reviewers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.registry.models import PredictionBatch
from tests.monitoring import isolation_cases
from tests.web.conftest import axe_violations, screenshot, sign_in
from tests.web.test_fleet_and_monitoring_pages import H100, _batch, _worker


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_fleet_page_reads_well_and_passes_axe(browser_page, org, make_person):
    _worker("gpu-worker@node-1", seen_ago=timedelta(seconds=5), gpus=[H100, H100])
    _worker("reports@node-2", seen_ago=timedelta(days=2), gpus=[], no_gpu_reason="CPU only")
    for hours in (30, 6):
        batch = _batch(org)
        PredictionBatch.objects.filter(pk=batch.pk).update(
            status=PredictionBatch.Status.COMPLETED,
            energy_joules=900_000.0 * hours / 6,
            finished_at=timezone.now() - timedelta(hours=hours),
        )
    page = browser_page
    sign_in(page, make_person(org, "auditor"))
    page.get_by_role("link", name="Fleet").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Fleet"
    assert page.get_by_role("img", name="Energy per day (kWh), 2 days").is_visible()
    assert "1 of 2 workers online" in page.content()
    assert axe_violations(page) == []
    screenshot(page, "fleet")


@pytest.mark.django_db(transaction=True)
def test_the_system_pages_monitoring_charts_pass_axe(browser_page, org, make_person):
    monitored = isolation_cases.victim(org)
    system = monitored["monitoring_policy"].deployment.system
    page = browser_page
    sign_in(page, make_person(org, "auditor"))
    page.goto(f"/systems/{system.pk}/")
    monitoring = page.locator("#monitoring")
    assert monitoring.get_by_role("img", name="Drift over time", exact=False).is_visible()
    assert axe_violations(page) == []
