from django.contrib import admin

from apps.tasks.models import TaskRecord


@admin.register(TaskRecord)
class TaskRecordAdmin(admin.ModelAdmin):
    list_display = ["id", "organization", "kind", "state", "percent", "created_at", "finished_at"]
    list_filter = ["organization", "kind", "state"]
    readonly_fields = [f.name for f in TaskRecord._meta.fields]

    def has_add_permission(self, request):
        return False
