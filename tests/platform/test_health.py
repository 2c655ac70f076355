from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings

from audit_platform.celery import app as celery_app


@pytest.mark.embedded
def test_healthz_reports_database_and_embedded_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["broker"].startswith("ok (embedded")


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_healthz_is_503_when_the_broker_is_down(client, db, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("down")


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_healthz_is_200_with_a_live_broker(client, db, monkeypatch, redis_url):
    monkeypatch.setitem(celery_app.conf, "broker_url", redis_url)
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["broker"] == "ok"


def test_healthz_is_503_when_the_database_is_down(client, db, monkeypatch):
    class Unreachable:
        def cursor(self):
            raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr("audit_platform.health.connection", Unreachable())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("down")
