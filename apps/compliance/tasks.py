"""Compliance worker tasks: thin, id-based, safe to run twice (apps/tasks/jobs.py)."""

from __future__ import annotations

from typing import Any

from celery import Task

from apps.tasks.jobs import Job, Progress, job_run, job_task, task_id_of


@job_task(name="apps.compliance.assessment_run", time_limit=3600)
def assessment_run_task(self: Task, assessment_id: int) -> None:
    """Runs one assessment. Data the assessment cannot use fails it at once."""
    from apps.compliance.assessment_execution import AssessmentDataError, assessment_execute
    from apps.compliance.models import Assessment
    from apps.compliance.services import assessment_claim, assessment_complete, assessment_fail

    def execute(progress: Progress) -> tuple[dict[str, Any], bool, dict[str, Any]]:
        progress(10, "computing metrics")
        return assessment_execute(assessment=Assessment.objects.get(pk=assessment_id))

    def complete(outcome: tuple[dict[str, Any], bool, dict[str, Any]]) -> None:
        results, passed, outcomes = outcome
        assessment_complete(
            assessment_id=assessment_id, results=results, passed=passed, outcomes=outcomes
        )

    job_run(
        task=self,
        job=Job(
            what="the assessment",
            claim=lambda: assessment_claim(assessment_id=assessment_id),
            task_id=task_id_of(Assessment, assessment_id),
            execute=execute,
            complete=complete,
            fail=lambda reason: assessment_fail(assessment_id=assessment_id, reason=reason),
            refused=(AssessmentDataError,),
        ),
    )
