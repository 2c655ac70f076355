"""Imports an MLflow tracking server's (or local store's) runs, registered model
versions and aliases as training runs and model versions of one AI system. Running it
again records only what is new or changed (docs/integrations.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.integrations import mlflow_import as services
from apps.registry.models import AISystem
from apps.tenancy.models import Organization
from audit_platform.errors import ServiceError
from audit_platform.principal import Principal


class Command(BaseCommand):
    help = "Imports MLflow runs, model versions and aliases onto the record of one AI system."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tracking-uri", required=True, help="MLflow tracking URI.")
        parser.add_argument("--experiment", help="Only this experiment's runs and versions.")
        parser.add_argument("--org", required=True, help="The organization's slug.")
        parser.add_argument("--system", required=True, help="The AI system's id.")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"no organization with slug {options['org']!r}")
        system = AISystem.objects.filter(organization=organization, pk=options["system"]).first()
        if system is None:
            raise CommandError(f"{options['org']} has no AI system {options['system']!r}")
        actor = Principal.system(organization=organization, name="import_mlflow")
        try:
            connection = services.mlflow_connection_get_or_create(
                actor=actor, tracking_uri=options["tracking_uri"], system=system
            )
            report = services.mlflow_import(
                actor=actor, connection=connection, experiment=options["experiment"]
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"imported {report.runs} run(s) ({report.runs_finished} finished), "
            f"{report.model_versions} model version(s), {report.aliases} alias change(s)"
        )
        for line in report.skipped:
            self.stdout.write(f"skipped {line}")
