"""Celery tasks of the ledger: thin wrappers that take ids (apps/tasks/jobs.py)."""

from __future__ import annotations

from celery import Task

from apps.tasks.jobs import Job, Progress, job_run, job_task


@job_task(name="apps.ledger.log_verify", time_limit=3600)
def log_verify_task(self: Task, task_id: str) -> None:
    """Verifies an organization's stored log. Read-only, so running it twice is
    harmless. The task record is the job's only state: a broken log finishes the
    job as failed, with the verifier's summary as the reason."""
    from apps.ledger.selectors import log_for
    from apps.ledger.stored_log_check import LogVerification, log_verify
    from apps.tasks.models import TaskRecord
    from apps.tasks.services import task_record_fail, task_record_finish

    def execute(progress: Progress) -> LogVerification:
        record = TaskRecord.objects.select_related("organization").get(pk=task_id)
        return log_verify(log=log_for(organization=record.organization))

    def complete(result: LogVerification) -> None:
        if result.ok:
            task_record_finish(task_id=task_id, message=result.summary())
        else:
            task_record_fail(task_id=task_id, reason=result.summary())

    job_run(
        task=self,
        job=Job(what="verification", task_id=task_id, execute=execute, complete=complete),
    )
