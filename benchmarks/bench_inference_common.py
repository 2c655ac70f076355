"""Shared set-up of the inference and explanation benchmarks (not a benchmark itself).

Runs the service on its embedded default (SQLite in a temporary VAR_DIR, tasks
in-process), trains a synthetic XGBoost model, registers it through the services
and writes a Parquet input file. Nothing is downloaded.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def django_embedded() -> str:
    """Configures Django on a fresh SQLite database in a temporary folder."""
    var = tempfile.mkdtemp(prefix="bench-inference-")
    atexit.register(shutil.rmtree, var, ignore_errors=True)
    os.environ["VAR_DIR"] = var
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audit_platform.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # As a worker runs in production: no SQL formatted and kept for debugging.
    os.environ.setdefault("DEBUG", "false")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return var


def train(*, trees: int, depth: int, features: int, rows: int = 20_000, seed: int = 0):
    import numpy as np
    import xgboost as xgb

    rng = np.random.default_rng(seed)
    names = [f"f{i}" for i in range(features)]
    x = rng.normal(size=(rows, features)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] * x[:, 2] - 0.5 * x[:, 3] > 0).astype(np.float32)
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": depth, "seed": seed},
        xgb.DMatrix(x, label=y, feature_names=names),
        num_boost_round=trees,
    )
    return booster, names


def write_input(path: str, *, rows: int, names: list[str], seed: int = 1) -> bytes:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    pq.write_table(pa.table({n: rng.normal(size=rows).round(6) for n in names}), path)
    return Path(path).read_bytes()


def register(*, model_bytes: bytes, input_bytes: bytes):
    """An organization with a deployment serving the model, and the uploaded input."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.registry import services as registry
    from apps.registry.artifacts import artifact_store
    from apps.tenancy.services import organization_create
    from audit_platform.principal import Principal

    org = organization_create(slug="bench", name="Bench")
    actor = Principal.system(organization=org, name="bench")
    for blob, name in ((model_bytes, "model.json"), (input_bytes, "input.parquet")):
        artifact_store(
            organization=org,
            uploaded=SimpleUploadedFile(name, blob),
            declared_sha256=None,
            actor=actor,
        )
    system, _ = registry.ai_system_register(
        actor=actor, name="Bench", intended_purpose="benchmark", role="provider"
    )
    model, _ = registry.model_create(actor=actor, system=system, name="m")
    version, _ = registry.model_version_register(
        actor=actor,
        model=model,
        version="1",
        artifact_sha256=hashlib.sha256(model_bytes).hexdigest(),
        artifact_format="xgboost-json",
        framework="xgboost",
        framework_version="3",
        uploaded=True,
    )
    deployment, _ = registry.deployment_create(actor=actor, system=system, environment="prod")
    registry.deployment_activate(actor=actor, deployment=deployment, model_version=version)
    return org, actor, deployment, version


def queue_batch(*, org, actor, deployment, input_sha256: str):
    """A queued batch (not yet run), as the API would leave it."""
    from apps.registry import services as registry
    from apps.registry.models import Artifact
    from apps.tasks.services import task_record_create

    artifact = Artifact.objects.get(organization=org, sha256=input_sha256)
    task = task_record_create(organization=org, kind="inference.prediction_batch")
    batch, _ = registry.prediction_batch_request(
        actor=actor, deployment=deployment, input_artifact=artifact, task=task
    )
    return batch
