"""Model card of one model version: details, intended use, data, metrics with
intervals, fairness by group (compliance app) and SHAP global importance
(explainability app), and the limitations on the record."""

from __future__ import annotations

from typing import Any

from apps.compliance import selectors as compliance
from apps.explainability import selectors as explainability
from apps.registry.models import DatasetVersion, ModelVersion
from apps.reports import charts
from apps.reports.kinds.common import (
    SHAP_METHODS,
    Citations,
    Gathered,
    ReportKind,
    metric_interval,
    metric_value,
    numeric_metrics,
    pairs,
    readable,
    reading,
    system_facts,
    when,
    words,
)
from apps.reports.kinds.compliance_record import assessment_metrics, interval
from apps.reports.models import Report


def _shap_importance(version: ModelVersion, cite: Citations) -> dict[str, Any] | None:
    """The latest completed SHAP explanation of the version; None when there is none
    or it computed no global importance."""
    explanation = explainability.explanation_latest_completed(model_version=version)
    if explanation is None or not explanation.global_importance:
        return None
    with reading(f"the global importance of explanation {explanation.pk}"):
        top = sorted(
            ((str(k), float(v)) for k, v in explanation.global_importance.items()),
            key=lambda item: -item[1],
        )[:15]
    return {
        "id": str(explanation.pk),
        "method": SHAP_METHODS.get(explanation.method, words(explanation.method)),
        "rows": explanation.rows,
        "seq": cite.add(explanation.ledger_seq),
        "chart": charts.bar_chart(top, title="Global importance: mean |SHAP value| per feature"),
    }


def _fairness_attribute(attribute: str, result: dict[str, Any], verdicts: dict) -> dict[str, Any]:
    """One protected attribute's groups and metrics, each metric with its verdict."""
    groups = result.get("groups") or {}
    rates = [
        (str(level), float(row["selection_rate"]))
        for level, row in sorted(groups.items())
        if isinstance(row.get("selection_rate"), int | float)
    ]
    metrics = []
    for name, value in sorted((result.get("metrics") or {}).items()):
        verdict = verdicts.get(f"{attribute}.{name}", {})
        metrics.append(
            {
                "name": words(name),
                "value": value.get("value"),
                "interval": interval(value.get("ci")),
                "threshold": verdict.get("threshold", "none fixed"),
                "result": verdict.get("result", "—"),
            }
        )
    return {
        "attribute": words(attribute),
        "groups": [
            {"level": level, **{k: v for k, v in row.items() if k != "ci"}}
            for level, row in sorted(groups.items())
        ],
        "metrics": metrics,
        "chart": charts.bar_chart(
            rates,
            title=f"Selection rate by {words(attribute)}",
            intervals=[_group_interval(groups[level]) for level, _ in rates],
        ),
    }


def _fairness(version: ModelVersion, cite: Citations) -> list[dict[str, Any]] | None:
    """Per-group results of the latest fairness assessment of the version that ran
    (passed or failed); None when there is none. Results the report cannot read fail
    the report."""
    assessment = compliance.assessments_completed(model_version=version, kind="fairness").first()
    if assessment is None:
        return None
    verdicts = {row["metric"]: row for row in assessment_metrics(assessment)}
    cite.load({"assessment": [assessment.pk]})
    seq = cite.seq("assessment", assessment.pk, "assessment.completed")
    with reading(f"the results of fairness assessment {assessment.pk}"):
        out = [
            {
                **_fairness_attribute(attribute, result, verdicts),
                "assessment": str(assessment.pk),
                "status": assessment.status,
                "seq": seq,
            }
            for attribute, result in sorted(assessment.results["attributes"].items())
        ]
    return out or None


def _group_interval(row: dict[str, Any]) -> tuple[float, float] | None:
    """The selection rate's interval where the assessment recorded one per group."""
    ci = row.get("ci")
    if isinstance(ci, dict):
        ci = ci.get("selection_rate")
    return metric_interval({"ci": ci}) if isinstance(ci, list | tuple) else None


def _metric_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for k, v in sorted(metrics.items()):
        number, bounds = metric_value(v), metric_interval(v)
        rows.append(
            {
                "name": words(k),
                "value": readable(v) if number is None else f"{number:g}",
                "interval": f"[{bounds[0]:g}, {bounds[1]:g}]" if bounds else "not recorded",
            }
        )
    return rows


