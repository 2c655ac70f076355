"""The worker inventory: heartbeats, checked, and hardware changes put on the ledger of
the organizations whose high-risk systems the worker served."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.compliance.models import Classification
from apps.compliance.selectors import classification_current
from apps.fleet import events
from apps.fleet.models import HeartbeatRejection, Worker
from apps.registry.models import AISystem, PredictionBatch
from apps.tenancy.records import record_event
from audit_platform.errors import InvalidInput
from audit_platform.principal import Principal

POOLS = ("prefork", "solo", "threads", "gevent", "eventlet", "processes", "custom")
_GPU_UUID = re.compile(r"(GPU|MIG)-[0-9A-Za-z-]{1,96}")
# What a GPU's figures can be on any hardware made; beyond them a report is broken.
_MAX_TEMPERATURE_C, _MIN_TEMPERATURE_C = 150, -40
_MAX_POWER_W = 5_000
_MAX_GPU_MEMORY = 2**44  # 16 TiB
# What of a GPU can change a model's results; memory in use and temperature do not.
_HARDWARE_KEYS = ("name", "uuid", "driver", "mig_mode", "memory_total_bytes")


def class_of(*, queues: list[str]) -> str:
    """The declared class a worker consuming ``queues`` belongs to: FLEET_WORKER_CLASS
    where set, else the first class that declares every one of them ("" for none)."""
    if settings.FLEET_WORKER_CLASS:
        return settings.FLEET_WORKER_CLASS
    for name, spec in settings.FLEET_WORKER_CLASSES.items():
        if set(queues) <= set(spec["queues"]):
            return name
    return ""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _gpu_problems(gpu: Any, where: str) -> list[str]:
    if not isinstance(gpu, dict):
        return [f"{where} is not an object"]
    problems = []
    if not isinstance(gpu.get("name"), str) or not gpu["name"]:
        problems.append(f"{where}.name is missing")
    if not isinstance(gpu.get("uuid"), str) or not _GPU_UUID.fullmatch(gpu["uuid"]):
        problems.append(f"{where}.uuid is not an NVML UUID (GPU-... or MIG-...)")
    total, used = gpu.get("memory_total_bytes"), gpu.get("memory_used_bytes")
    if not isinstance(total, int) or not 0 < total <= _MAX_GPU_MEMORY:
        problems.append(f"{where}.memory_total_bytes must be a whole number from 1 to 2**44")
    elif not isinstance(used, int) or not 0 <= used <= total:
        problems.append(f"{where}.memory_used_bytes must lie between 0 and the total ({total})")
    temperature, power = gpu.get("temperature_c"), gpu.get("power_w")
    if temperature is not None and not (
        _number(temperature) and _MIN_TEMPERATURE_C <= temperature <= _MAX_TEMPERATURE_C
    ):
        problems.append(f"{where}.temperature_c {temperature!r} is no GPU's temperature")
    if power is not None and not (_number(power) and 0 <= power <= _MAX_POWER_W):
        problems.append(f"{where}.power_w {power!r} is no GPU's power draw")
    if gpu.get("mig_mode") not in ("enabled", "disabled", None):
        problems.append(f"{where}.mig_mode must be enabled, disabled or null")
    return problems


def heartbeat_problems(report: Any) -> list[str]:
    """Why a heartbeat cannot be a worker's: an unknown class, or impossible values."""
    if not isinstance(report, dict):
        return ["the heartbeat is not an object"]
    problems = []
    for key in ("name", "host"):
        if not isinstance(report.get(key), str) or not 0 < len(report[key]) <= 200:
            problems.append(f"{key} must be text of 1 to 200 characters")
    declared = settings.FLEET_WORKER_CLASSES
    worker_class, queues = report.get("worker_class"), report.get("queues")
    if worker_class not in declared:
        problems.append(
            f"unknown worker class {worker_class!r}: FLEET_WORKER_CLASSES declares "
            f"{', '.join(sorted(declared))}"
        )
    if not isinstance(queues, list) or not queues or not all(isinstance(q, str) for q in queues):
        problems.append("queues must be a non-empty list of queue names")
    elif worker_class in declared:
        foreign = sorted(set(queues) - set(declared[worker_class]["queues"]))
        if foreign:
            problems.append(f"class {worker_class!r} declares no queue {', '.join(foreign)}")
    if report.get("pool") not in POOLS:
        problems.append(f"pool must be one of {', '.join(POOLS)}")
    for key, top in (("concurrency", 4096), ("pid", 2**31 - 1)):
        value = report.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= top:
            problems.append(f"{key} must be a whole number from 1 to {top}")
    software = report.get("software", {})
    if not isinstance(software, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in software.items()
    ):
        problems.append("software must map package names to version texts")
    gpus = report.get("gpus")
    if not isinstance(gpus, list):
        problems.append("gpus must be a list")
    else:
        for i, gpu in enumerate(gpus):
            problems += _gpu_problems(gpu, f"gpus[{i}]")
        uuids = [g.get("uuid") for g in gpus if isinstance(g, dict)]
        if len(set(uuids)) != len(uuids):
            problems.append("the same GPU UUID is listed twice")
        if not gpus and not report.get("no_gpu_reason"):
            problems.append('a worker without GPUs must say why ("no_gpu_reason")')
    return problems


