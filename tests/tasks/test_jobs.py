"""The one job pattern (apps/tasks/jobs.py): what a job does with each kind of error,
and with a second delivery. Each test runs a probe task, built with the job policy,
on a Celery app of its own (so it is not registered with the service's), against
the real database; the task record is a real one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from celery import Celery, Task

from apps.tasks import jobs
from apps.tasks.jobs import JOB_POLICY, MAX_RETRIES, Job, JobTask, job_run
from apps.tasks.models import TaskRecord
from apps.tasks.services import task_record_create, task_record_finish

probe_app = Celery("job-tests", set_as_current=False)
current: dict[str, Job[Any]] = {}


@probe_app.task(
    base=JobTask, bind=True, name="tests.job_probe", shared=False, time_limit=60, **JOB_POLICY
)
def job_probe(self: Task) -> Any:
    return job_run(task=self, job=current["job"])


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Entity:
    """Stands in for a job's entity: its claim, its failures, its completions."""

    def __init__(self, *, claimable: bool = True) -> None:
        self.claimable = claimable
        self.failures: list[str] = []
        self.completed: list[Any] = []

    def claim(self) -> bool:
        return self.claimable

    def fail(self, reason: str) -> None:
        self.failures.append(reason)


def failing(error: Callable[[], Exception], *, times: int | None = None) -> Callable[..., str]:
    """An ``execute`` that raises ``error()`` (the first ``times`` calls, or always)."""

    def execute(progress: jobs.Progress) -> str:
        execute.calls += 1  # type: ignore[attr-defined]
        if times is None or execute.calls <= times:  # type: ignore[attr-defined]
            raise error()
        return "done"

    execute.calls = 0  # type: ignore[attr-defined]
    return execute


@pytest.fixture
def record(postgres, org) -> TaskRecord:
    return task_record_create(organization=org, kind="tests.probe")


def run(job: Job[Any]) -> Any:
    current["job"] = job
    return job_probe.apply()


def entity_job(entity: Entity, record: TaskRecord, execute: Callable[..., Any], **more: Any):
    return Job(
        what="the probe",
        claim=entity.claim,
        task_id=record.pk,
        execute=execute,
        complete=entity.completed.append,
        fail=entity.fail,
        **more,
    )


def test_a_retryable_error_is_retried_and_recorded_only_when_no_retry_is_left(record):
    entity = Entity()
    execute = failing(lambda: ConnectionError("broker gone"))
    result = run(entity_job(entity, record, execute))
    assert execute.calls == MAX_RETRIES + 1
    assert result.state == "FAILURE" and isinstance(result.result, ConnectionError)
    assert entity.failures == ["the probe could not run: ConnectionError: broker gone"]
    record.refresh_from_db()
    assert record.state == "failed" and record.message == entity.failures[0]
    assert record.attempts == MAX_RETRIES + 1


def test_a_retryable_error_that_clears_up_completes_the_job(record):
    from django.db import OperationalError

    entity = Entity()
    execute = failing(lambda: OperationalError("server closed the connection"), times=2)
    result = run(entity_job(entity, record, execute))
    assert execute.calls == 3
    assert result.state == "SUCCESS" and result.result == "done"
    assert entity.completed == ["done"] and entity.failures == []


def test_a_refused_job_is_recorded_at_once_and_not_retried(record):
    entity = Entity()
    execute = failing(lambda: Refused("the file has no rows"))
    result = run(entity_job(entity, record, execute, refused=(Refused,)))
    assert execute.calls == 1
    assert result.state == "SUCCESS"
    assert entity.failures == ["the file has no rows"] and entity.completed == []
    record.refresh_from_db()
    assert record.state == "failed" and record.message == "the file has no rows"


def test_an_unexpected_error_is_recorded_and_raised_without_retry(record):
    entity = Entity()
    execute = failing(lambda: KeyError("label"))
    result = run(entity_job(entity, record, execute, refused=(Refused,)))
    assert execute.calls == 1
    assert result.state == "FAILURE" and isinstance(result.result, KeyError)
    assert entity.failures == ["the probe could not run: KeyError: 'label'"]
    record.refresh_from_db()
    assert record.state == "failed" and "KeyError" in record.message


def test_a_second_delivery_of_a_finished_job_does_nothing(record):
    execute = failing(lambda: AssertionError("never raised"), times=0)
    job = Job(
        what="the probe",
        task_id=record.pk,
        execute=execute,
        complete=lambda result: task_record_finish(task_id=record.pk, message=result),
    )
    assert run(job).result == "done"
    assert run(job).result is None
    assert execute.calls == 1
    record.refresh_from_db()
    assert (record.state, record.message, record.attempts) == ("succeeded", "done", 1)


def test_an_entity_that_is_no_longer_claimable_is_left_alone(record):
    entity = Entity(claimable=False)
    execute = failing(lambda: AssertionError("never raised"), times=0)
    assert run(entity_job(entity, record, execute)).result is None
    assert execute.calls == 0 and entity.completed == [] and entity.failures == []
    record.refresh_from_db()
    assert (record.state, record.attempts) == ("queued", 0)


def test_progress_reaches_the_task_record(record):
    seen: list[tuple[int, str]] = []

    def execute(progress: jobs.Progress) -> None:
        progress(40, "halfway there")
        stored = TaskRecord.objects.get(pk=record.pk)
        seen.append((stored.percent, stored.message))

    run(Job(what="the probe", task_id=record.pk, execute=execute))
    assert seen == [(40, "halfway there")]


def test_the_entity_and_its_task_record_fail_in_one_transaction(record, org, monkeypatch):
    """When the task record cannot be marked failed, the entity's failure is not
    written either: neither is left saying something the other does not."""

    def entity_fail(reason: str) -> None:
        task_record_create(organization=org, kind="tests.entity_failed", subject_id=reason)

    def broken_task_record_fail(**kwargs: Any) -> None:
        raise RuntimeError("the task record cannot be written")

    monkeypatch.setattr(jobs, "task_record_fail", broken_task_record_fail)
    job = Job(
        what="the probe",
        task_id=record.pk,
        execute=failing(lambda: Refused("bad input")),
        fail=entity_fail,
        refused=(Refused,),
    )
    result = run(job)
    assert result.state == "FAILURE"
    assert not TaskRecord.objects.filter(kind="tests.entity_failed").exists()


def test_a_job_without_entity_or_task_record_returns_its_result(db):
    assert run(Job(what="the probe", execute=lambda progress: 7)).result == 7
