"""AI systems get their lifecycle statuses and the provider facts of Annex V; a
deployment event keeps the version it replaced (``previous_model_version``) apart from
where a rollback returns to (``rollback_target``, the field's former meaning)."""

import uuid

from django.db import migrations, models
import django.db.models.deletion


def replaced_versions(apps, schema_editor):
    """The former ``previous_model_version`` was the rollback target; the replaced
    version is what served before each event, from the events alone."""
    DeploymentEvent = apps.get_model("registry", "DeploymentEvent")
    served: dict[uuid.UUID, uuid.UUID | None] = {}
    for event in DeploymentEvent.objects.order_by("deployment_id", "ledger_seq"):
        event.rollback_target_id = event.previous_model_version_id
        event.previous_model_version_id = served.get(event.deployment_id)
        event.save(update_fields=["previous_model_version", "rollback_target"])
        served[event.deployment_id] = None if event.kind == "stopped" else event.model_version_id


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_prediction_batch_execution")]

    operations = [
        migrations.AddField(
            model_name="deploymentevent",
            name="rollback_target",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.modelversion",
            ),
        ),
        migrations.RunPython(replaced_versions, migrations.RunPython.noop),
        migrations.AddField(
            model_name="aisystem",
            name="provider_name",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="aisystem",
            name="provider_address",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="aisystem",
            name="data_protection_statement",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="aisystem",
            name="status",
            field=models.CharField(
                choices=[
                    ("development", "in development"),
                    ("validation", "in validation"),
                    ("in_service", "in service"),
                    ("withdrawn", "withdrawn"),
                    ("retired", "retired"),
                ],
                default="development",
                max_length=16,
            ),
        ),
    ]
