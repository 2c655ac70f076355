"""The documents of a general-purpose AI model's provider: the technical documentation
(Art. 53(1)(a), Annex XI), the information for downstream providers (Art. 53(1)(b),
Annex XII), and the public summary of training content (Art. 53(1)(d)) in the structure
of the Commission's template (sections 1.1-3.3).

Each row is either a fact the provider stated (``GpaiDocumentation``, field by field,
with its legal source) or a figure computed from the record: training compute, time and
energy as the training pipeline reported it with each run, the energy our workers
measured with NVML while they ran the model's jobs (prediction batches, SHAP
explanations), each figure naming its source, evaluations, serious incidents. What
neither backs is listed as missing.
"""

from __future__ import annotations

import math
from typing import Any

from apps.compliance import rules
from apps.compliance import selectors as compliance
from apps.registry.models import AISystem, ModelVersion, PredictionBatch, TrainingRun
from apps.reports.kinds.common import (
    Citations,
    Gathered,
    RecordDoesNotSupport,
    ReportKind,
    system_facts,
    when,
)
from apps.reports.models import Report

# The rows of each document's sections, in order: a stated field's key, or "=" and
# the key of a figure computed from the record (rules.GPAI_COMPUTED).
XI_LAYOUT = (
    (
        "tasks_and_integration",
        "acceptable_use_policies",
        "release_and_distribution",
        "architecture_and_parameters",
        "modalities_and_formats",
        "licence",
    ),
    (
        "integration_means",
        "design_and_training_process",
        "training_data",
        "=training_compute",
        "=training_time",
        "=energy",
    ),
    (
        "evaluation_strategies",
        "=evaluation_results",
        "adversarial_testing",
        "system_architecture",
        "systemic_risk_mitigation",
        "=serious_incidents",
        "cybersecurity_protection",
    ),
    ("copyright_policy",),
)
XII_LAYOUT = (
    (
        "tasks_and_integration",
        "acceptable_use_policies",
        "release_and_distribution",
        "hardware_software_interaction",
        "software_versions",
        "architecture_and_parameters",
        "modalities_and_formats",
        "licence",
    ),
    ("integration_means", "input_output_maximum_size", "training_data"),
)
SUMMARY_LAYOUT = (
    (
        "provider_contact",
        "authorised_representative",
        "=versioned_names",
        "model_dependencies",
        "=placed_on_market",
        "modalities_and_size",
        "latest_data_collection",
        "linguistic_characteristics",
    ),
    (
        "public_datasets",
        "licensed_datasets",
        "other_private_datasets",
        "crawled_data",
        "user_data",
        "synthetic_data",
        "other_data_sources",
    ),
    ("tdm_reservations", "illegal_content_removal", "other_processing_information"),
)
POST = "POST /api/v1/gpai-documentation/"


def _number(value: Any) -> float | None:
    """A FLOP count as a run states it: a number, or a decimal string ("4.1e24"), since
    the ledger's JSON holds integers only up to 2**53 and counts reach 10**25."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _training(system: AISystem, cite: Citations) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Training compute, time and energy summed over the system's training runs, each
    with the runs that lack it (Annex XI, Section 1, point 2(d), (e))."""
    runs = list(TrainingRun.objects.filter(system=system).order_by("started_at", "pk"))
    cite.load({"training_run": [r.pk for r in runs]})
    seqs = [cite.seq("training_run", r.pk, "training_run.completed") for r in runs]
    flops = {r.pk: _number((r.metrics or {}).get(rules.TRAINING_COMPUTE_METRIC)) for r in runs}
    done = [r for r in runs if r.status == TrainingRun.Status.COMPLETED]
    missing: list[str] = []
    if not runs:
        missing.append(
            "Annex XI, Section 1, point 2(d), (e): no training run of the model is on the "
            "record, so its training compute, time and energy are unknown."
        )
    lacking = [str(pk) for pk, v in flops.items() if v is None]
    if runs and lacking:
        missing.append(
            f"Annex XI, Section 1, point 2(d): training run(s) {', '.join(lacking)} state no "
            f"compute (metrics.{rules.TRAINING_COMPUTE_METRIC}, in FLOPs)."
        )
    no_energy = [str(r.pk) for r in runs if r.energy_joules is None]
    if runs and no_energy:
        missing.append(
            f"Annex XI, Section 1, point 2(e): training run(s) {', '.join(no_energy)} have no "
            "energy measurement."
        )
    total = sum(v for v in flops.values() if v is not None) if len(lacking) < len(runs) else None
    hours = sum(r.duration_seconds or 0 for r in done) / 3600
    energy = [r.energy_joules for r in runs if r.energy_joules is not None]
    cited = [s for s in seqs if s is not None]
    figures = {
        "training_compute": {
            "value": (
                f"{total:.3e} FLOPs over {len(runs) - len(lacking)} of {len(runs)} training "
                "run(s)" + (" (a lower bound: some runs state none)" if lacking else "")
                if total is not None
                else None
            ),
            "number": total,
            "complete": not lacking and bool(runs),
            "seqs": cited,
        },
        "training_time": {
            "value": f"{hours:.2f} h over {len(done)} completed run(s)" if done else None,
            "seqs": cited,
        },
        "energy_training": {
            "value": (
                f"{_kwh(sum(energy))} in {len(energy)} of {len(runs)} training run(s), as "
                "reported by the training pipeline with each run (not measured by our "
                "workers)"
                if energy
                else None
            ),
            "seqs": cited,
        },
    }
    return figures, missing


