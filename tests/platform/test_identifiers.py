"""Every model of ours is keyed by a UUID (audit_platform.ids), never by a number that
counts the records of all organizations."""

from django.apps import apps
from django.db import models

# The ledger's storage rows: no API, page or export shows their ids (entries are
# addressed by their per-organization seq, checkpoints by their size, tree nodes by
# their position, a log by its organization), and the raw-SQL appends cast them as
# bigint.
LEDGER_STORAGE = {"ledger.Log", "ledger.Entry", "ledger.TreeNode", "ledger.Checkpoint"}


def _our_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith("apps.") and model._meta.label not in LEDGER_STORAGE
    ]


def test_every_model_of_ours_has_a_uuid_primary_key():
    ours = _our_models()
    not_uuid = [m._meta.label for m in ours if not isinstance(m._meta.pk, models.UUIDField)]

    assert len(ours) > 50
    assert not not_uuid, f"Declare id = uuid_primary_key() on {', '.join(not_uuid)}."


def test_the_person_model_is_ours_and_keyed_by_a_uuid():
    from django.contrib.auth import get_user_model

    user_model = get_user_model()

    assert user_model._meta.label == "tenancy.User"
    assert isinstance(user_model._meta.pk, models.UUIDField)
    assert user_model._meta.db_table == "auth_user"


def test_the_ledger_storage_rows_that_keep_numbers_are_not_addressed_by_them():
    for label in LEDGER_STORAGE:
        model = apps.get_model(label)
        assert isinstance(model._meta.pk, models.BigAutoField), label
