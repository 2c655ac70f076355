"""MLflow runs, registered model versions and aliases put on the record: read with the
MLflow client (``mlflow-skinny``) from a tracking server or a local store, and
recorded through the registry's services. What was imported is remembered per
connection, so importing again records only what is new or changed (a run that
finished since, an alias that moved). See docs/integrations.md."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.db import IntegrityError, transaction

from apps.integrations import events
from apps.integrations.models import MlflowConnection, MlflowRecord
from apps.ledger.digests import file_sha256
from apps.ledger.types import Receipt
from apps.registry import services as registry
from apps.registry.models import AISystem, Model, TrainingRun
from apps.tenancy.records import record_event, record_ref
from audit_platform.errors import Forbidden, InvalidInput, RuleViolation
from audit_platform.principal import Principal

# The artifact formats the registry records, by the file name MLflow's flavors write.
FORMATS = (
    (".ubj", "xgboost-ubj", "xgboost"),
    (".json", "xgboost-json", "xgboost"),
    (".onnx", "onnx", "onnx"),
    (".skops", "sklearn-skops", "sklearn"),
    (".txt", "lightgbm-txt", "lightgbm"),
)
# MLflow's own run statuses, and what each makes of a training run.
FINISHED, FAILED, KILLED = "FINISHED", "FAILED", "KILLED"


@dataclass
class ImportReport:
    runs: int = 0
    runs_finished: int = 0
    model_versions: int = 0
    aliases: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "runs_finished": self.runs_finished,
            "model_versions": self.model_versions,
            "aliases": self.aliases,
            "skipped": self.skipped,
        }


def _without_credentials(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def mlflow_connection_get_or_create(
    *, actor: Principal, tracking_uri: str, system: AISystem
) -> MlflowConnection:
    """The organization's connection to ``tracking_uri``, created the first time. Its
    system stays the one it was created for."""
    existing = MlflowConnection.objects.filter(
        organization=actor.organization, tracking_uri=tracking_uri
    ).first()
    if existing is None:
        return mlflow_connection_create(actor=actor, tracking_uri=tracking_uri, system=system)[0]
    if existing.system_id != system.pk:
        raise RuleViolation(
            f"{_without_credentials(tracking_uri)} is imported into AI system "
            f"{existing.system_id} already."
        )
    return existing


def mlflow_connection_create(
    *, actor: Principal, tracking_uri: str, system: AISystem
) -> tuple[MlflowConnection, Receipt]:
    """Connects an MLflow tracking server (or local store) to ``system``, with a new
    secret for its webhooks."""
    try:
        with transaction.atomic():
            connection = MlflowConnection.objects.create(
                organization=actor.organization,
                tracking_uri=tracking_uri,
                system=system,
                webhook_secret=secrets.token_urlsafe(32),
            )
            receipt = record_event(
                actor=actor,
                event=events.MLFLOW_CONNECTION_CREATED,
                id=connection.pk,
                data={
                    "tracking_uri": _without_credentials(tracking_uri),
                    "parent": record_ref("ai_system", system),
                },
            )
    except IntegrityError:
        raise RuleViolation(f"{_without_credentials(tracking_uri)} is connected already.") from None
    return connection, receipt


def mlflow_import_request(
    *, actor: Principal, connection: MlflowConnection, experiment: str | None
) -> Any:
    """Queues an import of ``connection`` (the task record, to follow it)."""
    from apps.integrations.tasks import mlflow_import_task
    from apps.tasks.services import task_record_create

    with transaction.atomic():
        task = task_record_create(
            organization=actor.organization,
            kind="mlflow.import",
            subject_kind="mlflow_connection",
            subject_id=str(connection.pk),
        )
        who = actor.ledger_actor
        transaction.on_commit(
            lambda: mlflow_import_task.delay(
                str(task.pk), str(connection.pk), experiment, who.kind, who.id, who.name
            )
        )
    return task


def _client(connection: MlflowConnection) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=connection.tracking_uri, registry_uri=connection.tracking_uri)


def mlflow_import(
    *, actor: Principal, connection: MlflowConnection, experiment: str | None = None
) -> ImportReport:
    """Imports the connection's runs (of ``experiment``, else of every experiment),
    registered model versions and aliases; each run, version and alias change is its
    own transaction, so an import that stops half-way keeps what it recorded and the
    next one goes on from there."""
    from mlflow.exceptions import MlflowException

    client = _client(connection)
    report = ImportReport()
    try:
        if experiment is not None:
            found = client.get_experiment_by_name(experiment)
            if found is None:
                raise InvalidInput(
                    f"The MLflow tracking server has no experiment named {experiment!r}.",
                    fields={"experiment": ["No such experiment."]},
                )
            experiments = [found]
        else:
            experiments = client.search_experiments()
        run_ids: set[str] = set()
        for found in experiments:
            for run in client.search_runs([found.experiment_id], order_by=["start_time ASC"]):
                run_ids.add(run.info.run_id)
                _run(
                    actor=actor,
                    connection=connection,
                    run=run,
                    experiment=found.name,
                    report=report,
                )
        for registered in client.search_registered_models():
            versions = client.search_model_versions(f"name='{registered.name}'")
            for version in sorted(versions, key=lambda v: int(v.version)):
                if experiment is not None and version.run_id not in run_ids:
                    continue
                _model_version(
                    actor=actor,
                    connection=connection,
                    client=client,
                    version=version,
                    report=report,
                )
            for alias, number in sorted(registered.aliases.items()):
                _alias(
                    actor=actor,
                    connection=connection,
                    model_name=registered.name,
                    alias=alias,
                    version=str(number),
                    report=report,
                )
    except MlflowException as exc:
        raise InvalidInput(
            f"MLflow at {connection.tracking_uri} could not be read: {exc.message[:300]}",
            fields={"tracking_uri": ["Unreadable."]},
        ) from None
    return report


def _record(connection: MlflowConnection, kind: str, key: str) -> MlflowRecord | None:
    return (
        MlflowRecord.objects.select_for_update()
        .filter(connection=connection, kind=kind, key=key)
        .first()
    )


def _run(
    *,
    actor: Principal,
    connection: MlflowConnection,
    run: Any,
    experiment: str,
    report: ImportReport,
) -> None:
    info, data = run.info, run.data
    tags = dict(data.tags)
    with transaction.atomic():
        record = _record(connection, MlflowRecord.Kind.RUN, info.run_id)
        if record is None:
            training_run, _ = registry.training_run_start(
                actor=actor,
                system=connection.system,
                params=dict(data.params),
                code_revision=tags.get("mlflow.source.git.commit", "")[:200],
                environment={
                    "mlflow": {
                        "tracking_uri": connection.tracking_uri,
                        "experiment": experiment,
                        "run_id": info.run_id,
                        "run_name": info.run_name or "",
                        "tags": {k: v for k, v in tags.items() if not k.startswith("mlflow.")},
                    }
                },
            )
            record = MlflowRecord.objects.create(
                connection=connection,
                kind=MlflowRecord.Kind.RUN,
                key=info.run_id,
                training_run=training_run,
            )
            report.runs += 1
        training_run = record.training_run
        if training_run.status != TrainingRun.Status.RUNNING or info.status not in (
            FINISHED,
            FAILED,
            KILLED,
        ):
            return
        if info.status == FINISHED:
            registry.training_run_complete(
                actor=actor, run=training_run, metrics=dict(data.metrics)
            )
        elif info.status == FAILED:
            registry.training_run_fail(
                actor=actor, run=training_run, reason=f"MLflow run {info.run_id} FAILED."
            )
        else:
            registry.training_run_abandon(
                actor=actor, run=training_run, reason=f"MLflow run {info.run_id} was KILLED."
            )
        report.runs_finished += 1


def _framework_version(folder: Path, framework: str) -> str:
    """The framework's version as the MLmodel file's flavor states it (e.g.
    ``xgb_version``), or "" when it does not."""
    import yaml  # PyYAML comes with mlflow-skinny (the mlflow extra)

    mlmodel = next(iter(folder.rglob("MLmodel")), None) if folder.is_dir() else None
    if mlmodel is None:
        return ""
    try:
        flavors = (yaml.safe_load(mlmodel.read_text()) or {}).get("flavors", {})
    except yaml.YAMLError:
        return ""
    for name, flavor in flavors.items():
        if framework in name and isinstance(flavor, dict):
            for key, value in flavor.items():
                if key.endswith("_version") and isinstance(value, str):
                    return value[:50]
    return ""


def _artifact(client: Any, version: Any, tracking_uri: str) -> tuple[str, str, str, str] | None:
    """(SHA-256, format, framework, framework version) of the version's model file, or
    None when none of its files is in a format the registry records."""
    import mlflow.artifacts

    uri = client.get_model_version_download_uri(version.name, version.version)
    with tempfile.TemporaryDirectory(prefix="mlflow-") as folder:
        local = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=uri, dst_path=folder, tracking_uri=tracking_uri
            )
        )
        files = sorted(p for p in ([local] if local.is_file() else local.rglob("*")) if p.is_file())
        for suffix, artifact_format, framework in FORMATS:
            for path in files:
                if path.name.endswith(suffix) and path.name != "requirements.txt":
                    version_text = _framework_version(local, framework)
                    return file_sha256(path), artifact_format, framework, version_text
    return None


def _model_version(
    *,
    actor: Principal,
    connection: MlflowConnection,
    client: Any,
    version: Any,
    report: ImportReport,
) -> None:
    key = f"{version.name}/{version.version}"
    if MlflowRecord.objects.filter(
        connection=connection, kind=MlflowRecord.Kind.MODEL_VERSION, key=key
    ).exists():
        return
    found = _artifact(client, version, connection.tracking_uri)
    if found is None:
        report.skipped.append(
            f"{key}: no file in a format the registry records (XGBoost JSON/UBJ, LightGBM "
            "text, ONNX, skops)"
        )
        return
    sha256, artifact_format, framework, framework_version = found
    with transaction.atomic():
        if _record(connection, MlflowRecord.Kind.MODEL_VERSION, key) is not None:
            return
        model = Model.objects.filter(system=connection.system, name=version.name).first()
        if model is None:
            model, _ = registry.model_create(
                actor=actor, system=connection.system, name=version.name
            )
        run = MlflowRecord.objects.filter(
            connection=connection, kind=MlflowRecord.Kind.RUN, key=version.run_id or ""
        ).first()
        trained = run.training_run if run is not None else None
        registered, _ = registry.model_version_register(
            actor=actor,
            model=model,
            version=str(version.version),
            artifact_sha256=sha256,
            artifact_format=artifact_format,
            framework=framework,
            framework_version=framework_version,
            training_run=trained
            if trained and trained.status == TrainingRun.Status.COMPLETED
            else None,
            metrics=dict(trained.metrics) if trained else {},
            uri=str(version.source)[:1000],
        )
        MlflowRecord.objects.create(
            connection=connection,
            kind=MlflowRecord.Kind.MODEL_VERSION,
            key=key,
            model_version=registered,
        )
        report.model_versions += 1


def _alias(
    *,
    actor: Principal,
    connection: MlflowConnection,
    model_name: str,
    alias: str,
    version: str | None,
    report: ImportReport,
) -> None:
    """Records that MLflow's ``alias`` of ``model_name`` now names ``version`` (None:
    removed), unless that is what was recorded last. MLflow does not say who moved an
    alias, so the entry says it is unattributed."""
    key = f"{model_name}@{alias}"
    with transaction.atomic():
        record = _record(connection, MlflowRecord.Kind.ALIAS, key)
        if record is not None and record.state == (version or ""):
            return
        target = None
        if version is not None:
            imported = MlflowRecord.objects.filter(
                connection=connection,
                kind=MlflowRecord.Kind.MODEL_VERSION,
                key=f"{model_name}/{version}",
            ).first()
            if imported is None:
                report.skipped.append(f"{key}: version {version} is not imported")
                return
            target = imported.model_version
        if record is None:
            record = MlflowRecord(connection=connection, kind=MlflowRecord.Kind.ALIAS, key=key)
        record.state = version or ""
        record.model_version = target
        record.save()
        record_event(
            actor=actor,
            event=events.MLFLOW_ALIAS_CHANGED,
            id=record.pk,
            data={
                "model": model_name,
                "alias": alias,
                "model_version": record_ref("model_version", target),
                "mlflow_version": version,
                "attributed": False,
                "connection": record_ref("mlflow_connection", connection),
            },
        )
        report.aliases += 1


# How old a webhook delivery may be (MLflow's X-MLflow-Timestamp) before it is refused
# as a possible replay.
WEBHOOK_MAX_AGE_SECONDS = 300


def mlflow_webhook_receive(
    *,
    connection: MlflowConnection,
    body: bytes,
    delivery_id: str,
    timestamp: str,
    signature: str,
    now: float,
) -> dict[str, Any]:
    """A delivery of MLflow's registry webhooks, verified as MLflow signs it: HMAC-SHA256
    over ``<delivery id>.<timestamp>.<body>`` with the connection's secret, sent as
    ``X-MLflow-Signature: v1,<base64>``. A new model version is imported; an alias
    created or deleted is recorded, unattributed (MLflow does not say who). A delivery
    received again records nothing."""
    _webhook_verify(
        secret=connection.webhook_secret,
        body=body,
        delivery_id=delivery_id,
        timestamp=timestamp,
        signature=signature,
        now=now,
    )
    entity, action, name, version, alias = _webhook_payload(body)
    actor = Principal.system(organization=connection.organization, name="mlflow_webhook")
    report = ImportReport()
    with transaction.atomic():
        if _record(connection, MlflowRecord.Kind.DELIVERY, delivery_id) is not None:
            return {"event": f"{entity}.{action}", "duplicate": True, **report.as_json()}
        MlflowRecord.objects.create(
            connection=connection, kind=MlflowRecord.Kind.DELIVERY, key=delivery_id[:500]
        )
        event = f"{entity}.{action}"
        # MLflow's own event names (entity, action), not our ledger's event types.
        if (entity, action) == ("model_version", "created"):
            client = _client(connection)
            _model_version(
                actor=actor,
                connection=connection,
                client=client,
                version=client.get_model_version(name, version),
                report=report,
            )
        elif event in ("model_version_alias.created", "model_version_alias.deleted"):
            _alias(
                actor=actor,
                connection=connection,
                model_name=name,
                alias=alias,
                version=version if action == "created" else None,
                report=report,
            )
    return {"event": event, "duplicate": False, **report.as_json()}


def _webhook_verify(
    *, secret: str, body: bytes, delivery_id: str, timestamp: str, signature: str, now: float
) -> None:
    expected = (
        "v1,"
        + base64.b64encode(
            hmac.new(
                secret.encode(),
                f"{delivery_id}.{timestamp}.".encode() + body,
                hashlib.sha256,
            ).digest()
        ).decode()
    )
    if not signature or not hmac.compare_digest(expected, signature):
        raise Forbidden(
            "The webhook's X-MLflow-Signature does not match its body: check the secret "
            "the MLflow webhook was created with."
        )
    if not timestamp.isdigit() or abs(now - int(timestamp)) > WEBHOOK_MAX_AGE_SECONDS:
        raise InvalidInput(
            f"X-MLflow-Timestamp is missing or more than {WEBHOOK_MAX_AGE_SECONDS} s away "
            "from now: a delivery is accepted only fresh.",
            fields={"X-MLflow-Timestamp": ["Stale or missing."]},
        )


def _webhook_payload(body: bytes) -> tuple[str, str, str, str, str]:
    """(entity, action, model name, version, alias) of MLflow's webhook JSON."""
    try:
        payload = json.loads(body)
        entity, action, data = payload["entity"], payload["action"], payload["data"]
        name = str(data.get("name", ""))
        version = str(data.get("version", ""))
        alias = str(data.get("alias", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidInput(
            'The webhook body must be MLflow\'s JSON {"entity", "action", "data"}.',
            fields={"body": ["Not an MLflow webhook payload."]},
        ) from None
    return entity, action, name, version, alias
