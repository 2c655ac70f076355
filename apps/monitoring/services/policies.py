"""Monitoring policies: what is watched on a deployment and what happens on decay.
Setting one validates every figure, writes the policy and its scheduled window job
(a django-celery-beat row an operator sees), and puts it on the ledger."""

from __future__ import annotations

import ipaddress
import json
import secrets
import socket
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from apps.ledger.types import Receipt
from apps.monitoring import events
from apps.monitoring.models import MonitoringPolicy
from apps.registry.models import Deployment
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import InvalidInput
from audit_platform.principal import Principal

# Tests and their threshold ranges (docs/monitoring.md): p-values are in (0, 1); the
# distances are positive, Jensen-Shannon at most 1.
TEST_RANGES: dict[str, tuple[float, float]] = {
    "ks": (0.0, 1.0),
    "chi2": (0.0, 1.0),
    "wasserstein_norm": (0.0, 10.0),
    "jensen_shannon_distance": (0.0, 1.0),
    "psi": (0.0, 10.0),
}
METRICS = ("accuracy", "precision", "recall", "specificity", "f1")
WINDOW_TASK = "apps.monitoring.policy_window_drift"


def webhook_url_problem(url: str) -> str | None:
    """Why ``url`` may not receive webhooks, or None. Only http(s); outside DEBUG, no
    address the host name resolves to may be loopback, link-local, private or
    otherwise internal (MONITORING_WEBHOOK_ALLOW_LOOPBACK lets loopback through, for
    tests and a local receiver)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL with a host."
    if settings.DEBUG:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        return f"the host {parts.hostname!r} does not resolve: {exc}."
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_loopback and settings.MONITORING_WEBHOOK_ALLOW_LOOPBACK:
            continue
        if (
            address.is_loopback
            or address.is_link_local
            or address.is_private
            or address.is_reserved
            or address.is_multicast
            or address.is_unspecified
        ):
            return (
                f"{parts.hostname!r} resolves to {address}, a loopback, link-local or "
                "private address; webhooks go to public addresses in production."
            )
    return None


def _range_problems(data: dict[str, Any]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for name in data.get("tests", {}).values():
        if name not in TEST_RANGES:
            problems.setdefault("tests", []).append(
                f"Unknown test {name!r}; one of {sorted(TEST_RANGES)}."
            )
    for feature, value in data.get("thresholds", {}).items():
        test = data.get("tests", {}).get(feature)
        low, high = TEST_RANGES.get(test, (0.0, 10.0))
        p_value = test in ("ks", "chi2")
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not low < value <= high or (p_value and value >= 1):
            problems.setdefault("thresholds", []).append(
                f"{feature}: {value!r} is out of range; a threshold is a number in ({low}, {high}]."
            )
    for name, low, high in (
        ("drift_share", 0.0, 1.0),
        ("performance_drop", 0.0, 1.0),
        ("decision_threshold", 0.0, 1.0),
    ):
        if name in data and not low < float(data[name]) <= high:
            problems[name] = [f"{data[name]!r} is out of range; a number in ({low}, {high}]."]
    if data.get("performance_metric", "accuracy") not in METRICS:
        problems["performance_metric"] = [f"One of {list(METRICS)}."]
    watched = set(data.get("features") or [])
    for option in ("tests", "thresholds"):
        stray = sorted(set(data.get(option, {})) - watched) if watched else []
        if stray:
            problems.setdefault(option, []).append(f"Given for features not watched: {stray}.")
    for name, bounds in data.get("activation_thresholds", {}).items():
        if not isinstance(bounds, dict) or not set(bounds) <= {"min", "max"} or not bounds:
            problems.setdefault("activation_thresholds", []).append(
                f'{name}: give {{"min": x}} and/or {{"max": y}}.'
            )
    return problems


def _validate(
    *, deployment: Deployment, data: dict[str, Any], reference_set: bool
) -> dict[str, list[str]]:
    problems = _range_problems(data)
    if reference_set:
        refs = [data.get("reference_dataset_version"), data.get("reference_batch")]
        if sum(r is not None for r in refs) != 1:
            problems["reference"] = [
                "Give exactly one of reference_dataset_version_id and reference_batch_id."
            ]
    dataset_version = data.get("reference_dataset_version")
    if dataset_version is not None and dataset_version.dataset.system_id != deployment.system_id:
        problems["reference_dataset_version_id"] = ["Belongs to another AI system."]
    if dataset_version is not None and dataset_version.artifact_id is None:
        problems["reference_dataset_version_id"] = [
            "Registered by URI only; register a version with an uploaded file."
        ]
    batch = data.get("reference_batch")
    if batch is not None and batch.deployment.system_id != deployment.system_id:
        problems["reference_batch_id"] = ["Belongs to another AI system."]
    for url in [
        *data.get("webhook_urls", []),
        *([data["pipeline_url"]] if data.get("pipeline_url") else []),
    ]:
        problem = webhook_url_problem(url)
        if problem:
            key = "pipeline_url" if url == data.get("pipeline_url") else "webhook_urls"
            problems.setdefault(key, []).append(problem)
    if data.get("on_decay") == MonitoringPolicy.OnDecay.RETRAIN and not data.get("pipeline_url"):
        problems.setdefault("pipeline_url", []).append(
            "on_decay=retrain needs the training pipeline's webhook URL."
        )
    return problems


def _policy_data(policy: MonitoringPolicy) -> dict[str, Any]:
    reference = (
        record_ref("dataset_version", policy.reference_dataset_version)
        if policy.reference_dataset_version_id
        else record_ref("prediction_batch", policy.reference_batch)
    )
    return {
        "parent": record_ref("deployment", policy.deployment),
        "revision": policy.revision,
        "reference": reference,
        "features": policy.features,
        "tests": policy.tests,
        "thresholds": policy.thresholds,
        "drift_share": policy.drift_share,
        "task": policy.task,
        "performance_metric": policy.performance_metric,
        "performance_drop": policy.performance_drop,
        "label_delay_hours": policy.label_delay_hours,
        "window_hours": policy.window_hours,
        "email_recipients": len(policy.email_recipients),
        "webhook_urls": policy.webhook_urls,
        "on_decay": policy.on_decay,
        "pipeline_url": policy.pipeline_url,
        "trigger_deadline_hours": policy.trigger_deadline_hours,
        "auto_activate": policy.auto_activate,
        "activation_thresholds": policy.activation_thresholds,
    }


def _schedule(policy: MonitoringPolicy) -> None:
    """The policy's window job as a django-celery-beat row (or none, for 0 hours)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    name = f"monitoring-policy-{policy.pk}-windows"
    if not policy.window_hours:
        PeriodicTask.objects.filter(name=name).delete()
        return
    every, _ = IntervalSchedule.objects.get_or_create(
        every=policy.window_hours, period=IntervalSchedule.HOURS
    )
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "task": WINDOW_TASK,
            "interval": every,
            "args": json.dumps([str(policy.pk)]),
            "enabled": True,
            "description": f"Drift of {policy.deployment} over each {policy.window_hours} h window",
        },
    )


