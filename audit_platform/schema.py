"""OpenAPI generation. Kept apart from audit_platform.api, which DRF imports while
its own generics module is still loading.

What the generated schema says beyond drf-spectacular's defaults, for every view:
the list filters a ``RecordListView`` declares, with their types; pagination only
where the view paginates; and every error status the API answers with, in the one
error shape (the ``Error`` component).
"""

from __future__ import annotations

from typing import Any

from django.db.models import IntegerField, UUIDField
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from audit_platform.parsers import MAX_SAFE_INTEGER

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Any JSON value, spelled out (an empty schema ``{}`` tells a reader nothing).
JSON_VALUE: dict[str, Any] = {
    "oneOf": [
        {"type": "string"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "object", "additionalProperties": True},
        {"type": "array", "items": {"type": "object", "additionalProperties": True}},
    ]
}


def documented(field_class: type[serializers.Field], schema: dict[str, Any]) -> Any:
    """``field_class`` (a JSONField or DictField), documented with ``schema``: what the
    service that receives the value accepts, which the bare field cannot say."""
    name = f"Documented{field_class.__name__}"
    return extend_schema_field(schema)(type(name, (field_class,), {}))


def free_object(description: str, example: dict[str, Any]) -> dict[str, Any]:
    """An object whose keys the caller chooses (a pipeline's own names)."""
    return {
        "type": "object",
        "additionalProperties": True,
        "description": description,
        "example": example,
    }


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable, machine-readable reason: invalid, malformed_body, not_found, "
        "not_authenticated, authentication_failed, permission_denied, forbidden, conflict, "
        "throttled, unsupported_media_type, body_too_large, ..."
    )
    message = serializers.CharField(help_text="What went wrong and what to change, for people.")
    fields = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Per input field (or query parameter, or JSON path in the body): "
        "what is wrong with it. Present when the problem lies in named input.",
    )
    request_id = serializers.CharField(
        help_text="The request's id (the X-Request-ID header); quote it in a report."
    )


class ErrorOut(serializers.Serializer):
    """Every refusal and failure of the API has this shape."""

    error = ErrorDetail()

    class Meta:
        ref_name = "Error"


class LedgerReceiptOut(serializers.Serializer):
    """The ledger entry that records a write: check it later with a proof."""

    seq = serializers.IntegerField(help_text="The entry's sequence number in your ledger.")
    leaf_hash = serializers.CharField(help_text="The entry's leaf hash (hex SHA-256).")
    checkpoint_size = serializers.IntegerField(
        help_text="The size of the first signed checkpoint that includes the entry."
    )

    class Meta:
        ref_name = "LedgerReceipt"


# Status -> (which operations answer with it, what it means to the caller).
ERROR_STATUSES: dict[int, tuple[str, str]] = {
    400: (
        "all",
        "The request is malformed or its input is invalid (body, query parameters or "
        "headers): `error.fields` names each place to fix. Nothing was written.",
    ),
    401: ("all", "No valid credentials: send `Authorization: Bearer <API key>`."),
    403: (
        "all",
        "The credentials are valid but may not do this (the role lacks the capability, "
        "or a rule about who may act forbids it). Nothing was written.",
    ),
    404: (
        "all",
        "No such record in your organization (records of other organizations read as "
        "missing), or a page number past the last page.",
    ),
    409: (
        "record",
        "The record's current state forbids this change (a lifecycle or compliance "
        "rule, named in the message). Nothing was written.",
    ),
    415: ("body", "The body's Content-Type is not one this operation accepts."),
    422: (
        "write",
        "The Idempotency-Key was already used for a different request. Nothing was written.",
    ),
    429: ("all", "Too many requests for these credentials: retry after `Retry-After` seconds."),
}


def _markdown(doc: str) -> str:
    """A docstring as one Markdown paragraph (reST ``code`` becomes `code`)."""
    return " ".join(doc.replace("``", "`").split())


