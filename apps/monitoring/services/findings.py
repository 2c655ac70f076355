"""What monitoring finds: drift of a batch or a time window against the reference, a
batch's estimated performance before labels (CBPE) and its realized performance once
labels land. Each finding is a report on the ledger; decay raises an alert."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
from django.db import IntegrityError, transaction

from apps.ledger.digests import json_sha256
from apps.ledger.types import Receipt
from apps.monitoring import events
from apps.monitoring.data import (
    MonitoringInputError,
    batch_scores,
    concat,
    read_table,
    watched,
)
from apps.monitoring.models import Alert, DriftReport, MonitoringPolicy, PerformanceReport
from apps.monitoring.services.alerts import alert_raise, monitoring_actor
from apps.registry.models import PredictionBatch
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import InvalidInput, RuleViolation
from audit_platform.principal import Principal


def policy_of_batch(batch: PredictionBatch) -> MonitoringPolicy | None:
    return (
        MonitoringPolicy.objects.filter(deployment_id=batch.deployment_id)
        .select_related("deployment__system__organization")
        .first()
    )


def _reference_table(policy: MonitoringPolicy) -> pa.Table:
    if policy.reference_dataset_version_id:
        version = policy.reference_dataset_version
        return read_table(version.artifact, what=f"reference dataset version {version.pk}")
    batch = policy.reference_batch
    return read_table(batch.input_artifact, what=f"the input of reference batch {batch.pk}")


def _plain(value: Any) -> Any:
    """numpy figures as JSON numbers (NaN and infinities as None)."""
    if is_dataclass(value):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _drift_of(policy: MonitoringPolicy, current: pa.Table) -> tuple[Any, int]:
    from apps.monitoring.drift import DriftInputError, dataset_drift

    reference = _reference_table(policy)
    names = watched(features=policy.features, reference=reference, current=current)
    try:
        result = dataset_drift(
            reference=reference.select(names),
            current=current.select(names),
            features=names,
            tests=policy.tests or None,
            thresholds=policy.thresholds or None,
            share_threshold=policy.drift_share,
        )
    except DriftInputError as exc:
        raise MonitoringInputError(str(exc)) from None
    return result, reference.num_rows


def _drift_record(
    *,
    policy: MonitoringPolicy,
    key: str,
    batch: PredictionBatch | None,
    window: tuple[datetime, datetime] | None,
    current: pa.Table | None,
    failure: str | None,
) -> DriftReport:
    """Writes the report (completed, or failed with the reason), its entry, and for
    a drifted dataset the alert, in one transaction; a second run of the same window
    finds the first report and writes nothing."""
    result, reference_rows = None, 0
    if failure is None and current is not None:
        try:
            result, reference_rows = _drift_of(policy, current)
        except MonitoringInputError as exc:
            failure = exc.reason
    try:
        with transaction.atomic():
            report = DriftReport.objects.create(
                policy=policy,
                batch=batch,
                window_key=key,
                window_start=window[0] if window else None,
                window_end=window[1] if window else None,
                status=DriftReport.Status.FAILED if failure else DriftReport.Status.COMPLETED,
                failure_reason=failure or "",
                rows=current.num_rows if current is not None else 0,
                reference_rows=reference_rows,
            )
            if failure:
                _drift_failed_entry(policy=policy, report=report, reason=failure)
            else:
                _drift_completed(policy=policy, report=report, result=result)
    except IntegrityError:
        # Another run of this window wrote its report first.
        return DriftReport.objects.get(policy=policy, window_key=key)
    return report


def _drift_failed_entry(*, policy: MonitoringPolicy, report: DriftReport, reason: str) -> None:
    receipt = record_event(
        actor=monitoring_actor(policy),
        event=events.DRIFT_REPORT_FAILED,
        id=report.pk,
        data={
            "parent": record_ref("monitoring_policy", policy),
            "window": report.window_key,
            **(
                {"prediction_batch": record_ref("prediction_batch", report.batch)}
                if report.batch_id
                else {}
            ),
            "reason": reason,
        },
    )
    report.ledger_seq = receipt.seq
    report.save(update_fields=["ledger_seq"])


def _drift_completed(*, policy: MonitoringPolicy, report: DriftReport, result: Any) -> None:
    figures = _plain(result.to_dict()["features"])
    drifted = list(result.drifted_features)
    report.features = figures
    report.dataset_drifted = bool(result.drifted)
    report.drifted_features = result.drifted_count
    report.tested_features = result.tested_count
    report.share = float(result.drift_share)
    report.approximation = result.approximation or ""
    receipt = record_event(
        actor=monitoring_actor(policy),
        event=events.DRIFT_REPORT_COMPLETED,
        id=report.pk,
        data={
            "parent": record_ref("monitoring_policy", policy),
            "window": report.window_key,
            **(
                {"prediction_batch": record_ref("prediction_batch", report.batch)}
                if report.batch_id
                else {}
            ),
            "rows": report.rows,
            "reference_rows": report.reference_rows,
            "dataset_drifted": report.dataset_drifted,
            "drifted_features": drifted,
            "tested_features": report.tested_features,
            "share": report.share,
            "features_sha256": json_sha256(figures),
            **({"approximation": report.approximation} if report.approximation else {}),
        },
    )
    report.ledger_seq = receipt.seq
    report.save()
    if report.dataset_drifted:
        alert_raise(
            policy=policy,
            kind=Alert.Kind.DRIFT,
            severity=Alert.Severity.WARNING,
            cause=(
                f"Data drift on {policy.deployment}: {len(drifted)} of {report.tested_features} "
                f"watched features drifted ({', '.join(drifted)}), at or above the policy's "
                f"share {policy.drift_share:g}."
            ),
            figures={
                "share": report.share,
                "drifted_features": drifted,
                "statistics": {
                    f["feature"]: f.get("statistic") for f in figures if f.get("drifted")
                },
            },
            links={"drift_report": f"/api/v1/monitoring/drift-reports/{report.pk}"},
        )


def drift_report_for_batch(*, batch_id: int) -> DriftReport | None:
    """Drift of a completed batch against its deployment's policy (None: no policy,
    or the batch is the reference itself); once per batch."""
    batch = PredictionBatch.objects.select_related("input_artifact").get(pk=batch_id)
    policy = policy_of_batch(batch)
    if policy is None or policy.reference_batch_id == batch.pk:
        return None
    key = f"batch:{batch.pk}"
    existing = DriftReport.objects.filter(policy=policy, window_key=key).first()
    if existing is not None:
        return existing
    current, failure = None, None
    try:
        current = read_table(batch.input_artifact, what=f"the input of batch {batch.pk}")
    except MonitoringInputError as exc:
        failure = exc.reason
    return _drift_record(
        policy=policy, key=key, batch=batch, window=None, current=current, failure=failure
    )


def window_batches(*, policy: MonitoringPolicy, start: datetime, end: datetime) -> list[Any]:
    return list(
        PredictionBatch.objects.filter(
            deployment_id=policy.deployment_id,
            created_at__gte=start,
            created_at__lt=end,
            input_artifact__isnull=False,
            status__in=[PredictionBatch.Status.COMPLETED, PredictionBatch.Status.RECORDED],
        )
        .exclude(pk=policy.reference_batch_id or 0)
        .select_related("input_artifact")
        .order_by("created_at")
    )


def drift_report_for_window(*, policy_id: int, start: datetime, end: datetime) -> DriftReport:
    """Drift of every batch of a time window, taken together; once per window (an
    empty window gets a failed report saying so)."""
    policy = MonitoringPolicy.objects.select_related("deployment__system__organization").get(
        pk=policy_id
    )
    key = f"{start.isoformat()}/{end.isoformat()}"
    existing = DriftReport.objects.filter(policy=policy, window_key=key).first()
    if existing is not None:
        return existing
    batches = window_batches(policy=policy, start=start, end=end)
    current, failure = None, None
    if not batches:
        failure = f"the window {key} holds no prediction batch with an input file"
    else:
        try:
            current = concat(
                [read_table(b.input_artifact, what=f"the input of batch {b.pk}") for b in batches]
            )
        except MonitoringInputError as exc:
            failure = exc.reason
    return _drift_record(
        policy=policy, key=key, batch=None, window=(start, end), current=current, failure=failure
    )


# --- Performance ----------------------------------------------------------------------------


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def _declared(policy: MonitoringPolicy, batch: PredictionBatch) -> float | None:
    value = (batch.model_version.metrics or {}).get(policy.performance_metric)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def performance_estimate_for_batch(*, batch_id: int) -> PerformanceReport | None:
    """CBPE for a binary classifier's batch before its labels: the expected metric
    from its calibrated scores, with its interval. None when the policy is not for a
    binary classifier, or the batch has an estimate or realized figures already."""
    from apps.monitoring.estimation import estimate_binary_performance

    batch = PredictionBatch.objects.select_related("output_artifact", "model_version").get(
        pk=batch_id
    )
    policy = policy_of_batch(batch)
    if policy is None or policy.task != MonitoringPolicy.Task.BINARY:
        return None
    if PerformanceReport.objects.filter(batch=batch).exists():
        return None
    try:
        scores = batch_scores(batch, score_column=policy.score_column)
    except MonitoringInputError:
        return None  # the drift report says what is wrong with the batch's files
    estimate = estimate_binary_performance(
        scores=scores, threshold=policy.decision_threshold, metric=policy.performance_metric
    )
    if not all(np.isfinite([estimate.value, estimate.lower, estimate.upper])):
        return None  # e.g. precision with no positive prediction: nothing to estimate
    declared = _declared(policy, batch)
    with transaction.atomic():
        report = PerformanceReport.objects.create(
            policy=policy,
            batch=batch,
            kind=PerformanceReport.Kind.ESTIMATED,
            metric=policy.performance_metric,
            value=float(estimate.value),
            lower=float(estimate.lower),
            upper=float(estimate.upper),
            rows=int(estimate.rows),
            declared=declared,
        )
        receipt = record_event(
            actor=monitoring_actor(policy),
            event=events.PERFORMANCE_ESTIMATED,
            id=report.pk,
            data={
                "parent": record_ref("monitoring_policy", policy),
                "prediction_batch": record_ref("prediction_batch", batch),
                "metric": report.metric,
                "value": report.value,
                "interval": [report.lower, report.upper],
                "rows": report.rows,
                "declared": declared,
                "method": "CBPE",
            },
        )
        report.ledger_seq = receipt.seq
        report.save(update_fields=["ledger_seq"])
        if declared is not None and report.upper < declared - policy.performance_drop:
            _performance_alert(policy=policy, report=report, estimated=True)
    return report


def _performance_alert(
    *, policy: MonitoringPolicy, report: PerformanceReport, estimated: bool
) -> None:
    figure = (
        f"estimated at {report.value:.4f} (interval {report.lower:.4f} to {report.upper:.4f})"
        if estimated
        else f"realized {report.value:.4f} on {report.rows} labelled rows"
    )
    alert_raise(
        policy=policy,
        kind=Alert.Kind.PERFORMANCE,
        severity=Alert.Severity.WARNING if estimated else Alert.Severity.CRITICAL,
        cause=(
            f"Performance decay on {policy.deployment}: {report.metric} {figure}, against "
            f"{report.declared:.4f} declared for the model version; the policy allows a drop "
            f"of {policy.performance_drop:g}."
        ),
        figures={
            "metric": report.metric,
            "value": report.value,
            "interval": [report.lower, report.upper] if estimated else None,
            "declared": report.declared,
            "drop": round(float(report.declared or 0) - report.value, 6),
            "kind": report.kind,
        },
        links={
            "prediction_batch": f"/api/v1/prediction-batches/{report.batch_id}",
            "performance": f"/api/v1/monitoring/performance/{report.pk}",
        },
    )


def _labels_checked(
    *, batch: PredictionBatch, rows: list[Any], labels: list[Any]
) -> tuple[np.ndarray, np.ndarray]:
    problems: dict[str, list[str]] = {}
    if len(rows) != len(labels) or not rows:
        problems["labels"] = [f"Give one label per row: {len(rows)} rows, {len(labels)} labels."]
    bad_rows = [r for r in rows if not isinstance(r, int) or isinstance(r, bool)]
    unknown = [r for r in rows if r not in bad_rows and not 0 <= r < (batch.row_count or 0)]
    if bad_rows:
        problems["rows"] = [f"Row numbers are integers; got {bad_rows[:5]!r}."]
    elif unknown:
        problems["rows"] = [
            f"Batch {batch.pk} has rows 0 to {(batch.row_count or 0) - 1}; unknown row "
            f"number(s) {unknown[:5]}."
        ]
    elif len(set(rows)) != len(rows):
        problems["rows"] = ["A row number is given twice."]
    bad_labels = [v for v in labels if not (isinstance(v, int) and v in (0, 1))]
    if bad_labels:
        problems["labels"] = [
            f"Labels of a binary classifier are 0 or 1 (or true/false); got {bad_labels[:5]!r}."
        ]
    if problems:
        raise InvalidInput("The labels are refused.", fields=problems)
    return np.asarray(rows, dtype=np.int64), np.asarray(labels, dtype=np.int64)


def labels_upload(
    *, actor: Principal, batch: PredictionBatch, rows: list[Any], labels: list[Any]
) -> tuple[PerformanceReport, Receipt]:
    """Ground truth for rows of a batch (by row number): the realized metric, compared
    with the model version's declared one; a drop beyond the policy raises an alert.
    It replaces the batch's estimate."""
    from apps.monitoring.estimation import PerformanceInputError, realized_binary_performance

    policy = policy_of_batch(batch)
    if policy is None:
        raise RuleViolation(f"Deployment {batch.deployment_id} has no monitoring policy.")
    if policy.task != MonitoringPolicy.Task.BINARY:
        raise RuleViolation("Labels are taken for binary classifiers only.")
    if batch.output_artifact_id is None:
        raise RuleViolation(f"Batch {batch.pk} has no output file on the record to compare with.")
    index, truth = _labels_checked(batch=batch, rows=rows, labels=labels)
    try:
        scores = batch_scores(batch, score_column=policy.score_column)
    except MonitoringInputError as exc:
        raise RuleViolation(exc.reason) from None
    try:
        realized = realized_binary_performance(
            scores_or_predictions=scores[index],
            labels=truth,
            threshold=policy.decision_threshold,
            metric=policy.performance_metric,
        )
    except PerformanceInputError as exc:
        raise InvalidInput(
            f"The labels are refused: {exc}", fields={"labels": [str(exc)]}
        ) from None
    if not np.isfinite(realized.value):
        raise InvalidInput(
            f"{policy.performance_metric} is undefined on these rows (no case in its "
            "denominator); upload labels for more rows.",
            fields={"labels": ["The metric is undefined on these rows."]},
        )
    return _realized_record(
        policy=policy,
        batch=batch,
        realized=realized,
        actor=actor,
        labels_digest=json_sha256({"rows": rows, "labels": labels}),
    )


