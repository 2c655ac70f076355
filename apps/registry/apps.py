from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "apps.registry"
    label = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        from celery.signals import task_postrun
        from django.core import checks
        from django.core.signals import request_finished

        from apps.registry.artifacts import remove_orphans_after_work
        from apps.registry.extension_points import deployment_gate_check

        # A deployment that nobody gates would serve unapproved versions of high-risk
        # systems without a word: refuse to start without a gate.
        checks.register(deployment_gate_check)

        # Django has no hook for a rollback: the files of uploads whose transaction
        # rolled back are looked for once the request or task that wrote them is over.
        request_finished.connect(remove_orphans_after_work, dispatch_uid="artifact-orphans")
        task_postrun.connect(remove_orphans_after_work, dispatch_uid="artifact-orphans")
