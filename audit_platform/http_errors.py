"""Django's own error answers (no URL matched, a server error, a request Django itself
refused) in the API's one JSON error shape for every ``/api/`` path, in production
too; other paths keep Django's pages.

DRF's exception handler (audit_platform/api.py) answers everything raised inside an
API view; these cover what happens outside one.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from audit_platform.middleware import current_request_id

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_json(*, status: int, code: str, message: str) -> JsonResponse:
    body = {"error": {"code": code, "message": message, "request_id": current_request_id()}}
    return JsonResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if not is_api(request):
        return defaults.bad_request(request, exception, **kwargs)
    return error_json(
        status=400,
        code="bad_request",
        message="The request was refused before it reached the API: check the Host "
        "header, the number of form fields and the body's encoding.",
    )


def permission_denied(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if not is_api(request):
        return defaults.permission_denied(request, exception, **kwargs)
    return error_json(
        status=403, code="permission_denied", message="You may not do this on this path."
    )


def page_not_found(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if not is_api(request):
        return defaults.page_not_found(request, exception, **kwargs)
    return error_json(
        status=404,
        code="not_found",
        message=f"There is no API endpoint at {request.path[:200]!r}: see /api/schema/ "
        "for the paths (ids are whole numbers; most paths have no trailing slash, "
        "collections have one).",
    )


def server_error(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    if not is_api(request):
        return defaults.server_error(request, **kwargs)
    return error_json(
        status=500,
        code="server_error",
        message="The server failed on this request; it has been logged with this "
        "request_id. Check with a read whether the change was made before you retry, "
        "or report the request_id.",
    )