# How our workers measured energy (apps/inference/telemetry.py), in words.
ENERGY_METHODS = {
    "nvml_total_energy_counter": "NVML total-energy counter",
    "mean_power_x_time": "NVML mean power x time",
}
ENERGY_SCOPES = {
    "device": "the whole GPU",
    "mig_parent_gpu_shared": "the MIG instance's parent GPU, shared with other work on it",
}


def _kwh(joules: float) -> str:
    return f"{joules / 3.6e6:.3f} kWh ({joules:.0f} J)"


def _measured(jobs: list[tuple[float, dict[str, Any] | None]], what: str) -> str | None:
    """Energy our workers measured with NVML for ``jobs`` (joules, telemetry), with how
    and over what it was measured, or None when none was measured."""
    if not jobs:
        return None
    joules = sum(j for j, _ in jobs)
    methods = sorted(
        {ENERGY_METHODS.get((t or {}).get("energy_method"), "method not stated") for _, t in jobs}
    )
    scopes = sorted(
        {ENERGY_SCOPES.get((t or {}).get("energy_scope"), "scope not stated") for _, t in jobs}
    )
    return (
        f"{_kwh(joules)} in {len(jobs)} {what} run by our workers, measured by them "
        f"({', '.join(methods)}; over {', '.join(scopes)})"
    )


def _worker_energy(system: AISystem) -> dict[str, str | None]:
    """The energy our workers measured with NVML while they ran the model's jobs: its
    prediction batches (the model in use) and the SHAP explanations of its versions."""
    from apps.explainability.models import Explanation

    batches = PredictionBatch.objects.filter(
        deployment__system=system, energy_joules__isnull=False
    ).values_list("energy_joules", "telemetry")
    explanations = Explanation.objects.filter(
        model_version__model__system=system, energy_joules__isnull=False
    ).values_list("energy_joules", "telemetry")
    return {
        "in use": _measured(list(batches), "prediction batch(es)"),
        "explanations": _measured(list(explanations), "SHAP explanation job(s)"),
    }


