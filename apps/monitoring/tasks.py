"""Monitoring worker tasks: thin, id-based, safe to run twice (apps/tasks/jobs.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from celery import Task

from apps.tasks.jobs import Job, job_run, job_task


@job_task(name="apps.monitoring.batch_monitor", time_limit=3600)
def batch_monitor_task(self: Task, batch_id: int) -> None:
    """Drift and, for binary classifiers, the performance estimate of a completed
    batch. Each is written once per batch, so a redelivery writes nothing new."""
    from apps.monitoring import services

    def execute(progress) -> None:  # type: ignore[no-untyped-def]
        services.drift_report_for_batch(batch_id=batch_id)
        progress(60, "drift recorded")
        services.performance_estimate_for_batch(batch_id=batch_id)

    job_run(task=self, job=Job(what="monitoring", execute=execute))


def last_full_window(*, hours: int, now: datetime) -> tuple[datetime, datetime]:
    """The latest window of ``hours`` hours that has ended, aligned to the epoch, so
    every run in the same period names the same window."""
    period = hours * 3600
    end_ts = int(now.timestamp()) // period * period
    end = datetime.fromtimestamp(end_ts, tz=UTC)
    return end - timedelta(hours=hours), end


@job_task(name="apps.monitoring.policy_window_drift", time_limit=6 * 3600)
def policy_window_drift_task(self: Task, policy_id: int, start: str = "", end: str = "") -> None:
    """Drift over one time window (by default the last full one of the policy's
    schedule); a window's report is written once."""
    from apps.monitoring import services
    from apps.monitoring.models import MonitoringPolicy

    def execute(progress) -> None:  # type: ignore[no-untyped-def]
        if start and end:
            window = datetime.fromisoformat(start), datetime.fromisoformat(end)
        else:
            hours = MonitoringPolicy.objects.get(pk=policy_id).window_hours or 24
            window = last_full_window(hours=hours, now=datetime.now(tz=UTC))
        services.drift_report_for_window(policy_id=policy_id, start=window[0], end=window[1])

    job_run(task=self, job=Job(what="window drift", execute=execute))


@job_task(name="apps.monitoring.delivery_send", time_limit=120)
def delivery_send_task(self: Task, delivery_id: int) -> None:
    """One attempt at a notification; a failed one is retried with exponential
    backoff by the one job policy, and the delivery fails when none is left."""
    from apps.monitoring import services

    job_run(
        task=self,
        job=Job(
            what="the notification",
            claim=lambda: services.delivery_claim(delivery_id=delivery_id),
            execute=lambda progress: services.delivery_attempt(delivery_id=delivery_id),
            complete=lambda result: services.delivery_complete(delivery_id=delivery_id),
            fail=lambda reason: services.delivery_fail(delivery_id=delivery_id, reason=reason),
        ),
    )


@job_task(name="apps.monitoring.triggers_sweep", time_limit=600)
def triggers_sweep_task(self: Task) -> None:
    """Escalates retraining triggers left unanswered past their deadline, and
    activates retrained versions a policy lets go live by itself."""
    from apps.monitoring import services

    def execute(progress) -> None:  # type: ignore[no-untyped-def]
        services.triggers_escalate()
        services.triggers_auto_activate()

    job_run(task=self, job=Job(what="the trigger sweep", execute=execute))