def _metrics_chart(metrics: dict[str, Any]) -> str:
    """Every numeric metric, from zero, with its interval drawn where recorded."""
    numeric = sorted(numeric_metrics(metrics).items())
    return charts.bar_chart(
        [(words(name), value) for name, value in numeric],
        title="Recorded metrics (bars from zero; whiskers: interval where recorded)",
        intervals=[metric_interval(metrics[name]) for name, _ in numeric],
    )


def _dataset_rows(datasets: list[DatasetVersion], cite: Citations) -> list[dict[str, Any]]:
    return [
        {
            "label": str(d),
            "split": d.split,
            "rows": d.row_count,
            "personal": d.contains_personal_data,
            "gaps": (d.datasheet or {}).get("data_gaps", "—"),
            "bias": (d.datasheet or {}).get("bias_examination", "—"),
            "seq": cite.seq("dataset_version", d.pk, "dataset_version.registered"),
        }
        for d in datasets
    ]


def _limitations(
    metrics: dict[str, Any], datasets: list[DatasetVersion], fairness: Any, shap: Any
) -> list[str]:
    """Limitations the data's own datasheets declare come first, then what is missing."""
    missing = []
    for d in datasets:
        sheet = d.datasheet or {}
        for key, label in (("data_gaps", "Known data gaps"), ("assumptions", "Assumptions")):
            if sheet.get(key):
                missing.append(f"{label} ({d}): {sheet[key]}")
    missing.reverse()  # the last dataset's first, as the cards have always listed them
    if not numeric_metrics(metrics):
        missing.append("No metrics are recorded for this model version.")
    if not any(metric_interval(v) for v in metrics.values()):
        missing.append("No confidence intervals are recorded for the metrics.")
    if fairness is None:
        missing.append("No fairness assessment by group is on the record yet.")
    if shap is None:
        missing.append("No SHAP global feature importance is on the record yet.")
    return missing


def gather(report: Report, cite: Citations) -> Gathered:
    version = (
        ModelVersion.objects.select_related("model__system", "training_run")
        .prefetch_related("dataset_versions__dataset")
        .get(pk=report.model_version_id)
    )
    system = version.model.system
    datasets = list(version.dataset_versions.all())
    cite.load(
        {
            "model_version": [version.pk],
            "dataset_version": [d.pk for d in datasets],
            "training_run": [version.training_run_id] if version.training_run_id else [],
        }
    )
    metrics = version.metrics or {}
    shap = _shap_importance(version, cite)
    fairness = _fairness(version, cite)
    run = version.training_run
    missing = _limitations(metrics, datasets, fairness, shap)
    context = {
        "system": system_facts(system, cite),
        "version": {
            "label": str(version),
            "format": version.artifact_format,
            "framework": f"{version.framework} {version.framework_version}",
            "sha256": version.artifact_sha256,
            "created_at": when(version.created_at),
            "seq": cite.seq("model_version", version.pk, "model_version.registered"),
        },
        "metrics": _metric_rows(metrics),
        "metrics_chart": _metrics_chart(metrics),
        "shap": shap,
        "fairness": fairness,
        "datasets": _dataset_rows(datasets, cite),
        "run": (
            {
                "id": str(run.pk),
                "params": pairs(run.params),
                "seq": cite.seq("training_run", run.pk, "training_run.started"),
            }
            if run
            else None
        ),
        "missing": missing,
    }
    records = {
        "model_version": context["version"],
        "metrics": metrics,
        "datasets": context["datasets"],
        "training_run": context["run"],
        "shap": {k: v for k, v in shap.items() if k != "chart"} if shap else None,
        "fairness": [{k: v for k, v in f.items() if k != "chart"} for f in fairness or []],
    }
    return Gathered(
        context=context, records=records, about={"version": str(version)}, missing=missing
    )


MODEL_CARD = ReportKind(
    key=Report.Kind.MODEL_CARD,
    title="Model card: {version}",
    template="reports/model_card.html",
    sections=(
        "Model details",
        "Intended use",
        "Data",
        "Metrics with intervals",
        "Fairness",
        "Explanations: SHAP global importance",
    ),
    gather=gather,
    cites=frozenset(
        {
            "ai_system",
            "model_version",
            "dataset_version",
            "training_run",
            "explanation",
            "assessment",
        }
    ),
)
