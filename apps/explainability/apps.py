from django.apps import AppConfig


class ExplainabilityConfig(AppConfig):
    name = "apps.explainability"
    label = "explainability"
    verbose_name = "Explainability"