def _realized_record(
    *,
    policy: MonitoringPolicy,
    batch: PredictionBatch,
    realized: Any,
    actor: Principal,
    labels_digest: str,
) -> tuple[PerformanceReport, Receipt]:
    declared = _declared(policy, batch)
    estimate = PerformanceReport.objects.filter(
        batch=batch, kind=PerformanceReport.Kind.ESTIMATED
    ).first()
    with transaction.atomic():
        if PerformanceReport.objects.filter(
            batch=batch, kind=PerformanceReport.Kind.REALIZED
        ).exists():
            raise RuleViolation(f"Labels for batch {batch.pk} were uploaded already.")
        report = PerformanceReport.objects.create(
            policy=policy,
            batch=batch,
            kind=PerformanceReport.Kind.REALIZED,
            metric=policy.performance_metric,
            value=float(realized.value),
            lower=_finite(realized.lower),
            upper=_finite(realized.upper),
            rows=int(realized.rows),
            declared=declared,
            labels_sha256=labels_digest,
        )
        receipt = record_event(
            actor=actor,
            event=events.PERFORMANCE_REALIZED,
            id=report.pk,
            data={
                "parent": record_ref("monitoring_policy", policy),
                "prediction_batch": record_ref("prediction_batch", batch),
                "metric": report.metric,
                "value": report.value,
                "rows": report.rows,
                "declared": declared,
                "labels_sha256": labels_digest,
                **({"replaces": record_ref("performance_report", estimate)} if estimate else {}),
            },
        )
        report.ledger_seq = receipt.seq
        report.save(update_fields=["ledger_seq"])
        if declared is not None and declared - report.value > policy.performance_drop:
            _performance_alert(policy=policy, report=report, estimated=False)
    return report, receipt
