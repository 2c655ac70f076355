"""Shared set-up of the inference and explanation benchmarks (not a benchmark itself).

Runs the service on its embedded default (SQLite in a temporary VAR_DIR, tasks
in-process), trains a synthetic XGBoost model, registers it through the services
and writes a Parquet input file. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def model_options(parser: argparse.ArgumentParser, *, rows: int, rounds: int | None) -> None:
    """The options every one of these benchmarks takes: rows to score, the model's
    size, and (where it alternates) the number of ABBA rounds."""
    parser.add_argument("--rows", type=int, default=rows)
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--features", type=int, default=10)
    if rounds is not None:
        parser.add_argument("--rounds", type=int, default=rounds)


@dataclass(frozen=True)
class Bench:
    """A trained model served by a deployment, and its input file, uploaded."""

    path: str
    names: list[str]
    booster: Any
    input_sha256: str
    org: Any
    actor: Any
    deployment: Any
    version: Any


def bench_start(doc: str, *, rows: int, rounds: int) -> tuple[argparse.Namespace, Bench]:
    """The command line of a benchmark whose module docstring is ``doc``, parsed, and
    its set-up made."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    model_options(parser, rows=rows, rounds=rounds)
    args = parser.parse_args()
    return args, bench_setup(args)


def bench_setup(args: argparse.Namespace) -> Bench:
    """Django on its embedded default, the model trained and registered, the input
    written and uploaded."""
    var = django_embedded()
    booster, names = train(trees=args.trees, depth=args.depth, features=args.features)
    model_bytes = bytes(booster.save_raw(raw_format="json"))
    path = os.path.join(var, "input.parquet")
    input_bytes = write_input(path, rows=args.rows, names=names)
    org, actor, deployment, version = register(model_bytes=model_bytes, input_bytes=input_bytes)
    return Bench(
        path=path,
        names=names,
        booster=booster,
        input_sha256=hashlib.sha256(input_bytes).hexdigest(),
        org=org,
        actor=actor,
        deployment=deployment,
        version=version,
    )


def read_features(path: str, names: list[str]) -> Any:
    """The baseline's reading: the Parquet file's feature columns stacked as float32."""
    import numpy as np
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return np.column_stack([table.column(n).to_numpy() for n in names]).astype(np.float32)


def abba(
    *, baseline: Callable[[], float], ours: Callable[[], float], rounds: int
) -> tuple[float, float, float]:
    """Median seconds of the baseline and of ours over ``rounds`` rounds A B B A, after
    one untimed run of each (ours loads the model into this process's cache, as a
    worker's first job does), and the load average at the start."""
    load_at_start = os.getloadavg()[0]
    ours()
    baseline()
    baseline_times, our_times = [], []
    for _ in range(rounds):
        baseline_times.append(baseline())
        our_times.append(ours())
        our_times.append(ours())
        baseline_times.append(baseline())
    return statistics.median(baseline_times), statistics.median(our_times), load_at_start


def print_setting(args: argparse.Namespace, load_at_start: float) -> None:
    print(f"model: XGBoost {args.trees} trees depth {args.depth}, {args.features} features")
    print(f"rows: {args.rows}, cores: {os.cpu_count()}, rounds (ABBA): {args.rounds}")
    print(f"load average (1 min): {load_at_start:.2f} at start, {os.getloadavg()[0]:.2f} at end")


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

    from apps.compliance import services as compliance
    from apps.registry import services as registry
    from apps.registry.artifacts import artifact_store
    from apps.tenancy.services import organization_create
    from audit_platform.principal import Principal
    from tests.support import answers as questionnaire_answers

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
    # An unclassified system serves nothing (the default policy): classified minimal-risk
    # with the questionnaire's baseline answers, as an officer would.
    compliance.classification_record(
        actor=actor, system=system, answers=questionnaire_answers(role=system.role)
    )
    deployment, _ = registry.deployment_create(actor=actor, system=system, environment="prod")
    registry.deployment_activate(actor=actor, deployment=deployment, model_version=version)
    return org, actor, deployment, version


def queue_batch(bench: Bench):
    """A queued batch of the bench's input (not yet run), as the API would leave it."""
    from apps.registry import services as registry
    from apps.registry.models import Artifact
    from apps.tasks.services import task_record_create

    artifact = Artifact.objects.get(organization=bench.org, sha256=bench.input_sha256)
    task = task_record_create(organization=bench.org, kind="inference.prediction_batch")
    batch, _ = registry.prediction_batch_request(
        actor=bench.actor, deployment=bench.deployment, input_artifact=artifact, task=task
    )
    return batch
