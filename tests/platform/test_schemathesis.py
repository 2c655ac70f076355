"""Schemathesis against a live server: every operation of the published schema, with a
bounded number of generated requests each (derandomized, so a run is repeatable),
sent with a real owner key over HTTP to the server on PostgreSQL. Any 5xx, or an
answer the schema does not describe (status, content type, body), fails the suite.

The organization holds one record of every kind (the isolation cases' victims), and
about half of the generated requests address those records, so answers about real
records are checked against the schema too, not only 404s.
"""

from __future__ import annotations

import re

import pytest
import requests
import schemathesis
from celery import Task
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from apps.fleet.services.workers import worker_heartbeat
from apps.tenancy.throttling import PrincipalRateThrottle
from tests import factories
from tests.api_routes import all_cases, isolation_modules

EXAMPLES_PER_OPERATION = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _templates(patterns, prefix: str = ""):
    """Route name -> its path as the schema writes it (``/api/v1/systems/{id}``)."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _templates(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: f"{{{_param(m[1])}}}", route)
            yield pattern.name, "/" + path


def _param(name: str) -> str:
    return "id" if name == "pk" else name


@pytest.fixture
def owner_key(transactional_db, postgres, monkeypatch, settings):
    # The fuzzer sends more than a person would in a minute; throttling has its own test.
    monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", {"principal": "100000/min"})
    # Jobs are recorded as queued and not run: their work has its own tests, and
    # running assessments and reports inline would take most of the time budget.
    monkeypatch.setattr(Task, "delay", lambda self, *args, **kwargs: None)
    monkeypatch.setattr(Task, "apply_async", lambda self, *args, **kwargs: None)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Jobs are routed to a class with an online worker (docs/fleet.md): one, on the
    # CPU, online for the whole run.
    settings.FLEET_OFFLINE_SECONDS = 10**9
    worker_heartbeat(
        report={
            "name": "fuzz@node",
            "worker_class": "gpu",
            "host": "node",
            "pid": 1,
            "queues": ["gpu"],
            "pool": "solo",
            "concurrency": 1,
            "gpus": [],
            "no_gpu_reason": "NVML reports no GPU",
        }
    )
    organization = factories.OrganizationFactory(slug="fuzzed", name="Fuzzed")
    return factories.ApiKeyFactory(organization=organization, role="owner", name="fuzzer")


@pytest.fixture
def real_ids(owner_key, settings, tmp_path):
    """Schema path -> path parameters addressing a real record of the organization."""
    settings.MEDIA_ROOT = str(tmp_path)
    objects: dict = {}
    for module in isolation_modules():
        objects.update(module.victim(owner_key.organization))
    # The report victim is marked rendered without rendering it; give it its file.
    objects["report"].refresh_from_db()
    default_storage.save(objects["report"].pdf.name, ContentFile(b"%PDF-1.7\n%%EOF\n"))
    templates = dict(_templates(get_resolver().url_patterns))
    return {
        templates[name]: {
            _param(k): v if isinstance(v, int) else str(v) for k, v in case.kwargs(objects).items()
        }
        for name, case in all_cases().items()
    }


@pytest.fixture
def api_schema(live_server, owner_key):
    headers = {"Authorization": f"Bearer {owner_key.secret}"}
    response = requests.get(
        f"{live_server.url}/api/schema/",
        headers={**headers, "Accept": "application/vnd.oai.openapi+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text[:500]
    schema = schemathesis.openapi.from_dict(response.json())
    schema.config.update(base_url=live_server.url, headers=headers)
    return schema


def _fuzz(operation, real: dict, owner_key_id: int) -> None:
    @SETTINGS
    @given(case=operation.as_strategy(), use_real=st.booleans())
    def run(case, use_real: bool) -> None:
        if use_real and real:
            case.path_parameters = {**(case.path_parameters or {}), **real}
        # Revoking the fuzzer's own key would leave nothing to test with.
        assume(not ("api-keys" in operation.path and case.path_parameters == {"id": owner_key_id}))
        case.call_and_validate(checks=CHECKS)

    run()


def test_every_operation_answers_as_documented(api_schema, real_ids, owner_key):
    failures = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            _fuzz(operation, real_ids.get(operation.path, {}), owner_key.pk)
        except BaseException as exc:  # a FailureGroup is no Exception; collect them all
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            failures.append(f"{operation.label}:\n{exc}")
    assert operations > 80
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
