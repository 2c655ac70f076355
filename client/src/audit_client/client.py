"""The HTTP client: one typed method per pipeline hook of ``/api/v1/``.

Every write carries an ``Idempotency-Key`` (a fresh one per call unless the caller
gives one), and a call that meets a network error or a 5xx is sent again with the same
key, so the server records it once however often it is retried. Record ids are opaque
strings: the client never parses them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

from apps.ledger.core.rows import RowsTree
from audit_client import environment as env_capture
from audit_client.errors import (
    ApiError,
    ClientError,
    ConfigurationError,
    DigestMismatch,
    GateRefused,
    InvalidValue,
    NotFound,
    ServerUnreachable,
    error_for_status,
)
from audit_client.files import ProgressReader, progress, sha256_file

URL_VARIABLE = "AUDIT_PLATFORM_URL"
KEY_VARIABLE = "AUDIT_PLATFORM_API_KEY"
API_PREFIX = "/api/v1/"
RETRY_STATUSES = frozenset({500, 502, 503, 504})
# Waiting on queued work (reports, tasks): how often to look, and for how long at most.
POLL_INTERVAL_S = 1.0

T = TypeVar("T")
Record = dict[str, Any]


def _id(value: Any) -> str:
    """A record id for a URL or a body: whatever the server gave, as text."""
    return str(value)


def finite_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The metrics as sent: each a finite number, or :class:`InvalidValue` naming the
    first that is not (the server refuses them too, with a 400)."""
    for name, value in metrics.items():
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not is_number or not math.isfinite(value):
            raise InvalidValue(
                f"Metric {name!r} is {value!r}: give each metric as a finite number."
            )
    return dict(metrics)


