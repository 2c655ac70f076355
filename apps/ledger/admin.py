"""The ledger in the admin: everything visible, nothing editable or deletable."""

from __future__ import annotations

from django.contrib import admin

from apps.ledger.models import Checkpoint, Entry, Log, SigningKey, TreeNode
from audit_platform.admin import ReadOnlyAdmin


@admin.register(Log)
class LogAdmin(ReadOnlyAdmin):
    list_display = ["origin", "size", "last_time"]
    exclude = ["frontier"]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["log", "seq", "type", "subject_kind", "subject_id", "actor_kind", "time"]
    list_filter = ["log", "type", "actor_kind"]
    search_fields = ["subject_id", "actor_id", "type"]
    readonly_fields = ["entry_text"]
    exclude = ["body"]

    @admin.display(description="entry (canonical JSON)")
    def entry_text(self, obj: Entry) -> str:
        return bytes(obj.body).decode("utf-8")


@admin.register(TreeNode)
class TreeNodeAdmin(ReadOnlyAdmin):
    list_display = ["log", "level", "index"]
    list_filter = ["log", "level"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["log", "size", "created_at"]
    list_filter = ["log"]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["log", "vkey", "created_at", "retired_at"]
    exclude = ["private_key_encrypted"]