def monitoring_policy_set(
    *, actor: Principal, deployment: Deployment, **fields: Any
) -> tuple[MonitoringPolicy, Receipt, str | None]:
    """Creates the deployment's policy or makes a new revision of it. Returns the
    policy, its receipt, and the webhook signing secret when it was just made (shown
    once). Refuses out-of-range figures and bad webhook URLs before writing."""
    existing = MonitoringPolicy.objects.filter(deployment=deployment).first()
    current = {} if existing is None else _current(existing)
    if {"reference_dataset_version", "reference_batch"} & fields.keys():
        # A new reference replaces the old one, of either kind.
        current.pop("reference_dataset_version", None)
        current.pop("reference_batch", None)
    merged = {**current, **fields}
    problems = _validate(deployment=deployment, data=merged, reference_set=True)
    if problems:
        raise InvalidInput(
            "The monitoring policy is refused: "
            + "; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(problems.items())),
            fields=problems,
        )
    secret = None
    with transaction.atomic():
        if existing is None:
            secret = secrets.token_hex(32)
            policy = MonitoringPolicy(deployment=deployment, webhook_secret=secret, revision=1)
        else:
            policy = MonitoringPolicy.objects.select_for_update().get(pk=existing.pk)
            policy.revision += 1
        for name, value in merged.items():
            setattr(policy, name, value)
        policy.save()
        _schedule(policy)
        receipt = record_event(
            actor=actor, event=events.MONITORING_POLICY_SET, id=policy.pk, data=_policy_data(policy)
        )
        policy.ledger_seq = receipt.seq
        policy.save(update_fields=["ledger_seq"])
    return policy, receipt, secret


POLICY_FIELDS = (
    "reference_dataset_version",
    "reference_batch",
    "features",
    "tests",
    "thresholds",
    "drift_share",
    "task",
    "score_column",
    "decision_threshold",
    "performance_metric",
    "performance_drop",
    "label_delay_hours",
    "window_hours",
    "email_recipients",
    "webhook_urls",
    "on_decay",
    "pipeline_url",
    "dispatch_event_type",
    "trigger_deadline_hours",
    "auto_activate",
    "activation_thresholds",
)


def _current(policy: MonitoringPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}