class Client:
    """A session with the service for one API key.

    ``url`` and ``api_key`` default to ``$AUDIT_PLATFORM_URL`` and
    ``$AUDIT_PLATFORM_API_KEY``. A write that fails on the network or with a 5xx is
    retried ``max_retries`` times, waiting ``backoff * 2**attempt`` seconds (with
    jitter) in between. ``show_progress`` draws bars on uploads, downloads and waits
    (needs tqdm).
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        show_progress: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        url = url or os.environ.get(URL_VARIABLE, "")
        api_key = api_key or os.environ.get(KEY_VARIABLE, "")
        if not url:
            raise ConfigurationError(f"No server URL: set {URL_VARIABLE} or --url.")
        if not api_key:
            raise ConfigurationError(f"No API key: set {KEY_VARIABLE}.")
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"The server URL must start with http:// or https://: {url}")
        self.url = url.rstrip("/")
        self.max_retries = max_retries
        self.backoff = backoff
        self.show_progress = show_progress
        self._http = httpx.Client(
            base_url=self.url + API_PREFIX,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport -------------------------------------------------------------------

    def _send(self, build: Callable[[], httpx.Request], *, stream: bool = False) -> httpx.Response:
        """Sends the request ``build`` makes (afresh per attempt, so an upload rewinds),
        retrying network errors and 5xx; raises the typed error for any other 4xx."""
        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1) * (1 + random.random() / 2))  # noqa: S311
            request = build()
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                last = exc
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.max_retries:
                response.close()
                continue
            if response.status_code >= 400:
                if stream:
                    response.read()
                raise _api_error(response)
            return response
        raise ServerUnreachable(
            f"Cannot reach {self.url} after {self.max_retries + 1} attempts: "
            f"{type(last).__name__}: {last or 'no answer'}"
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = {}
        if method != "GET":
            headers["Idempotency-Key"] = idempotency_key or f"client-{uuid.uuid4()}"
        content = None
        if body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        query = {k: _id(v) for k, v in (params or {}).items() if v is not None}
        response = self._send(
            lambda: self._http.build_request(
                method, path, content=content, params=query, headers=headers
            )
        )
        if "json" not in response.headers.get("content-type", ""):
            return response.text
        return response.json()

    def _get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params=params)

    def _post(self, path: str, body: Mapping[str, Any], *, key: str | None = None) -> Record:
        # Optional fields left unset are not sent: the server takes no empty text for
        # some of them (uri), and applies its defaults.
        sent = {k: v for k, v in body.items() if v is not None and v != ""}
        return self._call("POST", path, body=sent, idempotency_key=key)

    def _list(self, path: str, **params: Any) -> list[Record]:
        """Every record of a paginated list."""
        out: list[Record] = []
        page = 1
        while True:
            answer = self._get(path, page=page, **params)
            out.extend(answer["results"])
            if not answer.get("next"):
                return out
            page += 1

    # --- files -------------------------------------------------------------------------

    def upload(self, path: str | Path, *, idempotency_key: str | None = None) -> Record:
        """Uploads a file as an artifact, streamed, with its SHA-256 computed here first
        so the server refuses a file that changed on the way. A file uploaded before is
        answered with its first record (``duplicate``: true)."""
        path = Path(path)
        sha256, size = sha256_file(path, show_progress=self.show_progress)
        key = idempotency_key or f"client-{uuid.uuid4()}"
        with progress(size, f"upload {path.name}", enabled=self.show_progress) as bar:
            opened: list[IO[bytes]] = []

            def build() -> httpx.Request:
                for f in opened:
                    f.close()
                f = path.open("rb")
                opened.append(f)
                return self._http.build_request(
                    "POST",
                    "artifacts/",
                    data={"sha256": sha256},
                    files={"file": (path.name, ProgressReader(f, bar))},
                    headers={"Idempotency-Key": key},
                )

            try:
                return self._send(build).json()
            finally:
                for f in opened:
                    f.close()

    def _download(
        self, path: str, dest: Path, *, expected_sha256: str | None = None, **params: Any
    ) -> Path:
        """Streams ``path`` to ``dest`` (through ``dest.part``, so a broken download
        leaves nothing under the real name); with ``expected_sha256``, a file with any
        other digest is removed and :class:`DigestMismatch` raised."""
        response = self._send(
            lambda: self._http.build_request("GET", path, params=params), stream=True
        )
        total = int(response.headers.get("content-length") or 0) or None
        partial = dest.with_name(dest.name + ".part")
        digest = hashlib.sha256()
        try:
            with (
                partial.open("wb") as f,
                progress(total, f"download {dest.name}", enabled=self.show_progress) as bar,
            ):
                for block in response.iter_bytes():
                    f.write(block)
                    digest.update(block)
                    bar.update(len(block))
        except httpx.TransportError as exc:
            partial.unlink(missing_ok=True)
            raise ServerUnreachable(f"The download of {dest.name} broke off: {exc}") from None
        finally:
            response.close()
        if expected_sha256 is not None and digest.hexdigest() != expected_sha256:
            partial.unlink(missing_ok=True)
            raise DigestMismatch(
                f"{dest.name}: the downloaded bytes have SHA-256 {digest.hexdigest()}, not the "
                f"recorded {expected_sha256}; not kept."
            )
        partial.replace(dest)
        return dest

    def artifact_download(self, sha256: str, dest: str | Path) -> Path:
        """Downloads the stored file with this SHA-256 (a dataset or model version's
        digest) to ``dest``, checked against the digest here as well as on the server.
        :class:`NotFound` when the service holds only the digest, not the bytes."""
        return self._download(f"artifacts/{sha256}/content", Path(dest), expected_sha256=sha256)

    # --- AI systems ------------------------------------------------------------------

    def system_register(
        self, *, name: str, intended_purpose: str, role: str, idempotency_key: str | None = None
    ) -> Record:
        return self._post(
            "systems/",
            {"name": name, "intended_purpose": intended_purpose, "role": role},
            key=idempotency_key,
        )

    def systems(self) -> list[Record]:
        return self._list("systems/")

    def system(self, system_id: str) -> Record:
        return self._get(f"systems/{_id(system_id)}")

    # --- datasets ----------------------------------------------------------------------

    def dataset_create(
        self,
        *,
        system_id: str,
        name: str,
        description: str = "",
        idempotency_key: str | None = None,
    ) -> Record:
        return self._post(
            "datasets/",
            {"system_id": _id(system_id), "name": name, "description": description},
            key=idempotency_key,
        )

    def datasets(self, *, system_id: str | None = None) -> list[Record]:
        return self._list("datasets/", system=system_id)

    def dataset_named(self, name: str, *, system_id: str | None = None) -> Record | None:
        """The dataset called ``name`` (within ``system_id`` when given), or None."""
        matches = [d for d in self.datasets(system_id=system_id) if d["name"] == name]
        if len(matches) > 1:
            raise ClientError(
                f"{len(matches)} datasets are called {name!r}; give --system to choose one."
            )
        return matches[0] if matches else None

    def dataset_version_register(
        self,
        *,
        dataset_id: str,
        version: str,
        sha256: str,
        size_bytes: int,
        row_count: int,
        schema: list[Mapping[str, str]],
        split: str,
        datasheet: Mapping[str, Any],
        contains_personal_data: bool,
        contains_special_category_data: bool,
        uri: str = "",
        artifact_sha256: str | None = None,
        idempotency_key: str | None = None,
    ) -> Record:
        return self._post(
            f"datasets/{_id(dataset_id)}/versions/",
            {
                "version": version,
                "sha256": sha256,
                "size_bytes": size_bytes,
                "row_count": row_count,
                "schema": list(schema),
                "split": split,
                "datasheet": dict(datasheet),
                "contains_personal_data": contains_personal_data,
                "contains_special_category_data": contains_special_category_data,
                "uri": uri,
                "artifact_sha256": artifact_sha256,
            },
            key=idempotency_key,
        )

    def dataset_versions(self, dataset_id: str) -> list[Record]:
        return self._list(f"datasets/{_id(dataset_id)}/versions/")

    def dataset_push(
        self,
        path: str | Path,
        *,
        dataset: str,
        version: str,
        split: str,
        datasheet: Mapping[str, Any],
        contains_personal_data: bool,
        contains_special_category_data: bool = False,
        system_id: str | None = None,
        schema: list[Mapping[str, str]] | None = None,
        row_count: int | None = None,
        upload: bool = True,
        uri: str = "",
    ) -> Record:
        """Registers a file as a version of the dataset called ``dataset`` (created under
        ``system_id`` when it does not exist yet): SHA-256 and size computed here, rows
        and column types read from a CSV unless given, the file uploaded (streamed)
        unless ``upload`` is false."""
        from audit_client.files import csv_profile

        path = Path(path)
        if not path.is_file():
            raise ClientError(f"No such file: {path}")
        found = self.dataset_named(dataset, system_id=system_id)
        if found is None:
            if system_id is None:
                raise ClientError(
                    f"No dataset is called {dataset!r}; give the system id to create it."
                )
            found = self.dataset_create(system_id=system_id, name=dataset)
        if schema is None or row_count is None:
            if path.suffix.lower() != ".csv":
                raise ClientError(
                    f"Give the schema and row count of {path.name}: only CSV files are read here."
                )
            counted, inferred = csv_profile(path)
            schema = inferred if schema is None else schema
            row_count = counted if row_count is None else row_count
        if upload:
            artifact = self.upload(path)
            sha256, size = artifact["sha256"], artifact["size_bytes"]
        else:
            sha256, size = sha256_file(path, show_progress=self.show_progress)
        return self.dataset_version_register(
            dataset_id=found["id"],
            version=version,
            sha256=sha256,
            size_bytes=size,
            row_count=row_count,
            schema=schema,
            split=split,
            datasheet=datasheet,
            contains_personal_data=contains_personal_data,
            contains_special_category_data=contains_special_category_data,
            uri=uri,
            artifact_sha256=sha256 if upload else None,
        )

    # --- models --------------------------------------------------------------------------

    def model_create(
        self,
        *,
        system_id: str,
        name: str,
        description: str = "",
        idempotency_key: str | None = None,
    ) -> Record:
        return self._post(
            "models/",
            {"system_id": _id(system_id), "name": name, "description": description},
            key=idempotency_key,
        )

    def models(self, *, system_id: str | None = None) -> list[Record]:
        return self._list("models/", system=system_id)

    def model_version_register(
        self,
        *,
        model_id: str,
        version: str,
        artifact_format: str,
        framework: str,
        framework_version: str,
        artifact: str | Path | None = None,
        artifact_sha256: str | None = None,
        training_run_id: str | None = None,
        metrics: Mapping[str, float] | None = None,
        dataset_version_ids: Iterable[str] = (),
        uri: str = "",
        idempotency_key: str | None = None,
    ) -> Record:
        """Registers a model version. Give ``artifact`` (a file: uploaded, so the server
        can load and check it) or only its ``artifact_sha256``."""
        if (artifact is None) == (artifact_sha256 is None):
            raise ClientError("Give the artifact file or its artifact_sha256, not both.")
        metrics = finite_metrics(metrics or {})  # before a long upload
        if artifact is not None:
            artifact_sha256 = self.upload(artifact)["sha256"]
        return self._post(
            f"models/{_id(model_id)}/versions/",
            {
                "version": version,
                "artifact_sha256": artifact_sha256,
                "artifact_format": artifact_format,
                "framework": framework,
                "framework_version": framework_version,
                "training_run_id": _id(training_run_id) if training_run_id else None,
                "metrics": metrics,
                "dataset_version_ids": [_id(v) for v in dataset_version_ids],
                "uri": uri,
                "uploaded": artifact is not None,
            },
            key=idempotency_key,
        )

    def model_versions(self, model_id: str) -> list[Record]:
        return self._list(f"models/{_id(model_id)}/versions/")

    def model_version(self, model_id: str, version_id: str) -> Record:
        return self._get(f"models/{_id(model_id)}/versions/{_id(version_id)}")

    def model_version_find(self, spec: str) -> Record:
        """A model version named ``MODEL:VERSION`` (model name or id, version label or
        id), as the CLI takes it."""
        model_ref, sep, version_ref = spec.rpartition(":")
        if not sep or not model_ref or not version_ref:
            raise ClientError(f"Name the model version as MODEL:VERSION, not {spec!r}.")
        models = [m for m in self.models() if model_ref in (m["name"], _id(m["id"]))]
        if len(models) != 1:
            raise ClientError(
                f"{len(models)} models match {model_ref!r}; use the model's id to choose one."
                if models
                else f"No model is called {model_ref!r}."
            )
        versions = [
            v
            for v in self.model_versions(models[0]["id"])
            if version_ref in (v["version"], _id(v["id"]))
        ]
        if len(versions) != 1:
            raise ClientError(f"No single version {version_ref!r} of model {model_ref!r}.")
        return versions[0]

    # --- training runs ----------------------------------------------------------------

    def training_run_start(
        self,
        *,
        system_id: str,
        model_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        dataset_version_ids: Iterable[str] = (),
        capture_environment: bool = True,
        environment: Mapping[str, Any] | None = None,
        hardware: Mapping[str, Any] | None = None,
        code_revision: str | None = None,
        project: str | Path | None = None,
        idempotency_key: str | None = None,
    ) -> Record:
        """Records a run's start. With ``capture_environment`` (the default) the
        Python version, packages, lock-file digests, git commit and dirty flag,
        container image digest and CPU/GPU are captured from here and ``project``
        (default: the working directory); what the caller passes wins."""
        captured: dict[str, Any] = (
            env_capture.capture(project)
            if capture_environment
            else {"environment": {}, "hardware": {}, "code_revision": ""}
        )
        return self._post(
            "training-runs/",
            {
                "system_id": _id(system_id),
                "model_id": _id(model_id) if model_id else None,
                "params": dict(params or {}),
                "dataset_version_ids": [_id(v) for v in dataset_version_ids],
                "environment": {**captured["environment"], **(environment or {})},
                "hardware": {**captured["hardware"], **(hardware or {})},
                # The server takes no empty revision: none is left out.
                "code_revision": (
                    code_revision if code_revision is not None else captured["code_revision"]
                )
                or None,
            },
            key=idempotency_key,
        )

    def training_run_complete(
        self,
        run_id: str,
        *,
        metrics: Mapping[str, float],
        energy_joules: float | None = None,
        hardware: Mapping[str, Any] | None = None,
    ) -> Record:
        # A run completes once: the key names the run, so a re-sent completion (a
        # retried pipeline step) is answered with the first one.
        return self._post(
            f"training-runs/{_id(run_id)}/complete",
            {
                "metrics": finite_metrics(metrics),
                "energy_joules": energy_joules,
                "hardware": dict(hardware) if hardware else None,
            },
            key=f"training-run-{_id(run_id)}-complete",
        )

    def training_run_fail(self, run_id: str, *, reason: str) -> Record:
        return self._post(
            f"training-runs/{_id(run_id)}/fail",
            {"reason": reason},
            key=f"training-run-{_id(run_id)}-fail",
        )

    def training_run_abandon(self, run_id: str, *, reason: str) -> Record:
        return self._post(
            f"training-runs/{_id(run_id)}/abandon",
            {"reason": reason},
            key=f"training-run-{_id(run_id)}-abandon",
        )

    def training_run_get(self, run_id: str) -> Record:
        return self._get(f"training-runs/{_id(run_id)}")

    def training_run(self, *, system_id: str, **start: Any) -> TrainingRun:
        """A context manager for a run: started on entry; completed on a clean exit
        with the metrics given to ``log_metrics``; failed with the exception's type and
        message when the block raises (the exception still propagates)."""
        return TrainingRun(self, system_id=system_id, start=start)

    # --- deployments ----------------------------------------------------------------

    def deployment_create(
        self,
        *,
        system_id: str,
        environment: str,
        resources: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Record:
        return self._post(
            "deployments/",
            {
                "system_id": _id(system_id),
                "environment": environment,
                "resources": dict(resources or {}),
            },
            key=idempotency_key,
        )

    def deployment_get(self, deployment_id: str) -> Record:
        return self._get(f"deployments/{_id(deployment_id)}")

    def deployment_activate(
        self,
        deployment_id: str,
        *,
        model_version_id: str,
        reason: str = "",
        idempotency_key: str | None = None,
    ) -> Record:
        return self._post(
            f"deployments/{_id(deployment_id)}/activate",
            {"model_version_id": _id(model_version_id), "reason": reason},
            key=idempotency_key,
        )

    def deployment_rollback(
        self, deployment_id: str, *, reason: str, idempotency_key: str | None = None
    ) -> Record:
        return self._post(
            f"deployments/{_id(deployment_id)}/rollback", {"reason": reason}, key=idempotency_key
        )

    def deployment_history(self, deployment_id: str) -> list[Record]:
        return self._get(f"deployments/{_id(deployment_id)}/history")

    # --- the deployment gate ----------------------------------------------------------

    def gate(self, *, deployment_id: str, model_version_id: str) -> Record:
        """The deployment gate's verdict on serving the version on the deployment:
        ``{"allowed": bool, "conditions": [{"code", "met", "message"}, ...]}``."""
        return self._get(
            f"deployments/{_id(deployment_id)}/gate", model_version=_id(model_version_id)
        )

    def gate_require(self, *, deployment_id: str, model_version_id: str) -> Record:
        """As :meth:`gate`, raising :class:`GateRefused` when any condition is unmet."""
        verdict = self.gate(deployment_id=deployment_id, model_version_id=model_version_id)
        if not verdict["allowed"]:
            unmet = [c for c in verdict["conditions"] if not c["met"]]
            raise GateRefused(
                f"{len(unmet)} condition(s) unmet: " + "; ".join(c["message"] for c in unmet),
                conditions=unmet,
            )
        return verdict

    # --- prediction batches ----------------------------------------------------------

    def prediction_batch_record(
        self,
        *,
        deployment_id: str,
        input_sha256: str,
        output_sha256: str,
        row_count: int,
        rows_root: str,
        model_version_id: str | None = None,
        window_start: str | None = None,
        window_end: str | None = None,
        ran_on: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Record:
        return self._post(
            "prediction-batches/",
            {
                "deployment_id": _id(deployment_id),
                "model_version_id": _id(model_version_id) if model_version_id else None,
                "input_sha256": input_sha256,
                "output_sha256": output_sha256,
                "row_count": row_count,
                "rows_root": rows_root,
                "window_start": window_start,
                "window_end": window_end,
                "ran_on": dict(ran_on or {}),
            },
            key=idempotency_key,
        )

    def prediction_batch_record_rows(
        self,
        *,
        deployment_id: str,
        rows: Iterable[tuple[Mapping[str, Any], Any]],
        input_sha256: str,
        output_sha256: str,
        attach_rows: bool = True,
        **fields: Any,
    ) -> Record:
        """Records a batch from its ``(input row, output)`` pairs: the row count and
        ``rows_root`` are computed here by the ledger's own rules (docs/formats.md §7).
        With ``attach_rows`` (the default) every row's leaf goes to the service as the
        batch's rows file, so it serves each decision's row receipt; the service
        recomputes the root from the file, and an answer that disagrees raises
        :class:`DigestMismatch`."""
        with tempfile.TemporaryDirectory(prefix="audit-client-rows-") as workdir:
            rows_path = Path(workdir) / "rows.jsonl"
            count, root = write_rows_file(rows, rows_path)
            batch = self.prediction_batch_record(
                deployment_id=deployment_id,
                input_sha256=input_sha256,
                output_sha256=output_sha256,
                row_count=count,
                rows_root=root,
                **fields,
            )
            if not attach_rows:
                return batch
            return self.prediction_batch_rows_attach(
                batch["id"], rows_path, row_count=count, rows_root=root
            )

    def prediction_batch_rows_attach(
        self, batch_id: str, rows_path: str | Path, *, row_count: int, rows_root: str
    ) -> Record:
        """Uploads a recorded batch's rows file (JSON Lines, one leaf per line, as
        :func:`write_rows_file` writes it) and has the service take it; the answer must
        name the file and the ``row_count`` and ``rows_root`` computed here."""
        uploaded = self.upload(rows_path)
        batch = self._post(
            f"prediction-batches/{_id(batch_id)}/rows",
            {"rows_sha256": uploaded["sha256"]},
            key=f"prediction-batch-{_id(batch_id)}-rows-{uploaded['sha256']}",
        )
        if (
            not batch.get("rows_file_sha256")
            or batch.get("row_count") != row_count
            or batch.get("rows_root") != rows_root
        ):
            raise DigestMismatch(
                f"prediction batch {batch_id}: the service answered {batch.get('row_count')} "
                f"rows with rows_root {batch.get('rows_root')}, not the {row_count} rows with "
                f"rows_root {rows_root} computed here"
            )
        return batch

    def prediction_batch_files(
        self, batch_id: str, *, input_path: str | Path, output_path: str | Path
    ) -> Record:
        """Uploads the batch's input and output files and has the server check them
        against the digests the batch recorded."""
        inp, out = self.upload(input_path), self.upload(output_path)
        return self._post(
            f"prediction-batches/{_id(batch_id)}/files",
            {"input_sha256": inp["sha256"], "output_sha256": out["sha256"]},
            key=f"prediction-batch-{_id(batch_id)}-files-{inp['sha256']}-{out['sha256']}",
        )

    def prediction_batch_get(self, batch_id: str) -> Record:
        return self._get(f"prediction-batches/{_id(batch_id)}")

    # --- receipts and the ledger ------------------------------------------------------

    def row_receipt(self, batch_id: str, row: int) -> Record:
        """One decision's receipt (verify it offline with :func:`verify_receipt`)."""
        return self._get(f"prediction-batches/{_id(batch_id)}/rows/{int(row)}/receipt")

    def entry_proof(self, seq: int, *, size: int | None = None) -> str:
        """The C2SP tlog-proof of ledger entry ``seq`` (e.g. a write's ``ledger.seq``)."""
        return self._get(f"ledger/entries/{int(seq)}/proof", size=size)

    def verifier_keys(self) -> list[str]:
        return [line for line in self._get("ledger/keys").splitlines() if line.strip()]

    def checkpoint(self) -> str:
        return self._get("ledger/checkpoint")

    def export_bundle(self, dest: str | Path, *, size: int | None = None) -> Path:
        """Downloads the ledger's export bundle (ZIP) to ``dest``, streamed."""
        params = {"size": size} if size is not None else {}
        return self._download("ledger/export", Path(dest), **params)

    # --- reports ------------------------------------------------------------------------

    def report_request(
        self, *, kind: str, idempotency_key: str | None = None, **fields: Any
    ) -> Record:
        """Asks for a report (``kind`` and its fields, docs/reports.md)."""
        body = {k: _id(v) if k.endswith("_id") else v for k, v in fields.items()}
        return self._post("reports/", {"kind": kind, **body}, key=idempotency_key)

    def report_get(self, report_id: str) -> Record:
        return self._get(f"reports/{_id(report_id)}")

    def report_wait(self, report_id: str, *, timeout: float = 600.0) -> Record:
        """Waits until the report is rendered (or failed) and returns it."""
        return self._wait(
            lambda: self.report_get(report_id),
            done=lambda r: r["status"] not in ("queued", "running"),
            what=f"report {report_id}",
            timeout=timeout,
        )

    def report_download(self, report_id: str, dest: str | Path) -> Path:
        return self._download(f"reports/{_id(report_id)}/pdf", Path(dest))

    def report_proof(self, report_id: str) -> str:
        """The tlog-proof of the report's ``report.generated`` entry, which records the
        PDF's SHA-256: with it, :func:`audit_client.offline.verify_report` checks the
        PDF offline."""
        report = self.report_get(report_id)
        if report.get("ledger_seq") is None:
            raise ClientError(f"Report {report_id} is {report['status']}: it has no PDF yet.")
        return self.entry_proof(report["ledger_seq"])

    def report_verify(self, path: str | Path) -> Record:
        """Asks the server whether this PDF is one of its reports (by SHA-256)."""
        sha256, _ = sha256_file(Path(path))
        return self._post("reports/verify", {"sha256": sha256})

    # --- queued work ------------------------------------------------------------------

    def task(self, task_id: str) -> Record:
        return self._get(f"tasks/{_id(task_id)}")

    def task_wait(self, task_id: str, *, timeout: float = 600.0) -> Record:
        return self._wait(
            lambda: self.task(task_id),
            done=lambda t: t["state"] in ("succeeded", "failed"),
            what=f"task {task_id}",
            timeout=timeout,
            percent=lambda t: t.get("percent"),
        )

    def _wait(
        self,
        read: Callable[[], Record],
        *,
        done: Callable[[Record], bool],
        what: str,
        timeout: float,
        percent: Callable[[Record], Any] | None = None,
    ) -> Record:
        deadline = time.monotonic() + timeout
        shown = 0
        with progress(100 if percent else None, what, enabled=self.show_progress) as bar:
            while True:
                record = read()
                if percent and isinstance(now := percent(record), int | float):
                    bar.update(int(now) - shown)
                    shown = int(now)
                if done(record):
                    return record
                if time.monotonic() > deadline:
                    raise ClientError(f"Gave up waiting for {what} after {timeout:.0f} s.")
                time.sleep(POLL_INTERVAL_S)

    # --- reproducing a model version ----------------------------------------------------

    def reproduce(self, spec: str) -> Record:
        """Everything recorded about how model version ``MODEL:VERSION`` was made: the
        artifact (digest, format, framework), the training run's code revision,
        parameters, environment and hardware, and each dataset version with its
        digest."""
        version = self.model_version_find(spec)
        run = self.training_run_get(version["training_run"]) if version["training_run"] else None
        run_datasets = run["dataset_versions"] if run else []
        wanted = {_id(v) for v in [*version["dataset_versions"], *run_datasets]}
        datasets = []
        if wanted:
            for dataset in self.datasets():
                for dv in self.dataset_versions(dataset["id"]):
                    if _id(dv["id"]) in wanted:
                        datasets.append({"dataset": dataset["name"], **_pick(dv, _DV_FIELDS)})
        return {
            "model_version": _pick(version, _MV_FIELDS),
            "training_run": _pick(run, _RUN_FIELDS) if run else None,
            "dataset_versions": datasets,
        }

    def reproduce_fetch(self, plan: Mapping[str, Any], dest: str | Path) -> list[Record]:
        """Downloads what :meth:`reproduce` lists into the folder ``dest``: the model
        artifact and each dataset version, each checked against its recorded SHA-256,
        and ``reproduce.json`` (the plan) beside them. One record per file: ``path``,
        or None with the ``reason`` when the service holds only its digest and URI."""
        folder = Path(dest)
        folder.mkdir(parents=True, exist_ok=True)
        mv = plan["model_version"]
        wanted = [(f"model version {mv['version']}", mv["artifact_sha256"], mv["uri"])]
        wanted += [
            (f"dataset {dv['dataset']} version {dv['version']}", dv["sha256"], dv["uri"])
            for dv in plan["dataset_versions"]
        ]
        fetched = []
        for what, sha256, uri in wanted:
            target = folder / sha256
            try:
                path, reason = str(self.artifact_download(sha256, target)), None
            except NotFound:
                path = None
                reason = "the service holds its digest only" + (
                    f"; its bytes are at {uri}" if uri else " (no URI recorded)"
                )
            fetched.append({"what": what, "sha256": sha256, "path": path, "reason": reason})
        (folder / "reproduce.json").write_text(
            json.dumps({**plan, "fetched": fetched}, indent=2), encoding="utf-8"
        )
        return fetched


