"""Reading KServe's inference logger: CloudEvents 1.0 over HTTP, and the inference
protocols inside them.

What the logger sends (kserve ``pkg/logger``, ``handler.go`` and ``worker.go``): one
event for the request and one for the response of each inference, in CloudEvents'
*binary* content mode (``ce-*`` headers, the body as the model server got or gave
it, with the request's ``Content-Type``). Both carry the same ``ce-id`` (the caller's
``Ce-Id`` header, else a fresh UUID), ``ce-type``
``org.kubeflow.serving.inference.request`` or ``...response``, ``ce-source``,
``ce-specversion: 1.0``, ``ce-time``, and the extensions ``inferenceservicename``,
``namespace``, ``component``, ``endpoint`` (and ``metadata``, ``annotations``). A
response is logged only when the model server answered 200, so a request may never
meet its response. The *structured* mode (``application/cloudevents+json``) and the
batch mode (``application/cloudevents-batch+json``, a JSON array of structured
events) of the CloudEvents HTTP binding are read too.

Bodies are read as KServe's V1 protocol (``{"instances": [...]}`` answered by
``{"predictions": [...]}``: one decision per instance) or the Open Inference
Protocol, V2 (``{"inputs": [tensors]}`` answered by ``{"outputs": [tensors]}``: one
decision per row of the tensors' first dimension). This module is pure: no Django.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REQUEST_TYPE = "org.kubeflow.serving.inference.request"
RESPONSE_TYPE = "org.kubeflow.serving.inference.response"
KINDS = {REQUEST_TYPE: "request", RESPONSE_TYPE: "response"}
SPEC_VERSION = "1.0"
EXTENSIONS = ("inferenceservicename", "namespace", "component", "endpoint")
MAX_ID_LENGTH = 256


class EventError(ValueError):
    """An event we cannot read; the message says what to fix."""


@dataclass(frozen=True)
class Half:
    """One logged half of an inference: its id, whether it is the request or the
    response, its rows (inputs as ``{column: value}`` objects, or outputs), and where
    it came from."""

    id: str
    kind: str
    rows: list[Any]
    source: dict[str, str]


def _attribute(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise EventError(f"the CloudEvents attribute {name} is missing or empty")
    return value


def event_from_attributes(attributes: Mapping[str, Any], data: Any) -> Half:
    """A half from an event's context attributes (binary-mode headers without the
    ``ce-`` prefix, or a structured event's members) and its decoded data."""
    if attributes.get("specversion") != SPEC_VERSION:
        raise EventError(
            f"specversion must be {SPEC_VERSION!r}, got {attributes.get('specversion')!r}"
        )
    event_id = _attribute(attributes.get("id"), "id")
    if len(event_id) > MAX_ID_LENGTH:
        raise EventError(f"the id is longer than {MAX_ID_LENGTH} characters")
    _attribute(attributes.get("source"), "source")
    event_type = _attribute(attributes.get("type"), "type")
    kind = KINDS.get(event_type)
    if kind is None:
        raise EventError(f"type must be {REQUEST_TYPE!r} or {RESPONSE_TYPE!r}, got {event_type!r}")
    rows = request_rows(data) if kind == "request" else response_rows(data)
    source = {"source": attributes["source"]}
    for name in EXTENSIONS:
        value = attributes.get(name)
        if isinstance(value, str) and value:
            source[name] = value[:200]
    return Half(id=event_id, kind=kind, rows=rows, source=source)


def structured_event(event: Any) -> Half:
    """A half from one structured-mode event (a JSON object)."""
    if not isinstance(event, dict):
        raise EventError("a structured event must be a JSON object")
    if "data_base64" in event:
        raise EventError("data_base64 (binary data) cannot be read: log JSON bodies")
    content_type = event.get("datacontenttype", "application/json")
    if not isinstance(content_type, str) or not _is_json_type(content_type):
        raise EventError(f"datacontenttype must be JSON, got {content_type!r}")
    if "data" not in event:
        raise EventError("the event has no data")
    return event_from_attributes(event, event["data"])


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


# --- the inference protocols ------------------------------------------------------


def request_rows(body: Any) -> list[dict[str, Any]]:
    """Each decision's input as a ``{column: value}`` object."""
    if isinstance(body, dict) and isinstance(body.get("instances"), list):
        return [i if isinstance(i, dict) else {"instance": i} for i in body["instances"]]
    if isinstance(body, dict) and isinstance(body.get("inputs"), list):
        columns = _tensor_rows(body["inputs"], "inputs")
        count = _row_count(columns, "inputs")
        return [{name: values[i] for name, values in columns.items()} for i in range(count)]
    raise EventError(
        'a request body must hold "instances" (KServe V1) or "inputs" (Open Inference Protocol V2)'
    )


def response_rows(body: Any) -> list[Any]:
    """Each decision's output: V1's prediction, or V2's output tensor row (an object of
    the tensors' rows when there are several)."""
    if isinstance(body, dict) and isinstance(body.get("predictions"), list):
        return list(body["predictions"])
    if isinstance(body, dict) and isinstance(body.get("outputs"), list):
        columns = _tensor_rows(body["outputs"], "outputs")
        count = _row_count(columns, "outputs")
        if len(columns) == 1:
            (values,) = columns.values()
            return list(values)
        return [{name: values[i] for name, values in columns.items()} for i in range(count)]
    raise EventError(
        'a response body must hold "predictions" (KServe V1) or "outputs" (Open Inference '
        "Protocol V2)"
    )


def _row_count(columns: dict[str, list[Any]], where: str) -> int:
    counts = {len(values) for values in columns.values()}
    if len(counts) != 1:
        raise EventError(f"the {where} tensors disagree on the number of rows (first dimension)")
    return counts.pop()


def _flatten(data: Any) -> list[Any]:
    if not isinstance(data, list):
        return [data]
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat


def _tensor_rows(tensors: list[Any], where: str) -> dict[str, list[Any]]:
    """Each tensor's values split along its first dimension, by tensor name."""
    if not tensors:
        raise EventError(f"{where} holds no tensor")
    columns: dict[str, list[Any]] = {}
    for position, tensor in enumerate(tensors):
        label = f"{where}[{position}]"
        if not isinstance(tensor, dict):
            raise EventError(f"{label} must be a tensor object")
        name, shape = tensor.get("name"), tensor.get("shape")
        if not isinstance(name, str) or not name or name in columns:
            raise EventError(f"{label} needs a name of its own")
        if (
            not isinstance(shape, list)
            or not shape
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        ):
            raise EventError(f"{label}.shape must be a list of non-negative integers")
        if "data" not in tensor:
            raise EventError(f"{label} has no data (binary tensor data cannot be read)")
        flat = _flatten(tensor["data"])
        rows, width = shape[0], math.prod(shape[1:])
        if len(flat) != rows * width:
            raise EventError(
                f"{label} holds {len(flat)} values; its shape {shape} needs {rows * width}"
            )
        if len(shape) == 1:
            columns[name] = flat
        else:
            columns[name] = [flat[i * width : (i + 1) * width] for i in range(rows)]
    return columns
