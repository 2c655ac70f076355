from __future__ import annotations

from typing import Any

from django.apps import AppConfig

_POOL_NAMES = {"thread": "threads"}


def _pool_name(pool_cls: Any) -> str:
    module = pool_cls if isinstance(pool_cls, str) else getattr(pool_cls, "__module__", "")
    name = module.rsplit(".", 1)[-1]
    return _POOL_NAMES.get(name, name) or "custom"


def _start_heartbeat(sender: Any, **kwargs: Any) -> None:
    """``worker_ready``: the worker (its consumer is the sender) starts reporting."""
    from apps.fleet.heartbeat import Heartbeat

    controller = sender.controller
    queues = sorted(q.name for q in sender.task_consumer.queues)
    heartbeat = Heartbeat(
        name=controller.hostname,
        queues=queues,
        pool=_pool_name(controller.pool_cls),
        concurrency=int(controller.concurrency),
    )
    heartbeat.start()
    _running.append(heartbeat)


def _stop_heartbeat(**kwargs: Any) -> None:
    """``worker_shutdown``: the worker says it stopped (shown stopped, not offline)."""
    while _running:
        _running.pop().stop()


_running: list[Any] = []


class FleetConfig(AppConfig):
    name = "apps.fleet"
    label = "fleet"
    verbose_name = "Serving fleet and online decisions"

    def ready(self) -> None:
        from celery.signals import worker_ready, worker_shutdown

        from apps.fleet.services.routing import job_route
        from apps.tasks.extension_points import job_router_register

        # Batch and explanation jobs are sent where a worker fits them (docs/fleet.md).
        job_router_register(job_route)

        worker_ready.connect(_start_heartbeat, weak=False)
        worker_shutdown.connect(_stop_heartbeat, weak=False)
