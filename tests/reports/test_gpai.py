"""General-purpose AI models: the technical documentation (Art. 53(1)(a), Annex XI), the
information for downstream providers (Art. 53(1)(b), Annex XII) and the public summary
of training content (Art. 53(1)(d)) in the Commission template's structure, each a
report kind. Stated facts come from the provider's documentation; training compute,
time and energy are computed from the record; what neither backs is listed missing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.compliance import rules
from apps.compliance import selectors as compliance_selectors
from apps.compliance import services as compliance
from apps.explainability.models import Explanation
from apps.registry import services as registry
from apps.registry.models import PredictionBatch, TrainingRun
from audit_platform.principal import Principal
from tests import factories
from tests.reports.conftest import pdf_text
from tests.support import last_entry


def make_gpai(org, system, systemic: bool = False):
    """Classifies the system again, adding that it is a GPAI model the organization
    provides (its high-risk answers stay, so nothing is lowered)."""
    current = compliance_selectors.classification_current(system=system)
    answers = {**current.answers, "general_purpose_ai_model": True, "systemic_risk": systemic}
    answers.setdefault("placed_on_market_on", "2025-09-01")
    compliance.classification_record(
        actor=Principal.system(organization=org, name="tests"), system=system, answers=answers
    )
    return system


def text_of(request_report, download, kind: str, system) -> str:
    report = request_report({"kind": kind, "system_id": system.pk})
    assert report["status"] == "succeeded", report["failure_reason"]
    return " ".join(pdf_text(download(report)).split())


def run_with(org, system, **metrics_and_energy):
    actor = Principal.system(organization=org, name="tests")
    energy = metrics_and_energy.pop("energy_joules", None)
    run, _ = registry.training_run_start(actor=actor, system=system)
    registry.training_run_complete(
        actor=actor, run=run, metrics=metrics_and_energy, energy_joules=energy
    )
    return run


HEADINGS = {
    "gpai_technical_documentation": [
        "1. General description of the model (Annex XI, Section 1, point 1)",
        "2. Elements of the model and its development (Annex XI, Section 1, point 2)",
        "3. Systemic risk (Art. 51, Art. 55(1), Annex XI, Section 2)",
        "4. Copyright policy (Art. 53(1)(c))",
    ],
    "gpai_downstream_information": [
        "1. General description of the model (Annex XII, point 1)",
        "2. Elements of the model and its development (Annex XII, point 2)",
    ],
    "gpai_training_content_summary": [
        "1. General information",
        "2. List of data sources",
        "3. Data processing aspects",
    ],
}


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("gpai_technical_documentation", id="Art. 53(1)(a) Annex XI"),
        pytest.param("gpai_downstream_information", id="Art. 53(1)(b) Annex XII"),
        pytest.param("gpai_training_content_summary", id="Art. 53(1)(d) template"),
    ],
)
def test_each_gpai_document_lists_what_is_not_stated_as_missing(
    kind, org, demo_system, request_report, download
):
    make_gpai(org, demo_system)
    text = text_of(request_report, download, kind, demo_system)
    for heading in HEADINGS[kind]:
        assert heading in text, heading
    assert "Missing for compliance" in text
    assert "not stated (POST /api/v1/gpai-documentation/" in text


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        pytest.param("acceptable_use_policies", "gpai_technical_documentation", id="Annex XI 1(b)"),
        pytest.param("licence", "gpai_downstream_information", id="Annex XII 1(h)"),
        pytest.param(
            "input_output_maximum_size", "gpai_downstream_information", id="Annex XII 2(b)"
        ),
        pytest.param(
            "tdm_reservations", "gpai_training_content_summary", id="template section 3.1"
        ),
        pytest.param("crawled_data", "gpai_training_content_summary", id="template section 2.3"),
    ],
)
def test_a_stated_fact_appears_with_its_source_and_leaves_the_missing_list(
    key, kind, org, demo_system, officer, request_report, download
):
    make_gpai(org, demo_system)
    value = f"Stated {key} for the test"
    response = officer.post(
        reverse("gpai-documentation-list"),
        {"system_id": demo_system.pk, "data": {key: value}},
        format="json",
    )
    assert response.status_code == 201, response.content
    entry = last_entry(org, "gpai_documentation.recorded")["data"]
    assert entry["changed"] == [key]
    text = text_of(request_report, download, kind, demo_system)
    assert value in text
    spec = rules.GPAI_FIELDS[key]
    assert f"field '{key}'" not in text
    assert " ".join(spec.sources[0].split()) in text


def test_training_compute_time_and_energy_are_computed_from_the_record(
    org, demo_system, request_report, download
):
    """Annex XI, Section 1, point 2(d), (e): summed over the training runs."""
    make_gpai(org, demo_system)
    run_with(org, demo_system, training_compute_flops="4e24", energy_joules=7.2e9)
    run_with(org, demo_system, training_compute_flops="2.0e24", energy_joules=3.6e9)
    text = text_of(request_report, download, "gpai_technical_documentation", demo_system)
    # The demo system's own run states no compute: the sum is a lower bound, and said so.
    runs = TrainingRun.objects.filter(system=demo_system).count()
    assert f"6.000e+24 FLOPs over 2 of {runs} training run(s) (a lower bound" in text
    assert "Training: " in text and " kWh" in text
    assert "does not exceed 1e+25 FLOPs (Art. 51(2))" in text


def test_energy_names_its_source_the_pipeline_or_our_workers_nvml(
    org, demo_system, request_report, download
):
    """Annex XI, Section 1, point 2(e): the known energy consumption, from the training
    runs as their pipeline reported it and from the NVML telemetry our workers recorded
    for the model's jobs (prediction batches, SHAP explanations), each figure with its
    source and how it was measured."""
    make_gpai(org, demo_system)
    run_with(org, demo_system, training_compute_flops="1e20", energy_joules=7.2e9)
    batches = PredictionBatch.objects.filter(deployment__system=demo_system)
    batches.update(energy_joules=None, telemetry={})
    # What a worker on a whole GPU records (apps/inference/telemetry.py).
    batches.filter(pk=batches.first().pk).update(
        energy_joules=3.6e6,
        telemetry={"energy_method": "nvml_total_energy_counter", "energy_scope": "device"},
    )
    explanation = factories.ExplanationFactory(model_version__model__system=demo_system)
    Explanation.objects.filter(pk=explanation.pk).update(
        energy_joules=7.2e6,
        telemetry={"energy_method": "mean_power_x_time", "energy_scope": "mig_parent_gpu_shared"},
    )
    text = text_of(request_report, download, "gpai_technical_documentation", demo_system)
    runs = TrainingRun.objects.filter(system=demo_system).count()
    assert (
        f"Training: 2000.000 kWh (7200000000 J) in 1 of {runs} training run(s), as reported "
        "by the training pipeline with each run (not measured by our workers)." in text
    )
    assert (
        "In use: 1.000 kWh (3600000 J) in 1 prediction batch(es) run by our workers, "
        "measured by them (NVML total-energy counter; over the whole GPU)." in text
    )
    assert (
        "Explanations: 2.000 kWh (7200000 J) in 1 SHAP explanation job(s) run by our "
        "workers, measured by them (NVML mean power x time; over the MIG instance's parent "
        "GPU, shared with other work on it)." in text
    )


def test_runs_without_compute_are_named_missing(org, demo_system, request_report, download):
    make_gpai(org, demo_system)
    run = run_with(org, demo_system, loss=0.1)
    text = text_of(request_report, download, "gpai_technical_documentation", demo_system)
    # A UUID may wrap anywhere in a PDF line: compared without the white space.
    compact = "".join(text.split())
    assert f"{run.pk}statenocompute" in compact
    assert f"{run.pk}havenoenergymeasurement" in compact


def test_compute_above_the_art_51_2_threshold_contradicts_a_no_systemic_risk_answer(
    org, demo_system, request_report, download
):
    make_gpai(org, demo_system, systemic=False)
    run_with(org, demo_system, training_compute_flops="3e25")
    text = text_of(request_report, download, "gpai_technical_documentation", demo_system)
    assert "Conflict: the record's training compute, 3.000e+25 FLOPs, exceeds 1e+25" in text
    assert "Art. 52(1)" in text


def test_a_systemic_risk_model_shows_art_55_items_and_tracked_incidents(
    org, demo_system, request_report, download
):
    make_gpai(org, demo_system, systemic=True)
    factories.IncidentFactory(system=demo_system, description="Jailbreak at scale")
    text = text_of(request_report, download, "gpai_technical_documentation", demo_system)
    for field in ("evaluation_strategies", "adversarial_testing", "cybersecurity_protection"):
        assert rules.GPAI_FIELDS[field].label.split(",")[0] in text, field
    assert "Serious incidents tracked" in text
    assert "Art. 55(1)(c)" in text


def test_a_system_that_is_not_a_gpai_model_gets_no_gpai_document(demo_system, request_report):
    report = request_report({"kind": "gpai_technical_documentation", "system_id": demo_system.pk})
    assert report["status"] == "failed"
    assert "general-purpose AI model" in report["failure_reason"]


@pytest.mark.parametrize(
    ("systemic", "data", "field"),
    [
        pytest.param(
            False,
            {"adversarial_testing": "red team"},
            "data.adversarial_testing",
            id="Annex XI Section 2 only for systemic risk",
        ),
        pytest.param(False, {"colour": "red"}, "data.colour", id="unknown field"),
        pytest.param(False, {"licence": 5}, "data.licence", id="text only"),
    ],
)
def test_bad_documentation_is_refused_and_names_the_field(
    org, demo_system, officer, systemic, data, field
):
    make_gpai(org, demo_system, systemic=systemic)
    response = officer.post(
        reverse("gpai-documentation-list"),
        {"system_id": demo_system.pk, "data": data},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_documentation_of_a_system_that_is_not_a_gpai_model_is_refused(demo_system, officer):
    response = officer.post(
        reverse("gpai-documentation-list"),
        {"system_id": demo_system.pk, "data": {"licence": "MIT"}},
        format="json",
    )
    assert response.status_code == 409, response.content
    assert "Art. 53" in response.json()["error"]["message"]
