from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "apps.inference"
    label = "inference"
    verbose_name = "Inference"

    def ready(self) -> None:
        from celery.signals import worker_process_init

        from apps.inference import loading

        # A forked pool child starts with an empty model cache and no device state of
        # its parent's: CUDA is only ever initialised inside the process that runs jobs.
        worker_process_init.connect(loading.reset_process_state, weak=False)
