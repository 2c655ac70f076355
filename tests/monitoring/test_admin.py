"""Monitoring in the admin: operators (superusers) see policies, reports, alerts,
triggers and every delivery attempt, read-only; staff without superuser status are
refused (the operators-only admin site); schedules are django-celery-beat rows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory
from tests.monitoring import isolation_cases

pytestmark = pytest.mark.django_db
MODELS = [
    "monitoringpolicy",
    "driftreport",
    "performancereport",
    "alert",
    "retrainingtrigger",
    "delivery",
]


def test_operators_see_monitoring_records_read_only(org, admin_client):
    objects = isolation_cases.victim(org)
    for name in MODELS:
        page = admin_client.get(reverse(f"admin:monitoring_{name}_changelist"))
        assert page.status_code == 200, name
        assert admin_client.get(reverse(f"admin:monitoring_{name}_add")).status_code == 403
    detail = admin_client.get(
        reverse("admin:monitoring_monitoringpolicy_change", args=[objects["monitoring_policy"].pk])
    )
    assert detail.status_code == 200
    assert objects["monitoring_policy"].webhook_secret not in detail.content.decode()
    schedule = admin_client.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    assert schedule.status_code == 200


def test_staff_without_superuser_status_is_refused(org, client):
    isolation_cases.victim(org)
    user = MembershipFactory(organization=org, email="staff@acme.example").user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    for name in MODELS:
        page = client.get(reverse(f"admin:monitoring_{name}_changelist"))
        assert page.status_code == 302 and "/login/" in page["Location"], name
