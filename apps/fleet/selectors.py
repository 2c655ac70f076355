"""Reads of the serving fleet: online decisions, their exchanges and receipts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone

from apps.fleet import energy
from apps.fleet.models import OnlineDecision, OnlineExchange, ServingPolicy, Worker
from apps.inference.selectors import row_receipt
from apps.registry.models import Deployment
from audit_platform.errors import NotFound, RuleViolation


def serving_policy(*, organization: Any) -> dict[str, Any]:
    policy = ServingPolicy.objects.filter(organization=organization).first()
    return {
        "store_inputs": policy is not None and policy.store_inputs,
        "updated_at": policy.updated_at if policy is not None else None,
    }


def online_summary(*, deployment: Deployment) -> dict[str, Any]:
    decisions = OnlineDecision.objects.filter(deployment=deployment)
    open_count = decisions.filter(batch__isnull=True).count()
    sealed = decisions.filter(batch__isnull=False).aggregate(
        rows=Count("id"), batches=Count("batch", distinct=True)
    )
    states = dict(
        OnlineExchange.objects.filter(deployment=deployment)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    return {
        "open_decisions": open_count,
        "sealed_decisions": sealed["rows"],
        "sealed_batches": sealed["batches"],
        "exchanges": {state: states.get(state, 0) for state in OnlineExchange.State.values},
        "seal_rows": settings.FLEET_SEAL_ROWS,
        "seal_seconds": settings.FLEET_SEAL_SECONDS,
        "store_inputs": serving_policy(organization=deployment.system.organization)["store_inputs"],
    }


def decision_receipt(*, deployment: Deployment, request_id: str, part: int) -> dict[str, Any]:
    """The receipt of one online decision: its row's receipt in the batch it was
    sealed in (its row is its rank by id among the batch's decisions)."""
    decision = OnlineDecision.objects.filter(
        deployment=deployment, request_id=request_id, part=part
    ).first()
    if decision is None:
        raise NotFound(
            f"Deployment {deployment.pk} logged no decision {request_id!r} (part {part})."
        )
    if decision.batch_id is None:
        raise RuleViolation(
            f"Decision {request_id!r} is not sealed yet: it is sealed with "
            f"{settings.FLEET_SEAL_ROWS} decisions or after {settings.FLEET_SEAL_SECONDS} s."
        )
    row = OnlineDecision.objects.filter(batch_id=decision.batch_id, id__lt=decision.pk).count()
    return {
        "request_id": request_id,
        "part": part,
        **row_receipt(batch=decision.batch, row=row),
    }


def worker_state(*, worker: Worker, now: datetime | None = None) -> str:
    """online, offline (no heartbeat for FLEET_OFFLINE_SECONDS) or stopped (said so)."""
    if worker.stopped_at is not None:
        return "stopped"
    now = now or timezone.now()
    if worker.last_seen_at < now - timedelta(seconds=settings.FLEET_OFFLINE_SECONDS):
        return "offline"
    return "online"


def workers_online(*, now: datetime | None = None) -> QuerySet[Worker]:
    now = now or timezone.now()
    return Worker.objects.filter(
        stopped_at__isnull=True,
        last_seen_at__gte=now - timedelta(seconds=settings.FLEET_OFFLINE_SECONDS),
    )


GIB = 2**30


def _gpu_row(gpu: dict[str, Any]) -> dict[str, Any]:
    total, used = gpu.get("memory_total_bytes") or 0, gpu.get("memory_used_bytes") or 0
    return {
        "name": gpu.get("name", ""),
        "uuid": gpu.get("uuid", ""),
        "memory": f"{used / GIB:.1f} / {total / GIB:.1f} GiB",
        "mig_mode": gpu.get("mig_mode") or "—",
        "temperature_c": gpu.get("temperature_c"),
        "power_w": gpu.get("power_w"),
    }


def workers_inventory(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every worker that reported a heartbeat, online ones first, each with its state
    (online, offline once silent for FLEET_OFFLINE_SECONDS, stopped), queues and GPUs
    (or why it has none). The workers are the service's own, shared by every
    organization; they hold no organization's data."""
    now = now or timezone.now()
    rows = [
        {
            "name": w.name,
            "worker_class": w.worker_class,
            "host": w.host,
            "state": worker_state(worker=w, now=now),
            "queues": list(w.queues),
            "pool": f"{w.pool}, concurrency {w.concurrency}",
            "gpus": [_gpu_row(g) for g in w.gpus if isinstance(g, dict)],
            "no_gpu_reason": w.no_gpu_reason,
            "last_seen_at": w.last_seen_at,
        }
        for w in Worker.objects.order_by("worker_class", "name")
    ]
    order = {"online": 0, "offline": 1, "stopped": 2}
    return sorted(rows, key=lambda r: order[r["state"]])


def energy_overview(*, organization: Any, start: datetime, end: datetime) -> dict[str, Any]:
    """The organization's energy between ``start`` and ``end``: kWh per day as an SVG
    bar chart, and kWh and cost per AI system (keys are system ids, as text)."""
    days = energy.energy_per_day(organization=organization, start=start, end=end)
    return {
        "chart": energy.energy_chart_svg(days),
        "days": len(days),
        **energy.energy_by(organization=organization, group_by="system", start=start, end=end),
    }
