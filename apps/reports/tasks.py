"""Report rendering on the ``reports`` queue: thin, id-based, safe to run twice
(apps/tasks/jobs.py)."""

from __future__ import annotations

from celery import Task

from apps.tasks.jobs import Job, job_run, job_task, task_id_of


@job_task(name="apps.reports.report_generate", time_limit=1800, soft_time_limit=1700)
def report_generate_task(self: Task, report_id: int) -> None:
    """Renders, signs and records one report; a final failure leaves it failed.
    ``report_generate`` records the completion itself: the signed file exists only
    while it runs."""
    from apps.reports import services
    from apps.reports.kinds import RecordUnreadable
    from apps.reports.models import Report

    job_run(
        task=self,
        job=Job(
            what="the report",
            claim=lambda: services.report_claim(report_id=report_id),
            task_id=task_id_of(Report, report_id),
            execute=lambda progress: services.report_generate(report_id=report_id),
            fail=lambda reason: services.report_fail(report_id=report_id, reason=reason),
            # A record the report cannot read will not become readable on retry: the
            # report fails at once, with the reason, and no traceback.
            refused=(RecordUnreadable,),
        ),
    )
