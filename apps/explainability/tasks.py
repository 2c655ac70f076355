"""Explanation worker tasks (gpu queue): thin, id-based, safe to run twice (apps/tasks/jobs.py)."""

from __future__ import annotations

from celery import Task

from apps.tasks.jobs import Job, job_run, job_task, task_id_of


@job_task(name="apps.explainability.explanation_run", time_limit=6 * 3600)
def explanation_run_task(self: Task, explanation_id: int) -> None:
    """Computes an explanation; the explanation's status is the claim.
    ``explanation_execute`` records the completion itself: the values file exists
    only while it runs."""
    from apps.explainability.models import Explanation
    from apps.explainability.services import (
        explanation_claim,
        explanation_execute,
        explanation_fail,
    )
    from apps.inference.errors import JobRefused

    job_run(
        task=self,
        job=Job(
            what="the explanation",
            claim=lambda: explanation_claim(explanation_id=explanation_id),
            task_id=task_id_of(Explanation, explanation_id),
            execute=lambda progress: explanation_execute(
                explanation_id=explanation_id, progress=progress
            ),
            fail=lambda reason: explanation_fail(explanation_id=explanation_id, reason=reason),
            refused=(JobRefused,),
        ),
    )
