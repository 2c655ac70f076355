"""Resource profiles from completed jobs, and energy with its cost per system."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.registry.models import PredictionBatch
from tests.support import make_frame, parquet_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def version_with_jobs(served, run_batch):
    ids = served()

    def run(*sizes):
        for seed, rows in enumerate(sizes):
            run_batch(ids["deployment"]["id"], parquet_bytes(make_frame(rows, seed=seed)))
        return ids

    return run


def profile_url(ids, **query):
    url = reverse(
        "resource-profile", kwargs={"model_pk": ids["model"]["id"], "pk": ids["version"]["id"]}
    )
    return url, query


def test_a_profile_appears_after_three_completed_jobs_and_predicts_a_batch(
    version_with_jobs, pipeline
):
    ids = version_with_jobs(500, 2_000)
    url, _ = profile_url(ids)
    cpu = pipeline.get(url).json()["devices"]["cpu"]
    assert cpu["profile"] is None and "needs 3 completed jobs; 2 so far" in cpu["reason"]
    version_with_jobs(4_000)
    body = pipeline.get(url, {"rows": 3_000}).json()
    cpu = body["devices"]["cpu"]
    assert cpu["profile"] == "measured" and cpu["jobs"] == 3
    assert cpu["rows_per_second"]["min"] <= cpu["rows_per_second"]["median"]
    assert cpu["host_peak_memory_bytes"]["max"] > 0
    assert cpu["gpu_peak_memory_bytes"] is None  # the CPU has none
    assert len(cpu["duration"]["leave_one_out_relative_error"]) == 3
    prediction = body["prediction"]
    assert prediction["device"] == "cpu" and prediction["rows"] == 3_000
    assert prediction["seconds"] > 0


def test_the_duration_model_fits_fixed_and_per_row_time(version_with_jobs, pipeline):
    ids = version_with_jobs(100, 200, 300)
    # Measured figures replaced by exact ones: 0.5 s to start, 1 ms a row.
    for batch in PredictionBatch.objects.filter(model_version_id=ids["version"]["id"]):
        telemetry = {**batch.telemetry, "wall_seconds": 0.5 + batch.row_count / 1000}
        PredictionBatch.objects.filter(pk=batch.pk).update(
            telemetry=telemetry, energy_joules=batch.row_count * 0.2
        )
    url, _ = profile_url(ids)
    body = pipeline.get(url, {"rows": 10_000}).json()
    duration = body["devices"]["cpu"]["duration"]
    assert duration["fixed_seconds"] == pytest.approx(0.5)
    assert duration["seconds_per_row"] == pytest.approx(0.001)
    assert duration["leave_one_out_relative_error"]["max"] == pytest.approx(0, abs=1e-9)
    assert body["prediction"]["seconds"] == pytest.approx(10.5)
    assert body["prediction"]["energy_joules"] == pytest.approx(2_000)


def test_bad_profile_queries_are_refused(version_with_jobs, pipeline):
    ids = version_with_jobs()
    url, _ = profile_url(ids)
    response = pipeline.get(url, {"rows": "many"})
    assert response.status_code == 400 and "rows" in response.json()["error"]["fields"]
    other = reverse(
        "resource-profile",
        kwargs={"model_pk": "019ad3c2-0000-7000-8000-000000000000", "pk": ids["version"]["id"]},
    )
    assert pipeline.get(other).status_code == 404


def test_energy_and_cost_per_system_and_as_a_chart(version_with_jobs, pipeline, settings):
    settings.FLEET_ENERGY_PRICE_PER_KWH = "0.30"
    ids = version_with_jobs(100, 100)
    PredictionBatch.objects.filter(model_version_id=ids["version"]["id"]).update(
        energy_joules=1_800_000.0  # 0.5 kWh each
    )
    body = pipeline.get(reverse("energy"), {"group_by": "system"}).json()
    assert body["groups"] == [
        {
            "system": str(ids["system"]["id"]),
            "batches": 2,
            "rows": 200,
            "kwh": "1.000000",
            "cost": "0.30",
        }
    ]
    assert body["currency"] == "EUR" and body["price_per_kwh"] == "0.30"
    by_version = pipeline.get(reverse("energy"), {"group_by": "model_version"}).json()
    assert by_version["groups"][0]["model_version"] == str(ids["version"]["id"])
    chart = pipeline.get(reverse("energy-chart"))
    assert chart["Content-Type"] == "image/svg+xml"
    assert b"<svg" in chart.content and b"1.000000 kWh" in chart.content
    refused = pipeline.get(reverse("energy"), {"group_by": "planet"})
    assert refused.status_code == 400
    assert pipeline.get(reverse("energy"), {"from": "yesterday"}).status_code == 400
