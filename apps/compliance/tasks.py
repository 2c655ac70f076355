"""Compliance worker tasks: thin, id-based, safe to run twice."""

from __future__ import annotations

from celery import Task, shared_task

RETRYABLE = (ConnectionError, TimeoutError)


@shared_task(
    bind=True,
    name="apps.compliance.assessment_run",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=5,
    time_limit=3600,
)
def assessment_run_task(self: Task, assessment_id: int) -> None:
    """Runs one assessment. Data the assessment cannot use fails it at once; an error
    of ours is retried, and the assessment is marked failed when retries run out."""
    from apps.compliance.models import Assessment
    from apps.compliance.runner import AssessmentDataError, run
    from apps.compliance.services import assessment_claim, assessment_complete, assessment_fail
    from apps.tasks.services import task_record_claim, task_record_progress

    assessment = Assessment.objects.filter(pk=assessment_id).first()
    if assessment is None or not assessment_claim(assessment_id=assessment_id):
        return
    if assessment.task_id:
        task_record_claim(task_id=assessment.task_id)
        task_record_progress(
            task_id=assessment.task_id, percent=10, message="computing metrics"
        )
    try:
        results, passed, outcomes = run(assessment)
    except AssessmentDataError as exc:
        assessment_fail(assessment_id=assessment_id, reason=str(exc))
        return
    except Exception as exc:
        if not (isinstance(exc, RETRYABLE) and self.request.retries < self.max_retries):
            assessment_fail(
                assessment_id=assessment_id, reason=f"the assessment could not run: {exc}"
            )
        raise
    assessment_complete(
        assessment_id=assessment_id, results=results, passed=passed, outcomes=outcomes
    )