def _computed(
    system: AISystem, flags: dict[str, Any], cite: Citations
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    figures, missing = _training(system, cite)
    # Each part names its source: what the pipeline reported, what our workers measured.
    parts = {"training": figures.pop("energy_training")["value"], **_worker_energy(system)}
    figures["energy"] = {
        "value": "\n".join(f"{what.capitalize()}: {v}." for what, v in parts.items() if v) or None,
        "seqs": figures["training_time"]["seqs"],
    }
    versions = ModelVersion.objects.filter(model__system=system).select_related("model")
    figures["versioned_names"] = {
        "value": ", ".join(str(v) for v in versions) or None,
        "seqs": [],
    }
    placed = flags["placed_on_market_on"]
    figures["placed_on_market"] = {
        "value": placed,
        "seqs": [cite.add(flags["classification_seq"])],
    }
    evaluations = list(compliance.assessments_completed(system=system))
    figures["evaluation_results"] = {
        "value": "; ".join(f"#{a.pk} {a.kind}: {a.status}" for a in evaluations) or None,
        "seqs": [],
    }
    incidents = list(compliance.incidents_of_system(system=system))
    figures["serious_incidents"] = {
        "value": "; ".join(
            f"#{i.pk} {i.kind}, aware {when(i.became_aware_at)}, {i.status}" for i in incidents
        )
        or "none on the record",
        "seqs": [],
    }
    return figures, missing


def _presumption(figures: dict[str, Any], flags: dict[str, Any]) -> tuple[str, list[str]]:
    """Art. 51(2): systemic risk is presumed above 10^25 FLOPs of training compute; the
    classification's answer is compared with what the record computes."""
    threshold, source = rules.SYSTEMIC_RISK_FLOPS
    total = figures["training_compute"]["number"]
    if total is None:
        return (
            f"Training compute unknown: the {source} presumption (more than {threshold:.0e} "
            "FLOPs) cannot be checked against the record.",
            [],
        )
    if total > threshold and not flags["systemic_risk"]:
        text = (
            f"Conflict: the record's training compute, {total:.3e} FLOPs, exceeds "
            f"{threshold:.0e} FLOPs, so the model is presumed to have high-impact capabilities "
            f"({source}), but the classification answers systemic_risk false. Notify the "
            "Commission (Art. 52(1)) and classify again, or record the Commission's decision "
            "on arguments presented under Art. 52(2)."
        )
        return text, [text]
    verdict = "exceeds" if total > threshold else "does not exceed"
    bound = "" if figures["training_compute"]["complete"] else " (a lower bound)"
    return (
        f"The record's training compute, {total:.3e} FLOPs{bound}, {verdict} "
        f"{threshold:.0e} FLOPs ({source}).",
        [],
    )


def _rows(
    layout: tuple[tuple[str, ...], ...],
    stated: dict[str, str],
    doc_seq: int | None,
    figures: dict[str, dict[str, Any]],
    systemic: bool,
) -> tuple[list[list[dict[str, Any]]], list[str]]:
    sections: list[list[dict[str, Any]]] = []
    missing: list[str] = []
    for keys in layout:
        rows = []
        for key in keys:
            if key.startswith("="):
                source, label = rules.GPAI_COMPUTED[key[1:]]
                figure = figures[key[1:]]
                value, seqs = figure["value"], figure["seqs"]
                how = "computed from the record"
                if value is None:
                    missing.append(f"{source}: {label}: the record does not back it.")
            else:
                spec = rules.GPAI_FIELDS[key]
                if spec.systemic_only and not systemic:
                    continue
                source, label = "; ".join(spec.sources), spec.label
                value = stated.get(key)
                seqs = [doc_seq] if value and doc_seq else []
                how = "stated by the provider"
                if value is None and not spec.optional:
                    missing.append(f"{source}: {label}: not stated ({POST}, field '{key}').")
            rows.append(
                {"label": label, "source": source, "value": value, "how": how, "seqs": seqs}
            )
        sections.append(rows)
    return sections, missing


def _gather(layout: tuple[tuple[str, ...], ...], what: str):
    def gather(report: Report, cite: Citations) -> Gathered:
        system = report.system
        assert system is not None
        facts = system_facts(system, cite)
        flags = compliance.gpai_flags(system=system)
        if flags is None:
            raise RecordDoesNotSupport(
                f"The {what} is for a general-purpose AI model the organization provides "
                f"(Art. 53); system {system.pk} is not classified as one."
            )
        doc = compliance.gpai_documentation_current(system=system)
        doc_seq = cite.add(doc.ledger_seq) if doc else None
        figures, missing = _computed(system, flags, cite)
        sections, missing_rows = _rows(
            layout, doc.data if doc else {}, doc_seq, figures, flags["systemic_risk"]
        )
        presumption, conflicts = _presumption(figures, flags)
        missing = conflicts + missing_rows + missing
        context = {
            "system": facts,
            "sections": sections,
            "systemic": flags["systemic_risk"],
            "presumption": presumption,
            "documentation": (
                {"version": doc.version, "at": when(doc.created_at), "seq": doc_seq}
                if doc
                else None
            ),
            "missing": missing,
        }
        records = {
            "system": facts,
            "sections": sections,
            "systemic_risk": flags["systemic_risk"],
            "art_51_2": presumption,
            "missing": missing,
        }
        return Gathered(
            context=context, records=records, about={"system": system.name}, missing=missing
        )

    return gather


_CITES = frozenset({"ai_system", "training_run"})

GPAI_TECHNICAL = ReportKind(
    key=Report.Kind.GPAI_TECHNICAL,
    title="Technical documentation of a general-purpose AI model (Annex XI): {system}",
    template="reports/gpai_technical.html",
    sections=(
        "1. General description of the model (Annex XI, Section 1, point 1)",
        "2. Elements of the model and its development (Annex XI, Section 1, point 2)",
        "3. Systemic risk (Art. 51, Art. 55(1), Annex XI, Section 2)",
        "4. Copyright policy (Art. 53(1)(c))",
    ),
    gather=_gather(XI_LAYOUT, "technical documentation of Annex XI"),
    cites=_CITES,
)
GPAI_DOWNSTREAM = ReportKind(
    key=Report.Kind.GPAI_DOWNSTREAM,
    title="Information for downstream providers (Annex XII): {system}",
    template="reports/gpai_downstream.html",
    sections=(
        "1. General description of the model (Annex XII, point 1)",
        "2. Elements of the model and its development (Annex XII, point 2)",
    ),
    gather=_gather(XII_LAYOUT, "information for downstream providers of Annex XII"),
    cites=_CITES,
)
GPAI_TRAINING_SUMMARY = ReportKind(
    key=Report.Kind.GPAI_TRAINING_SUMMARY,
    title="Public summary of training content (Art. 53(1)(d)): {system}",
    template="reports/gpai_training_summary.html",
    sections=("1. General information", "2. List of data sources", "3. Data processing aspects"),
    gather=_gather(SUMMARY_LAYOUT, "public summary of training content"),
    cites=_CITES,
)
