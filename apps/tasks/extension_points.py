"""Where a queued job goes: an extension point the fleet fills at start-up.

The apps that queue heavy jobs (inference, explainability) sit below the fleet, which
knows the workers and what each model version needs; they ask ``job_route`` before
they queue, and the fleet registers its router here from its ``AppConfig.ready``
(docs/extension-points.md, docs/fleet.md). A router refuses a job nothing can run by
raising ``RuleViolation`` with the reason, before anything is written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True)
class JobRoute:
    """The queue a job is sent to, the worker class consuming it, and why."""

    queue: str
    worker_class: str
    why: str
    needed_gpu_memory_bytes: int | None = None
    considered: tuple[dict[str, Any], ...] = ()

    def as_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["considered"] = list(self.considered)
        return record


class JobRouter(Protocol):
    def __call__(
        self, *, organization: Any, model_version: Any, kind: str, default_queue: str
    ) -> JobRoute:
        """The route of a ``kind`` job ("prediction_batch", "explanation") for
        ``model_version``; raises ``RuleViolation`` when no worker can take it."""


_routers: list[JobRouter] = []


def job_router_register(router: JobRouter) -> None:
    """Installs ``router``; registering the same router twice keeps one."""
    if router not in _routers:
        _routers.append(router)


def job_route(*, organization: Any, model_version: Any, kind: str, default_queue: str) -> JobRoute:
    """Asks the installed router; without one the job goes to its task's queue."""
    if not _routers:
        return JobRoute(
            queue=default_queue, worker_class="", why="no router installed: the task's own queue"
        )
    return _routers[-1](
        organization=organization,
        model_version=model_version,
        kind=kind,
        default_queue=default_queue,
    )
