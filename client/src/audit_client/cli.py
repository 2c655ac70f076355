"""``audit-client``: the client's calls for shell steps (CI jobs, Airflow Bash tasks).

URL and key come from ``$AUDIT_PLATFORM_URL`` and ``$AUDIT_PLATFORM_API_KEY``. Output is
human-readable, or JSON with ``--json``. On failure it prints one line to stderr and
exits with the code of the error (docs/client.md):

    0 done / the gate allows / verified    1 gate refused, verification failed, other
    2 usage (bad arguments)                 3 configuration (no URL or key)
    4 bad credentials or not allowed        5 payload rejected (4xx)
    6 server unreachable                    7 server error (5xx after retries)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from audit_client import offline
from audit_client.client import Client, iter_jsonl
from audit_client.errors import ClientError, GateRefused, VerificationFailed
from audit_client.files import sha256_file

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Usage(ClientError):
    exit_code = EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # main() prefixes "audit-client: "; keep the subcommand's name.
        command = self.prog.removeprefix("audit-client").strip()
        raise _Usage(f"{command}: {message}" if command else message)


def _json_arg(value: str) -> Any:
    """JSON given inline, or ``@FILE`` to read it from a file."""
    try:
        if value.startswith("@"):
            return json.loads(Path(value[1:]).read_text(encoding="utf-8"))
        return json.loads(value)
    except OSError as exc:
        raise _Usage(f"cannot read {value[1:]}: {exc.strerror}") from None
    except ValueError as exc:
        raise _Usage(f"not valid JSON: {value[:60]!r} ({exc})") from None


def _client(args: argparse.Namespace) -> Client:
    return Client(
        url=args.url,
        max_retries=args.retries,
        show_progress=not args.quiet,
    )


def _vkeys(args: argparse.Namespace) -> list[str]:
    keys = list(args.vkey or [])
    for path in args.vkey_file or []:
        try:
            keys += [k for k in Path(path).read_text().splitlines() if k.strip()]
        except OSError as exc:
            raise _Usage(f"cannot read {path}: {exc.strerror}") from None
    return keys


def _model_version_id(client: Client, spec: str) -> str:
    """``MODEL:VERSION`` (names or ids) or a bare model-version id."""
    if ":" in spec:
        return str(client.model_version_find(spec)["id"])
    return spec


# --- commands ------------------------------------------------------------------------


def cmd_dataset_push(args: argparse.Namespace) -> Any:
    datasheet = _json_arg(args.datasheet)
    schema = _json_arg(args.schema) if args.schema else None
    with _client(args) as client:
        return client.dataset_push(
            args.file,
            dataset=args.dataset,
            system_id=args.system,
            version=args.version,
            split=args.split,
            datasheet=datasheet,
            contains_personal_data=args.personal_data,
            contains_special_category_data=args.special_category_data,
            schema=schema,
            row_count=args.rows,
            upload=not args.no_upload,
            uri=args.uri,
        )


def cmd_run_start(args: argparse.Namespace) -> Any:
    params = _json_arg(args.params) if args.params else None
    with _client(args) as client:
        return client.training_run_start(
            system_id=args.system,
            model_id=args.model,
            params=params,
            dataset_version_ids=args.dataset_version or (),
            capture_environment=not args.no_environment,
        )


def cmd_run_finish(args: argparse.Namespace) -> Any:
    metrics = _json_arg(args.metrics) if args.metrics else {}
    with _client(args) as client:
        return client.training_run_complete(
            args.run,
            metrics=metrics,
            energy_joules=args.energy_joules,
        )


def cmd_run_fail(args: argparse.Namespace) -> Any:
    with _client(args) as client:
        return client.training_run_fail(args.run, reason=args.reason)


def cmd_model_register(args: argparse.Namespace) -> Any:
    metrics = _json_arg(args.metrics) if args.metrics else None
    with _client(args) as client:
        return client.model_version_register(
            model_id=args.model,
            version=args.version,
            artifact=args.artifact,
            artifact_format=args.format,
            framework=args.framework,
            framework_version=args.framework_version,
            training_run_id=args.run,
            metrics=metrics,
            dataset_version_ids=args.dataset_version or (),
        )


def cmd_deploy_activate(args: argparse.Namespace) -> Any:
    with _client(args) as client:
        return client.deployment_activate(
            args.deployment,
            model_version_id=_model_version_id(client, args.model_version),
            reason=args.reason,
        )


def cmd_deploy_rollback(args: argparse.Namespace) -> Any:
    with _client(args) as client:
        return client.deployment_rollback(args.deployment, reason=args.reason)


def cmd_batch_record(args: argparse.Namespace) -> Any:
    inputs, outputs = Path(args.inputs), Path(args.outputs)
    for path in (inputs, outputs):
        if not path.is_file():
            raise ClientError(f"No such file: {path}")
    rows_in, rows_out = iter_jsonl(inputs), iter_jsonl(outputs)
    pairs = []
    for number, row_input in enumerate(rows_in):
        output = next(rows_out, _MISSING)
        if output is _MISSING:
            raise ClientError(f"{outputs} has fewer lines than {inputs} (stops at row {number}).")
        if not isinstance(row_input, dict):
            raise ClientError(f"{inputs}: row {number} is not a JSON object.")
        pairs.append((row_input, output))
    if next(rows_out, _MISSING) is not _MISSING:
        raise ClientError(f"{outputs} has more lines than {inputs}.")
    with _client(args) as client:
        return client.prediction_batch_record_rows(
            deployment_id=args.deployment,
            model_version_id=args.model_version,
            rows=pairs,
            input_sha256=sha256_file(inputs)[0],
            output_sha256=sha256_file(outputs)[0],
            attach_rows=not args.no_rows_file,
        )


_MISSING = object()


def cmd_receipt(args: argparse.Namespace) -> Any:
    with _client(args) as client:
        receipt = client.row_receipt(args.batch, args.row)
    return _write_or_return(args.output, json.dumps(receipt, indent=2) + "\n", receipt)


def cmd_proof(args: argparse.Namespace) -> Any:
    with _client(args) as client:
        text = client.entry_proof(args.seq, size=args.size)
    return _write_or_return(args.output, text, {"seq": args.seq, "proof": text})


def _write_or_return(output: str | None, text: str, record: Any) -> Any:
    if output:
        Path(output).write_text(text, encoding="utf-8")
        return {"written": output}
    return record


def cmd_export(args: argparse.Namespace) -> Any:
    with _client(args) as client:
        path = client.export_bundle(args.output, size=args.size)
    return {"written": str(path), "bytes": path.stat().st_size}


def cmd_report(args: argparse.Namespace) -> Any:
    fields = {}
    for item in args.field or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise _Usage(f"--field takes NAME=VALUE, not {item!r}")
        fields[name] = value
    with _client(args) as client:
        report = client.report_request(kind=args.kind, **fields)
        if args.output or args.wait:
            report = client.report_wait(report["id"])
            if report["status"] != "succeeded":
                raise ClientError(
                    f"Report {report['id']} {report['status']}: {report['failure_reason']}"
                )
        if args.output:
            client.report_download(report["id"], args.output)
            Path(args.output + ".tlog-proof").write_text(client.report_proof(report["id"]))
        return report


def cmd_verify(args: argparse.Namespace) -> Any:
    path = Path(args.file)
    vkeys = _vkeys(args)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        checkpoint = None
        if args.trusted_checkpoint:
            checkpoint = Path(args.trusted_checkpoint).read_text(encoding="utf-8")
        return offline.verify_bundle(path, trusted_vkeys=vkeys, trusted_checkpoint=checkpoint)
    if not vkeys:
        raise _Usage("give the log's verifier key with --vkey (or --vkey-file)")
    if suffix == ".json":
        row_input = _json_arg("@" + args.input) if args.input else None
        return offline.verify_receipt(path, trusted_vkeys=vkeys, row_input=row_input)
    if suffix == ".pdf":
        proof = args.proof or str(path) + ".tlog-proof"
        text = _read_text(proof)
        return offline.verify_report(path, proof=text, trusted_vkeys=vkeys)
    return offline.verify_proof(_read_text(str(path)), trusted_vkeys=vkeys, where=str(path))


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VerificationFailed(f"{path}: cannot read: {exc}") from None


def cmd_gate(args: argparse.Namespace) -> Any:
    with _client(args) as client:
        version_id = _model_version_id(client, args.model_version)
        verdict = client.gate(deployment_id=args.deployment, model_version_id=version_id)
    if args.json:
        print(json.dumps(verdict, indent=2))
    else:
        for condition in verdict["conditions"]:
            mark = "ok  " if condition["met"] else "FAIL"
            print(f"{mark} {condition['code']}: {condition['message']}")
    if not verdict["allowed"]:
        unmet = [c for c in verdict["conditions"] if not c["met"]]
        raise GateRefused(
            f"the gate refuses model version {version_id} on deployment {args.deployment}: "
            f"{len(unmet)} condition(s) unmet ({', '.join(c['code'] for c in unmet)})",
            conditions=unmet,
        )
    return None


def cmd_reproduce(args: argparse.Namespace) -> Any:
    with _client(args) as client:
        plan = client.reproduce(args.model_version)
        fetched = client.reproduce_fetch(plan, args.fetch) if args.fetch else []
    if args.json:
        print(json.dumps({**plan, "fetched": fetched} if args.fetch else plan, indent=2))
    else:
        print(_reproduce_text(plan))
        for item in fetched:
            where = item["path"] or f"NOT FETCHED: {item['reason']}"
            print(f"fetched {item['what']} sha256 {item['sha256']}: {where}")
    missing = [item["what"] for item in fetched if item["path"] is None]
    if missing:
        raise ClientError(
            f"{len(missing)} file(s) not fetched, the service holds only their digest and "
            f"URI: {', '.join(missing)}"
        )
    return None


def _reproduce_text(plan: dict[str, Any]) -> str:
    mv, run = plan["model_version"], plan["training_run"]
    lines = [
        f"model version {mv['version']} (id {mv['id']}, model {mv['model']})",
        f"  artifact   sha256 {mv['artifact_sha256']}  {mv['artifact_format']}"
        + (f"  {mv['uri']}" if mv["uri"] else ""),
        f"  framework  {mv['framework']} {mv['framework_version']}",
    ]
    if run is None:
        lines.append("  training run: none recorded")
    else:
        env = run["environment"] or {}
        git = env.get("git", {})
        lines += [
            f"training run {run['id']} ({run['status']})",
            f"  code       {run['code_revision'] or 'not recorded'}"
            + (f"  {git['remote']}" if git.get("remote") else ""),
            f"  python     {env.get('python', {}).get('version', 'not recorded')}",
            f"  params     {json.dumps(run['params'], sort_keys=True)}",
        ]
        for name, digest in sorted(env.get("lock_files", {}).items()):
            lines.append(f"  lock file  {name} sha256 {digest}")
        if env.get("container", {}).get("image_digest"):
            lines.append(f"  image      {env['container']['image_digest']}")
        hw = run["hardware"] or {}
        gpus = ", ".join(f"{g['model']} (driver {g['driver']})" for g in hw.get("gpus", []))
        lines.append(
            f"  hardware   {hw.get('cpu', 'not recorded')}" + (f"; {gpus}" if gpus else "")
        )
        packages = env.get("packages", {})
        if packages:
            lines.append(f"  packages   {len(packages)} (pip install:)")
            lines += [f"    {name}=={version}" for name, version in sorted(packages.items())]
    for dv in plan["dataset_versions"]:
        lines.append(
            f"dataset {dv['dataset']} version {dv['version']} (id {dv['id']}, {dv['split']}): "
            f"sha256 {dv['sha256']}, {dv['row_count']} rows"
            + (f", {dv['uri']}" if dv["uri"] else "")
        )
    return "\n".join(lines)


# --- the parser ----------------------------------------------------------------------


Subcommands = Any  # argparse's private _SubParsersAction


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="audit-client",
        description="Record pipeline steps on the audit platform, gate deployments, and "
        "verify its evidence offline. Server and key: $AUDIT_PLATFORM_URL, "
        "$AUDIT_PLATFORM_API_KEY.",
    )
    parser.add_argument("--url", help="the server (default $AUDIT_PLATFORM_URL)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--retries", type=int, default=4, help="retries on network errors, 5xx")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_dataset_commands(_group(sub, "dataset", "dataset versions"))
    _add_run_commands(_group(sub, "run", "training runs"))
    _add_model_commands(_group(sub, "model", "model versions"))
    _add_deploy_commands(_group(sub, "deploy", "deployments"))
    _add_batch_commands(_group(sub, "batch", "prediction batches"))
    _add_evidence_commands(sub)
    _add_verify_command(sub)
    _add_release_commands(sub)
    return parser


def _group(sub: Subcommands, name: str, help_text: str) -> Subcommands:
    p = sub.add_parser(name, help=help_text)
    return p.add_subparsers(dest=f"{name}_command", required=True, parser_class=_Parser)


def _command(
    sub: Subcommands, name: str, handler: Callable[[argparse.Namespace], Any], help_text: str
) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_text)
    p.set_defaults(handler=handler)
    return p


def _add_dataset_commands(datasets: Subcommands) -> None:
    p = _command(
        datasets, "push", cmd_dataset_push, "register a file as a dataset version (uploaded)"
    )
    p.add_argument("file")
    p.add_argument("--dataset", required=True, help="dataset name (created when new)")
    p.add_argument("--system", help="system id (to find or create the dataset under)")
    p.add_argument("--version", required=True)
    p.add_argument("--split", required=True, choices=["train", "validation", "test", "other"])
    p.add_argument("--datasheet", required=True, help="Art. 10(2) datasheet: JSON or @FILE")
    p.add_argument("--schema", help="columns as JSON or @FILE (default: read from a CSV)")
    p.add_argument("--rows", type=int, help="row count (default: counted in a CSV)")
    p.add_argument("--personal-data", action="store_true")
    p.add_argument("--special-category-data", action="store_true")
    p.add_argument("--no-upload", action="store_true", help="record the digest only")
    p.add_argument("--uri", default="")


def _add_run_commands(runs: Subcommands) -> None:
    p = _command(runs, "start", cmd_run_start, "record a run's start (environment captured)")
    p.add_argument("--system", required=True)
    p.add_argument("--model")
    p.add_argument("--params", help="JSON or @FILE")
    p.add_argument("--dataset-version", action="append")
    p.add_argument("--no-environment", action="store_true", help="do not capture it")
    p = _command(runs, "finish", cmd_run_finish, "record a run's completion with its metrics")
    p.add_argument("run")
    p.add_argument("--metrics", help="JSON or @FILE: name -> finite number")
    p.add_argument("--energy-joules", type=float)
    p = _command(runs, "fail", cmd_run_fail, "record a run's failure")
    p.add_argument("run")
    p.add_argument("--reason", required=True)


def _add_model_commands(models: Subcommands) -> None:
    p = _command(
        models, "register", cmd_model_register, "register a model version (artifact uploaded)"
    )
    p.add_argument("--model", required=True, help="model id")
    p.add_argument("--version", required=True)
    p.add_argument("--artifact", required=True, help="the model file")
    p.add_argument("--format", required=True, help="artifact format, e.g. xgboost_json, onnx")
    p.add_argument("--framework", required=True)
    p.add_argument("--framework-version", required=True)
    p.add_argument("--run", help="training run id")
    p.add_argument("--metrics", help="JSON or @FILE: name -> finite number")
    p.add_argument("--dataset-version", action="append")


def _add_deploy_commands(deploy: Subcommands) -> None:
    p = _command(deploy, "activate", cmd_deploy_activate, "serve a model version on a deployment")
    p.add_argument("deployment")
    p.add_argument("--model-version", required=True, help="MODEL:VERSION or an id")
    p.add_argument("--reason", default="")
    p = _command(deploy, "rollback", cmd_deploy_rollback, "return to the previous version")
    p.add_argument("deployment")
    p.add_argument("--reason", required=True)


def _add_batch_commands(batches: Subcommands) -> None:
    p = _command(
        batches,
        "record",
        cmd_batch_record,
        "record a batch scored elsewhere: rows_root computed here, rows file uploaded",
    )
    p.add_argument("--deployment", required=True)
    p.add_argument("--inputs", required=True, help="JSONL: one input object per row")
    p.add_argument("--outputs", required=True, help="JSONL: one output per row")
    p.add_argument("--model-version")
    p.add_argument(
        "--no-rows-file",
        action="store_true",
        help="record the digests only (the service then serves no row receipts)",
    )


def _add_evidence_commands(sub: Subcommands) -> None:
    p = _command(sub, "receipt", cmd_receipt, "fetch one decision's row receipt")
    p.add_argument("batch")
    p.add_argument("row", type=int)
    p.add_argument("-o", "--output")
    p = _command(sub, "proof", cmd_proof, "fetch the tlog-proof of one ledger entry")
    p.add_argument("seq", type=int)
    p.add_argument("--size", type=int)
    p.add_argument("-o", "--output")
    p = _command(sub, "export", cmd_export, "download the ledger's export bundle")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--size", type=int)
    p = _command(sub, "report", cmd_report, "request a report (and download it)")
    p.add_argument("kind")
    p.add_argument("--field", action="append", help="NAME=VALUE, e.g. system_id=ID")
    p.add_argument("--wait", action="store_true")
    p.add_argument("-o", "--output", help="download the PDF here (and its proof beside it)")


def _add_verify_command(sub: Subcommands) -> None:
    p = _command(
        sub,
        "verify",
        cmd_verify,
        "verify offline: bundle .zip, receipt .json, report .pdf, or a tlog-proof",
    )
    p.add_argument("file")
    p.add_argument("--vkey", action="append", help="a trusted verifier key")
    p.add_argument("--vkey-file", action="append", help="trusted keys, one per line")
    p.add_argument("--trusted-checkpoint", help="bundles: a checkpoint obtained earlier")
    p.add_argument("--input", help="receipts: the row's input (JSON) to check its digest")
    p.add_argument("--proof", help="reports: the entry's tlog-proof (default FILE.tlog-proof)")


def _add_release_commands(sub: Subcommands) -> None:
    p = _command(sub, "gate", cmd_gate, "may this model version serve on this deployment?")
    p.add_argument("model_version", help="MODEL:VERSION or a model-version id")
    p.add_argument("--deployment", required=True)
    p = _command(sub, "reproduce", cmd_reproduce, "everything needed to rebuild a version")
    p.add_argument("model_version", help="MODEL:VERSION")
    p.add_argument(
        "--fetch",
        metavar="DIR",
        help="download the artifact and dataset files into DIR, checking their SHA-256",
    )


def _print_result(result: Any, *, as_json: bool) -> None:
    if result is None:
        return
    if isinstance(result, list) and all(isinstance(line, str) for line in result):
        print("\n".join(result))
    elif as_json or not isinstance(result, dict):
        print(json.dumps(result, indent=2, default=str))
    else:
        # One line a shell step can read: the record's id, then its receipt if any.
        ledger = result.get("ledger") or {}
        parts = [f"{k}={result[k]}" for k in ("id", "status", "written") if k in result]
        if ledger:
            parts.append(f"ledger_seq={ledger['seq']}")
        print(" ".join(parts) if parts else json.dumps(result, default=str))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status and never shows a traceback."""
    try:
        args = build_parser().parse_args(argv)
        result = args.handler(args)
        _print_result(result, as_json=args.json)
        return 0
    except ClientError as exc:
        print(f"audit-client: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("audit-client: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # our bug: still one line, with what to report
        print(f"audit-client: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