# What operations that neither list, read nor create one record do, for API users;
# keyed by "METHOD path" as the schema writes the path.
OPERATION_DESCRIPTIONS: dict[str, str] = {
    "GET /api/v1/organization": "The organization your credentials act for, and the "
    "origin line of its ledger (the name its signed checkpoints carry).",
    "GET /api/v1/api-keys/": "The organization's API keys, one page at a time: name, "
    "role, prefix, when each was last used and whether it is revoked. Never the key.",
    "POST /api/v1/api-keys/": "Creates an API key with a role. The key itself is in "
    "this answer only (`key`); store it now. Needs an owner.",
    "POST /api/v1/api-keys/{id}/revoke": "Revokes an API key at once: requests with it "
    "get 401 from now on. Revoking a revoked key is refused (409).",
    "POST /api/v1/invitations/{id}/revoke": "Revokes an invitation that was not "
    "accepted yet: its link stops working at once.",
    "GET /api/v1/memberships/": "The people of the organization and their roles, one "
    "page at a time.",
    "POST /api/v1/memberships/": "Gives a person a role in the organization.",
    "GET /api/v1/memberships/{id}": "One membership: the person and their role.",
    "DELETE /api/v1/memberships/{id}": "Ends a membership; the answer carries the "
    "ledger receipt of the entry that records it.",
    "GET /api/v1/tasks/{id}": "A background job's progress: its state, percent and "
    "message, its attempts, and links to its results once finished. Poll it after a 202.",
    "POST /api/v1/training-runs/{id}/complete": "Marks a running training run "
    "completed, with its final metrics (and energy used, hardware).",
    "POST /api/v1/training-runs/{id}/fail": "Marks a running training run failed, with the reason.",
    "POST /api/v1/training-runs/{id}/abandon": "Marks a running training run "
    "abandoned (stopped on purpose), with the reason.",
    "POST /api/v1/deployments/{id}/activate": "Makes the deployment serve a model "
    "version. A high-risk system's version needs an approved approval request first; "
    "the rule that refuses it is named in the 403 or 409.",
    "POST /api/v1/deployments/{id}/rollback": "Makes the deployment serve the version "
    "it served before the current one, with the reason.",
    "GET /api/v1/deployments/{id}/history": "Every change of what the deployment "
    "served (activations, rollbacks, stops), oldest first, each with its ledger "
    "sequence number. The whole history in one array (not paginated).",
    "GET /api/v1/deployments/{id}/served-at": "The model version the deployment "
    "served at the instant `at` (ISO 8601), or null if it served none.",
    "POST /api/v1/approvals/{id}/decide": "Approves or rejects an open approval "
    "request. Only a person who is an owner or compliance officer, other than the "
    "requester, may decide; the rule that refuses a decision is named in the message.",
    "PATCH /api/v1/risks/{id}": "Changes a risk's entry in the register; send only the "
    "fields that change. Each change is a new revision on the ledger.",
    "GET /api/v1/systems/{id}/obligations": "The AI Act obligations that apply to the "
    "system under its latest classification, each with its legal source, the date it "
    "applies from, its status and the evidence on record.",
    "POST /api/v1/incidents/{id}/reports": "Adds a report (initial, follow-up or "
    "final) to an incident; the answer is the incident with all its reports.",
    "POST /api/v1/incidents/{id}/authority-informed": "Records when the market "
    "surveillance authority was informed of the incident; changes to the system are "
    "refused until then.",
    "POST /api/v1/incidents/{id}/close": "Closes an incident. Needs no body.",
    "PATCH /api/v1/incidents/{id}": "Records facts of the Commission's reporting "
    "template on an incident as they become known (member state, receiving authority, "
    "when it occurred, harm category, parallel regimes); send only what is new.",
    "POST /api/v1/monitoring/alerts/{id}/acknowledge": "Acknowledges an alert with a "
    "note: someone is looking into it.",
    "POST /api/v1/monitoring/alerts/{id}/resolve": "Resolves an alert with a note "
    "saying what was done.",
    "GET /api/v1/reports/{id}/pdf": "The report's signed PDF. Refused (409) until the "
    "report has succeeded. `X-Content-SHA256` carries the file's digest.",
    "POST /api/v1/reports/verify": "Checks a PDF (multipart `file`, a raw "
    "`application/pdf` body, or its `sha256`) against the reports this organization "
    "issued: whether it is one of them, unchanged, and where its ledger entry is.",
    "GET /api/v1/ledger/checkpoint": "The latest signed checkpoint of the "
    "organization's ledger, as a signed note (text): origin, size and root hash.",
    "GET /api/v1/ledger/checkpoints/{size}": "The signed checkpoint of the ledger at "
    "this size, as a signed note (text).",
    "GET /api/v1/ledger/keys": "The keys that verify the ledger's checkpoint "
    "signatures, one verifier key per line.",
    "GET /api/v1/ledger/entries": "The ledger's entries, one page at a time, each "
    "with its body (parsed and base64) and leaf hash; filter by sequence range, type, "
    "subject, actor and time.",
    "GET /api/v1/ledger/entries/{seq}/proof": "The inclusion proof of one entry, as "
    "text for the offline verifier, in the latest checkpoint or the one of `size`.",
    "GET /api/v1/ledger/proofs/inclusion": "The inclusion proof (base64 hashes) of "
    "the leaf at `index` in the tree of `size` leaves.",
    "GET /api/v1/ledger/proofs/consistency": "The consistency proof (base64 hashes) "
    "between the trees of `old` and `new` leaves: the newer contains the older.",
    "GET /api/v1/ledger/export": "The ledger as a zip bundle for offline verification: "
    "entries, checkpoint(s) and verifier keys, up to `size` entries.",
    "POST /api/v1/ledger/verify": "Queues a full verification of the ledger (every "
    "entry, hash and signature) and answers 202 with the task to poll.",
}


