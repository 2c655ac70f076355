"""Monitoring fixtures: a served model with a reference dataset version, batches
recorded by a pipeline with their files, and a local webhook receiver."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from rest_framework.test import APIClient

from apps.registry import services as registry
from apps.registry.tabular import batch_rows_root
from audit_platform.principal import Principal
from tests.factories import (
    DatasetVersionFactory,
    DeploymentFactory,
    MembershipFactory,
    ModelVersionFactory,
    artifact_upload,
    tests_actor,
)
from tests.support import parquet_bytes, sha256, sign_in_with_second_factor

FEATURES = ["age", "income", "debt", "tenure"]


def frame(rows: int, seed: int, shift: dict[str, float] | None = None) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shift = shift or {}
    return {f: (rng.normal(size=rows) + shift.get(f, 0.0)).round(4) for f in FEATURES}


def scores_for(columns: dict[str, np.ndarray]) -> np.ndarray:
    x = columns["age"] + 0.5 * columns["income"] - columns["debt"]
    return (1 / (1 + np.exp(-2 * x))).round(6)


@pytest.fixture
def monitored(org):
    """A deployment serving a model version (declared accuracy 0.9), and a reference
    dataset version of 2,000 rows of the features."""
    version = ModelVersionFactory(
        model__system__organization=org, metrics={"accuracy": 0.9}, artifact_format="onnx"
    )
    system = version.model.system
    deployment = DeploymentFactory(system=system, serving=version)
    reference = DatasetVersionFactory(
        dataset__system=system, columns=frame(2000, seed=1), split="reference"
    )
    return {"system": system, "version": version, "deployment": deployment, "reference": reference}


def record_batch(deployment, inputs: dict, outputs: dict | None = None):
    """A batch scored elsewhere, recorded and its files verified, as a pipeline does;
    returns the batch (its completion hook queues monitoring on commit)."""
    org = deployment.system.organization
    outputs = outputs if outputs is not None else {"prediction": scores_for(inputs)}
    in_bytes, out_bytes = parquet_bytes(inputs), parquet_bytes(outputs)
    in_art = artifact_upload(organization=org, data=in_bytes, name="in.parquet")
    out_art = artifact_upload(organization=org, data=out_bytes, name="out.parquet")
    root, rows = batch_rows_root(
        input_stream=io.BytesIO(in_bytes), output_stream=io.BytesIO(out_bytes)
    )
    actor = tests_actor(org)
    batch, _ = registry.prediction_batch_record(
        actor=actor,
        deployment=deployment,
        input_sha256=sha256(in_bytes),
        output_sha256=sha256(out_bytes),
        row_count=rows,
        rows_root=root,
    )
    batch, _ = registry.prediction_batch_verify_files(
        actor=actor, batch=batch, input_artifact=in_art, output_artifact=out_art
    )
    return batch


class Receiver:
    """A local HTTP server that records every POST; the first ``fail`` answer 500."""

    def __init__(self, fail: int = 0) -> None:
        self.requests: list[dict] = []
        self.fail = fail
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = 500 if len(receiver.requests) <= receiver.fail else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def person(org):
    """``person(role, email)``: a signed-in member of ``org`` (an API client), for what
    only people may do (acknowledge and resolve alerts, approve)."""

    def make(role: str, email: str):
        membership = MembershipFactory(organization=org, email=email, role=role)
        client = APIClient()
        sign_in_with_second_factor(client, membership.user)
        principal = Principal.for_user(organization=org, user=membership.user, role=role)
        return client, principal

    return make


@pytest.fixture
def receiver(settings):
    """``receiver(fail=0)``: a webhook receiver on loopback, which the policy may name
    because the test allows loopback (as production does not)."""
    settings.MONITORING_WEBHOOK_ALLOW_LOOPBACK = True
    made: list[Receiver] = []

    def make(fail: int = 0) -> Receiver:
        made.append(Receiver(fail=fail))
        return made[-1]

    yield make
    for r in made:
        r.close()