def hardware_of(gpus: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: gpu.get(key) for key in _HARDWARE_KEYS} for gpu in gpus]


def _hardware_sha256(gpus: list[dict[str, Any]]) -> str:
    text = json.dumps(hardware_of(gpus), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def worker_heartbeat(*, report: dict[str, Any], now: datetime | None = None) -> Worker:
    """Records a worker's heartbeat; a new GPU, a GPU gone or a new driver goes on the
    ledger of each organization with a high-risk system whose batches its host ran. A
    heartbeat that cannot be a worker's is recorded as rejected, with the reason, and
    refused."""
    now = now or timezone.now()
    problems = heartbeat_problems(report)
    if problems:
        name = report.get("name") if isinstance(report, dict) else None
        HeartbeatRejection.objects.create(
            worker_name=str(name)[:200] if name else "",
            reason="; ".join(problems),
            report=report if isinstance(report, dict) else {},
            at=now,
        )
        raise InvalidInput(
            f"Heartbeat refused: {'; '.join(problems)}.", fields={"heartbeat": problems}
        )
    gpus = [dict(gpu) for gpu in report["gpus"]]
    fields = {
        "worker_class": report["worker_class"],
        "host": report["host"],
        "pid": report["pid"],
        "queues": sorted(report["queues"]),
        "pool": report["pool"],
        "concurrency": report["concurrency"],
        "software": report.get("software", {}),
        "gpus": gpus,
        "no_gpu_reason": "" if gpus else report["no_gpu_reason"],
        "hardware_sha256": _hardware_sha256(gpus),
        "stopped_at": None,
        "last_seen_at": now,
    }
    with transaction.atomic():
        worker = Worker.objects.select_for_update().filter(name=report["name"]).first()
        if worker is None:
            return Worker.objects.create(name=report["name"], first_seen_at=now, **fields)
        before = (worker.gpus, worker.hardware_sha256)
        for key, value in fields.items():
            setattr(worker, key, value)
        worker.save()
        if before[1] != worker.hardware_sha256:
            _hardware_changed(worker=worker, before_gpus=before[0], before_sha256=before[1])
    return worker


def worker_stopped(*, name: str, now: datetime | None = None) -> None:
    """A worker that shuts down says so; it is shown stopped, not offline."""
    Worker.objects.filter(name=name).update(stopped_at=now or timezone.now())


def _hardware_changed(*, worker: Worker, before_gpus: list[Any], before_sha256: str) -> None:
    served = (
        PredictionBatch.objects.filter(
            ran_on__host=worker.host, status=PredictionBatch.Status.COMPLETED
        )
        .values_list("deployment__system", flat=True)
        .distinct()
    )
    by_organization: dict[Any, list[str]] = {}
    for system in AISystem.objects.filter(pk__in=served).select_related("organization"):
        current = classification_current(system=system)
        if current is not None and current.category == Classification.Category.HIGH_RISK:
            by_organization.setdefault(system.organization, []).append(str(system.pk))
    for organization, systems in by_organization.items():
        record_event(
            actor=Principal.system(organization=organization, name="fleet"),
            event=events.WORKER_HARDWARE_CHANGED,
            id=worker.name,
            data={
                "host": worker.host,
                "before": hardware_of(before_gpus),
                "after": hardware_of(worker.gpus),
                "before_sha256": before_sha256,
                "after_sha256": worker.hardware_sha256,
                "systems": sorted(systems),
            },
        )
