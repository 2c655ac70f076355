from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "apps.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from apps.explainability.extension_points import explanation_finished_hook_register
        from apps.reports import checks  # noqa: F401 (registers the system checks)
        from apps.reports.services import decision_explanations_release

        # A decision explanation (Art. 86) waiting for its SHAP values is queued when
        # they are computed, or fails with the reason when they cannot be.
        explanation_finished_hook_register(decision_explanations_release)
