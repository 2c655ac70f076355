from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"
    verbose_name = "Post-market monitoring"

    def ready(self) -> None:
        from apps.monitoring.services import batch_completed, trigger_run_link
        from apps.registry.extension_points import (
            prediction_batch_completed_hook_register,
            training_run_reference_register,
        )

        # The registry sits below monitoring: it tells us of completed batches and
        # lets a training run name the retraining trigger it answers through its
        # extension points (docs/extension-points.md).
        prediction_batch_completed_hook_register(batch_completed)
        training_run_reference_register("trigger", trigger_run_link)