class Schema(AutoSchema):
    """Knows our list views (``list_view = True`` on the view), so their GET is
    documented as a paginated list, not a retrieve, with their filters; documents every
    error status in the one error shape."""

    def _is_list_view(self, serializer: Any = None) -> bool:
        if getattr(self.view, "list_view", False) and self.method == "GET":
            return True
        return super()._is_list_view(serializer)

    def _get_paginator(self) -> Any:
        # Only list views paginate; other views that answer with an array send it whole.
        if getattr(self.view, "list_view", False) and self.method == "GET":
            return super()._get_paginator()
        return None

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "GET" and getattr(self.view, "filters", None):
            parameters.extend(self._filter_parameters())
        return parameters

    def _filter_parameters(self) -> list[OpenApiParameter]:
        from audit_platform.views import filter_field

        model = self.view.model
        noun = str(model._meta.verbose_name_plural)
        out = []
        for param, lookup in self.view.filters.items():
            field = filter_field(model, lookup)
            if field.choices:
                schema: dict[str, Any] = {
                    "type": "string",
                    "enum": [str(value) for value, _ in field.flatchoices],
                }
            elif isinstance(field, IntegerField):
                schema = {"type": "integer", "minimum": 0, "maximum": MAX_SAFE_INTEGER}
            elif isinstance(field, UUIDField):
                schema = {"type": "string", "format": "uuid"}
            else:
                schema = {"type": "string"}
                if field.max_length:
                    schema["maxLength"] = field.max_length
            target = "id" if lookup.endswith("_id") else "value"
            out.append(
                OpenApiParameter(
                    param,
                    schema,
                    OpenApiParameter.QUERY,
                    description=f"Only {noun} whose {param} {target} is this.",
                )
            )
        return out

    def get_description(self) -> str:
        """For API users: the view's own docstring (or its handler's) where it has one,
        the catalogue's text for an operation on one record, else a sentence made from
        the kind of view (list, read, create)."""
        handler = getattr(self.view, self.method.lower(), None)
        for doc in (getattr(handler, "__doc__", None), type(self.view).__dict__.get("__doc__")):
            if doc:
                return _markdown(doc)
        text = OPERATION_DESCRIPTIONS.get(f"{self.method} {self.path}")
        if text:
            return text
        return self._generated_description()

    def _generated_description(self) -> str:
        from audit_platform.views import RecordDetailView, RecordListView

        model = getattr(self.view, "model", None)
        if model is None:
            return ""
        one, many = model._meta.verbose_name, model._meta.verbose_name_plural
        if isinstance(self.view, RecordListView) and self.method == "GET":
            filters = ", ".join(f"`{name}`" for name in self.view.filters)
            narrowed = f" Narrow the list with {filters}." if filters else ""
            return (
                f"The {many} of your organization, one page at a time (`page`, and "
                f"`page_size` up to 500).{narrowed}"
            )
        if isinstance(self.view, RecordListView) and self.method == "POST":
            return (
                f"Records a new {one}. The answer is the {one} as stored, with `ledger`: "
                "the receipt (sequence number, leaf hash, checkpoint size) of the ledger "
                "entry that records it."
            )
        if isinstance(self.view, RecordDetailView) and self.method == "GET":
            return f"One {one} of your organization, by its id."
        return ""

    def _add_receipts(self, responses: dict[str, Any]) -> None:
        """A write's answer carries ``ledger``, the receipt of the entry recording it
        (``receipt_response``); null for the statuses in ``unrecorded_statuses``."""
        receipt = self.resolve_serializer(LedgerReceiptOut, "response").ref
        unrecorded = {str(code) for code in getattr(self.view, "unrecorded_statuses", ())}
        for code, response in responses.items():
            if not code.startswith("2"):
                continue
            ledger = {**receipt} if code not in unrecorded else {"allOf": [receipt]}
            if code in unrecorded:
                ledger["nullable"] = True
                ledger["description"] = "Null: nothing new was recorded."
            part = {"type": "object", "properties": {"ledger": ledger}, "required": ["ledger"]}
            content = response.setdefault("content", {})
            body = content.get("application/json")
            if body is None:
                content["application/json"] = {"schema": part}
            else:
                body["schema"] = {"allOf": [body["schema"], part]}

    def _get_serializer_field_meta(self, field: Any, direction: str) -> dict[str, Any]:
        meta = super()._get_serializer_field_meta(field, direction)
        # An answer's field that falls back to None (``source="owner.email",
        # default=None``) is null whenever its source is missing.
        if direction == "response" and getattr(field, "default", empty) is None:
            meta["nullable"] = True
        return meta

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        applies = {"all": True, "write": self.method in WRITE_METHODS}
        # Reading one record (a download) may also meet a state that forbids it.
        applies["record"] = applies["write"] or "{" in self.path
        applies["body"] = applies["write"] and self.get_request_serializer() is not None
        if self.method in WRITE_METHODS and getattr(self.view, "answers_with_receipt", True):
            self._add_receipts(responses)
        for status, (which, description) in ERROR_STATUSES.items():
            if applies[which] and str(status) not in responses:
                response = self._get_response_for_code(ErrorOut, str(status))
                responses[str(status)] = {**response, "description": description}
        return responses
