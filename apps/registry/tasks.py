"""Registry worker tasks: thin, id-based, safe to run twice (apps/tasks/jobs.py)."""

from __future__ import annotations

from typing import Any

from celery import Task

from apps.tasks.jobs import Job, Progress, job_run, job_task


@job_task(name="apps.registry.dataset_version_statistics", time_limit=3600)
def dataset_version_statistics_task(self: Task, dataset_version_id: int) -> None:
    """Computes representativeness statistics of an uploaded dataset file."""
    from apps.registry.models import DatasetVersion
    from apps.registry.services import dataset_version_statistics_record
    from apps.registry.tabular import TabularError, column_statistics

    def claim() -> bool:
        # Statistics have no running state: pending is the claim, and the record
        # service, under a row lock, writes only while they are still pending.
        return DatasetVersion.objects.filter(
            pk=dataset_version_id, statistics_state=DatasetVersion.StatisticsState.PENDING
        ).exists()

    def execute(progress: Progress) -> dict[str, Any]:
        version = DatasetVersion.objects.select_related("artifact").get(pk=dataset_version_id)
        with version.artifact.file.open("rb") as stream:
            return column_statistics(stream)

    job_run(
        task=self,
        job=Job(
            what="statistics",
            claim=claim,
            execute=execute,
            complete=lambda statistics: dataset_version_statistics_record(
                dataset_version_id=dataset_version_id, statistics=statistics, failure=None
            ),
            fail=lambda reason: dataset_version_statistics_record(
                dataset_version_id=dataset_version_id, statistics=None, failure=reason
            ),
            refused=(TabularError,),
        ),
    )