_MV_FIELDS = (
    "id",
    "model",
    "version",
    "artifact_sha256",
    "artifact_format",
    "framework",
    "framework_version",
    "uri",
    "metrics",
)
_RUN_FIELDS = (
    "id",
    "status",
    "code_revision",
    "params",
    "environment",
    "hardware",
    "started_at",
    "finished_at",
)
_DV_FIELDS = ("id", "version", "sha256", "size_bytes", "row_count", "uri", "split")


def _pick(record: Mapping[str, Any], names: Iterable[str]) -> Record:
    return {n: record.get(n) for n in names}


def write_rows_file(rows: Iterable[tuple[Mapping[str, Any], Any]], path: Path) -> tuple[int, str]:
    """Writes every row's leaf (ledger format §7), one a line, to ``path``, the rows file
    the service takes for a batch; returns the row count and ``rows_root``."""
    tree = RowsTree()
    with path.open("wb") as f:
        for row_input, output in rows:
            f.write(tree.add(row_input=row_input, output=output) + b"\n")
    return tree.rows, tree.root_hex()


def rows_root(rows: Iterable[tuple[Mapping[str, Any], Any]]) -> tuple[int, str]:
    """Row count and ``rows_root`` of ``(input row, output)`` pairs, by the ledger's
    rules (docs/formats.md §7): the same code the server's workers use."""
    tree = RowsTree()
    for row_input, output in rows:
        tree.add(row_input=row_input, output=output)
    return tree.rows, tree.root_hex()


