"""Capacity-aware routing: a batch or explanation job goes to the queue of a worker
class whose online workers have the free GPU memory its model version needs (its
resource profile's peak plus a margin); a job no online worker can take is refused
at submission, with the reason, and the refusal kept (docs/fleet.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.fleet.models import RoutingRefusal, Worker
from apps.fleet.profiles import resource_profile
from apps.fleet.selectors import workers_online
from apps.registry.models import ModelVersion
from apps.tasks.extension_points import JobRoute
from audit_platform.errors import RuleViolation

_GIB = 2**30


def _gib(value: int | None) -> str:
    return "no GPU" if not value else f"{value / _GIB:.1f} GiB"


def needed_gpu_memory(*, model_version: ModelVersion | None) -> tuple[int | None, str]:
    """The free GPU memory a job of this version needs, and on what it rests: the
    measured peak on a GPU plus FLEET_ROUTING_MARGIN_PERCENT; 0 for a version measured
    on the CPU only; None while it has no profile (any online worker may take it)."""
    if model_version is None:
        return None, "no model version served: no profile"
    devices = resource_profile(model_version=model_version)["devices"]
    cuda = devices.get("cuda") or {}
    if cuda.get("profile") and cuda.get("gpu_peak_memory_bytes"):
        peak = int(cuda["gpu_peak_memory_bytes"]["max"])
        margin = settings.FLEET_ROUTING_MARGIN_PERCENT
        needed = peak + peak * margin // 100
        return needed, f"needs {_gib(needed)} (peak {_gib(peak)} measured + {margin} % margin)"
    if any(kind.get("profile") for kind in devices.values()):
        return 0, "measured on the CPU only: needs no GPU memory"
    return None, "no resource profile yet (3 completed jobs make one): needs unknown"


def free_gpu_memory(worker: Worker) -> int:
    """The most free memory on one of the worker's GPUs (a job runs on one)."""
    return max((g["memory_total_bytes"] - g["memory_used_bytes"] for g in worker.gpus), default=0)


def _classes(online: list[Worker]) -> list[dict[str, Any]]:
    """Each class that takes jobs: its job queue, its online workers consuming that
    queue, and the most free GPU memory among them."""
    considered = []
    for name, spec in sorted(settings.FLEET_WORKER_CLASSES.items()):
        queue = spec.get("job_queue")
        if not queue:
            continue
        workers = [w for w in online if w.worker_class == name and queue in w.queues]
        considered.append(
            {
                "worker_class": name,
                "queue": queue,
                "online_workers": len(workers),
                "free_gpu_memory_bytes": max(map(free_gpu_memory, workers), default=None),
            }
        )
    return considered


def _fits(entry: dict[str, Any], needed: int | None) -> bool:
    if not entry["online_workers"]:
        return False
    return not needed or (entry["free_gpu_memory_bytes"] or 0) >= needed


def _described(entry: dict[str, Any]) -> str:
    if not entry["online_workers"]:
        return f"{entry['worker_class']}: no online worker on {entry['queue']}"
    return (
        f"{entry['worker_class']}: {entry['online_workers']} online, the most free GPU "
        f"memory {_gib(entry['free_gpu_memory_bytes'])}"
    )


def job_route(
    *, organization: Any, model_version: ModelVersion | None, kind: str, default_queue: str
) -> JobRoute:
    """The queue of the class that fits: the smallest free GPU memory that is enough
    (larger GPUs stay free for larger jobs); with needs unknown, the most free memory.
    Refuses, and keeps the refusal, when no online worker fits."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return JobRoute(
            queue=default_queue,
            worker_class="",
            why="tasks run in this process (no CELERY_BROKER_URL): there is no fleet to choose",
        )
    needed, basis = needed_gpu_memory(model_version=model_version)
    considered = _classes(list(workers_online()))
    fitting = [entry for entry in considered if _fits(entry, needed)]
    if not fitting:
        _refuse(
            organization=organization,
            model_version=model_version,
            kind=kind,
            needed=needed,
            basis=basis,
            considered=considered,
        )
    free = [entry["free_gpu_memory_bytes"] or 0 for entry in fitting]
    chosen = fitting[free.index(min(free) if needed is not None else max(free))]
    return JobRoute(
        queue=chosen["queue"],
        worker_class=chosen["worker_class"],
        why=f"model version {basis}; chosen {_described(chosen)}",
        needed_gpu_memory_bytes=needed,
        considered=tuple(considered),
    )


def _refuse(
    *,
    organization: Any,
    model_version: ModelVersion | None,
    kind: str,
    needed: int | None,
    basis: str,
    considered: list[dict[str, Any]],
) -> None:
    classes = "; ".join(map(_described, considered)) or "no class declares a job_queue"
    reason = (
        f"No online worker can take this {kind.replace('_', ' ')}: the model version "
        f"{basis}. Classes considered: {classes}. Start a worker of a class whose GPU "
        f"fits (FLEET_WORKER_CLASSES), or free GPU memory, and submit again."
    )
    RoutingRefusal.objects.create(
        organization=organization,
        model_version=model_version,
        kind=kind,
        needed_gpu_memory_bytes=needed,
        considered=considered,
        reason=reason,
        at=timezone.now(),
    )
    raise RuleViolation(reason)
