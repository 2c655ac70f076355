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
        from apps.registry.selectors import system_ids_of_organization
        from apps.tenancy.extension_points import system_ids_resolver_register

        # Tenancy sits below the registry: it asks here which ids are systems of an
        # organization when an API key is limited to some (docs/extension-points.md).
        system_ids_resolver_register(system_ids_of_organization)

        # A deployment that nobody gates would serve unapproved versions of high-risk
        # systems without a word: refuse to start without a gate.
        checks.register(deployment_gate_check)

        # Django has no hook for a rollback: the files of uploads whose transaction
        # rolled back are looked for once the request or task that wrote them is over.
        request_finished.connect(remove_orphans_after_work, dispatch_uid="artifact-orphans")
        task_postrun.connect(remove_orphans_after_work, dispatch_uid="artifact-orphans")