def _api_error(response: httpx.Response) -> ApiError:
    """The typed error for an error answer, from the API's ``{"error": {...}}`` shape
    (or the status line when the body is not ours, e.g. a proxy's page)."""
    try:
        body = response.json()
        error = body["error"]
        message, code = error["message"], error.get("code", "")
        fields, request_id = error.get("fields") or {}, error.get("request_id")
    except (ValueError, KeyError, TypeError):
        body, code, fields, request_id = None, "", {}, None
        message = response.reason_phrase or "error"
    return error_for_status(response.status_code)(
        message,
        status=response.status_code,
        code=code,
        fields=fields,
        request_id=request_id,
        body=body,
    )


class TrainingRun:
    """See :meth:`Client.training_run`. Inside the block, ``run.id`` is the run's id
    and ``run.record`` the server's record."""

    def __init__(self, client: Client, *, system_id: str, start: Mapping[str, Any]) -> None:
        self._client = client
        self._system_id = system_id
        self._start = dict(start)
        self.metrics: dict[str, float] = {}
        self.energy_joules: float | None = None
        self.record: Record = {}

    @property
    def id(self) -> str:
        return _id(self.record["id"])

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        """Adds metrics for the completion; one that is not a finite number raises
        :class:`InvalidValue` here, where the training code can still fix it."""
        self.metrics.update(finite_metrics(metrics))

    def __enter__(self) -> TrainingRun:
        self.record = self._client.training_run_start(system_id=self._system_id, **self._start)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if exc is None:
            self.record = self._client.training_run_complete(
                self.id, metrics=self.metrics, energy_joules=self.energy_joules
            )
            return
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        with contextlib.suppress(ClientError):
            # The training error is what the caller needs to see; a failure to record it
            # must not replace it (the run stays "running" on the server, visibly).
            self.record = self._client.training_run_fail(self.id, reason=reason[:10000])


def iter_jsonl(path: Path) -> Iterator[Any]:
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise ClientError(f"{path}:{number}: not JSON ({exc})") from None
