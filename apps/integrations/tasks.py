"""Integration worker tasks: thin, id-based, safe to run twice (apps/tasks/jobs.py)."""

from __future__ import annotations

from celery import Task

from apps.tasks.jobs import Job, Progress, job_run, job_task


@job_task(name="apps.integrations.mlflow_import", time_limit=3600)
def mlflow_import_task(
    self: Task,
    task_id: str,
    connection_id: str,
    experiment: str | None,
    actor_kind: str,
    actor_id: str,
    actor_name: str,
) -> None:
    """Imports an MLflow connection for whoever asked (the ledger attributes it to
    them). Importing is idempotent, so a second delivery records nothing new."""
    from apps.integrations.mlflow_import import ImportReport, mlflow_import
    from apps.integrations.models import MlflowConnection
    from apps.ledger.types import Actor
    from apps.tasks.services import task_record_claim, task_record_finish
    from audit_platform.errors import ServiceError
    from audit_platform.principal import Principal

    connection = MlflowConnection.objects.select_related("organization", "system").get(
        pk=connection_id
    )
    actor = Principal.on_behalf_of(
        organization=connection.organization,
        actor=Actor(kind=actor_kind, id=actor_id, name=actor_name),
    )

    def execute(progress: Progress) -> ImportReport:
        return mlflow_import(actor=actor, connection=connection, experiment=experiment)

    job_run(
        task=self,
        job=Job(
            what="the MLflow import",
            claim=lambda: task_record_claim(task_id=task_id),
            task_id=task_id,
            execute=execute,
            complete=lambda report: task_record_finish(
                task_id=task_id,
                message=f"{report.runs} run(s), {report.model_versions} model version(s), "
                f"{report.aliases} alias change(s) imported"
                + (f"; skipped: {'; '.join(report.skipped)}" if report.skipped else ""),
            ),
            refused=(ServiceError,),
        ),
    )
