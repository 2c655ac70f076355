"""Every Celery task of the service is made through the one job pattern
(apps/tasks/jobs.py) and so carries the one retry policy."""

from __future__ import annotations

from apps.tasks.jobs import JOB_POLICY, MAX_RETRIES, RETRYABLE_ERRORS, JobTask
from audit_platform.celery import app

# The tasks the apps declare today; the check below covers any that are added.
KNOWN = {
    "apps.compliance.assessment_run",
    "apps.explainability.explanation_run",
    "apps.inference.prediction_batch_run",
    "apps.ledger.log_verify",
    "apps.monitoring.batch_monitor",
    "apps.monitoring.delivery_send",
    "apps.monitoring.policy_window_drift",
    "apps.monitoring.triggers_sweep",
    "apps.registry.dataset_version_statistics",
    "apps.reports.report_generate",
    "apps.tenancy.idempotency_records_purge",
}


def registered_tasks() -> dict:
    # Import every installed app's tasks module, as a worker does at start-up.
    app.autodiscover_tasks(force=True)
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_registered_task_goes_through_the_job_pattern():
    tasks = registered_tasks()
    assert set(tasks) >= KNOWN
    plain = sorted(name for name, task in tasks.items() if not isinstance(task, JobTask))
    assert plain == [], f"made without apps.tasks.jobs.job_task: {plain}"


def test_every_registered_task_declares_the_one_retry_policy():
    assert JOB_POLICY["autoretry_for"] == RETRYABLE_ERRORS
    for name, task in registered_tasks().items():
        declared = {option: getattr(task, option) for option in JOB_POLICY}
        assert declared == JOB_POLICY, name
        assert task.max_retries == MAX_RETRIES, name
        assert task.time_limit, f"{name} has no time limit"


def test_the_retryable_errors_are_the_widest_list():
    from django.db import InterfaceError, OperationalError

    assert (ConnectionError, TimeoutError, OperationalError, InterfaceError) == RETRYABLE_ERRORS
