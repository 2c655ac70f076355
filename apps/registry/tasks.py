"""Registry worker tasks: thin, id-based, safe to run twice."""

from __future__ import annotations

from celery import Task, shared_task

RETRYABLE = (ConnectionError, TimeoutError)


@shared_task(
    bind=True,
    name="apps.registry.dataset_version_statistics",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    max_retries=5,
    time_limit=3600,
)
def dataset_version_statistics_task(self: Task, dataset_version_id: int) -> None:
    """Computes representativeness statistics of an uploaded dataset file."""
    from apps.registry.models import DatasetVersion
    from apps.registry.services import dataset_version_statistics_record
    from apps.registry.tabular import TabularError, column_statistics

    version = DatasetVersion.objects.select_related("artifact").get(pk=dataset_version_id)
    if version.statistics_state != DatasetVersion.StatisticsState.PENDING:
        return
    try:
        with version.artifact.file.open("rb") as stream:
            statistics = column_statistics(stream)
    except TabularError as exc:
        dataset_version_statistics_record(
            dataset_version_id=version.pk, statistics=None, failure=str(exc)
        )
        return
    except Exception as exc:
        if not (isinstance(exc, RETRYABLE) and self.request.retries < self.max_retries):
            dataset_version_statistics_record(
                dataset_version_id=version.pk,
                statistics=None,
                failure=f"statistics could not be computed: {exc}",
            )
        raise
    dataset_version_statistics_record(
        dataset_version_id=version.pk, statistics=statistics, failure=None
    )
