from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "apps.registry"
    label = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        from celery.signals import task_postrun
        from django.core.signals import request_finished

        from apps.registry.artifacts import remove_orphans_after_work

        # Django has no hook for a rollback: the files of uploads whose transaction
        # rolled back are looked for once the request or task that wrote them is over.
        request_finished.connect(remove_orphans_after_work, dispatch_uid="artifact-orphans")
        task_postrun.connect(remove_orphans_after_work, dispatch_uid="artifact-orphans")
