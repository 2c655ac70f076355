from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "apps.compliance"
    label = "compliance"
    verbose_name = "Compliance (EU AI Act)"

    def ready(self) -> None:
        from apps.compliance.selectors import deployment_change_refusal
        from apps.registry.extension_points import deployment_change_gate_register

        # The registry cannot import compliance (it sits below it); compliance puts its
        # deployment gate (approvals, open serious incidents) on the registry's
        # extension point instead (docs/extension-points.md).
        deployment_change_gate_register(deployment_change_refusal)
