"""REST plumbing shared by every app: one error format, pagination, strict serializers."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from audit_platform.errors import ServiceError
from audit_platform.middleware import current_request_id

logger = logging.getLogger(__name__)

_CODES = {
    exceptions.ParseError: "malformed_body",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def error_response(
    *,
    status: int,
    code: str,
    message: str,
    fields: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "error": {"code": code, "message": message, "request_id": current_request_id()}
    }
    if fields:
        body["error"]["fields"] = dict(fields)
    return Response(body, status=status, headers=headers)


def _field_message(fields: Mapping[str, Any]) -> str:
    names = ", ".join(sorted(str(name) for name in fields))
    return f"Invalid input in: {names}."


def _unstorable(exc: DataError) -> Response:
    """A value the database cannot store that no serializer bounded (a number out of a
    column's range): the statement failed, and its transaction rolled back."""
    logger.warning("Refused a value the database cannot store: %s", exc)
    problem = str(exc).splitlines()[0] if str(exc) else "out of range"
    return error_response(
        status=400,
        code="out_of_range",
        message=f"A value you sent cannot be stored ({problem}): check the size of the "
        "numbers in the request.",
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turns every error a caller can cause into ``{"error": {code, message, fields?}}``."""
    if isinstance(exc, ServiceError):
        return error_response(
            status=exc.status, code=exc.code, message=exc.message, fields=exc.fields or None
        )
    if isinstance(exc, RequestDataTooBig):
        from django.conf import settings

        return error_response(
            status=400,
            code="body_too_large",
            message=(
                f"The request body is larger than the limit of "
                f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes (API_MAX_BODY_BYTES)."
            ),
            fields={"body": ["Too large."]},
        )
    if isinstance(exc, DjangoValidationError):
        fields = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return error_response(
            status=400, code="invalid", message=_field_message(fields), fields=fields
        )
    if isinstance(exc, DataError):
        return _unstorable(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        return error_response(
            status=400, code="invalid", message=_field_message(fields), fields=fields
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), "error")
    detail = getattr(exc, "detail", "")
    message = str(detail) if detail else "Request failed."
    fields = {"body": [message]} if code == "malformed_body" else None
    return error_response(
        status=response.status_code,
        code=code,
        message=message,
        fields=fields,
        headers={k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After")},
    )


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo is an error and not silently dropped."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)
