"""OpenAPI generation. Kept apart from audit_platform.api, which DRF imports while
its own generics module is still loading.

What the generated schema says beyond drf-spectacular's defaults, for every view:
the list filters a ``RecordListView`` declares, with their types; pagination only
where the view paginates; and every error status the API answers with, in the one
error shape (the ``Error`` component).
"""

from __future__ import annotations

from typing import Any

from django.db.models import IntegerField
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.fields import empty

from audit_platform.parsers import MAX_SAFE_INTEGER

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


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
        for status, (which, description) in ERROR_STATUSES.items():
            if applies[which] and str(status) not in responses:
                response = self._get_response_for_code(ErrorOut, str(status))
                responses[str(status)] = {**response, "description": description}
        return responses
