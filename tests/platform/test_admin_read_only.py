"""Records reach the database only through the services, each with its ledger entry:
the admin may show them but never add, edit or delete one."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory

# Every admin-registered model whose rows are on the record (or, for idempotency
# answers, written by the API alone). Organizations, signing certificates and task
# records are left out: their admins allow what their own tests cover.
RECORDED_APPS = {"ledger", "registry", "compliance", "explainability"}
ALSO_READ_ONLY = {
    "tenancy.membership",
    "tenancy.apikey",
    "tenancy.idempotencyrecord",
    "reports.report",
}


def _read_only_models() -> list[str]:
    return sorted(
        model._meta.label_lower
        for model in admin.site._registry
        if model._meta.app_label in RECORDED_APPS or model._meta.label_lower in ALSO_READ_ONLY
    )


@pytest.mark.django_db
@pytest.mark.parametrize("label", _read_only_models())
def test_the_admin_cannot_add_edit_or_delete_a_record(label):
    model_admin = next(a for m, a in admin.site._registry.items() if m._meta.label_lower == label)
    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.create_superuser("root", "root@x.example", "pw-1")
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_every_recorded_app_has_its_models_in_the_admin():
    # The parametrised test above must not pass by finding nothing.
    labels = _read_only_models()
    assert {label.split(".")[0] for label in labels} >= RECORDED_APPS | {"tenancy", "reports"}
    assert len(labels) >= 25
