"""``Idempotency-Key`` on every write of the API.

A pipeline that retries a write (a timeout, a dropped connection) must not put the
event on the record twice. Any write (POST, PUT, PATCH, DELETE) to a view deriving
from ``ScopedGenericAPIView`` may carry ``Idempotency-Key: <1-255 printable ASCII
characters>``; keys belong to the caller's organization, so two organizations never
collide.

- The first request with a key runs. Its answer is stored under (organization, key)
  in the same transaction as the write, so the two commit together.
- A later request with the same key and the same method, path and body gets that
  answer again (same status, body and content type) with ``Idempotent-Replayed:
  true``, and writes nothing. Only the permission checks run again.
- The same key with a different method, path or body gets 422.
- A request that failed (an exception, or any answer with status >= 400) rolls back
  its write and its record together, so nothing is stored and a retry runs again.
  Only answers that committed are ever replayed.

Concurrency: the record is inserted, still empty, before the view runs, inside the
transaction that wraps the view, and filled in before commit; a committed record
therefore always holds a finished answer. On PostgreSQL a concurrent request with the
same key blocks on the unique index until the first one ends: if it committed, the
insert fails and the finished record is replayed (or 422); if it rolled back, the
insert succeeds and the request runs. On SQLite every write transaction starts with
``BEGIN IMMEDIATE`` (see settings), so keyed writes run one at a time and a second
one finds the first one's record.

Reads and writes without the header are left alone: no transaction is opened for them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBase
from django.template.response import SimpleTemplateResponse
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.ledger.digests import upload_sha256
from apps.tenancy.models import IdempotencyRecord, Organization
from audit_platform.errors import InvalidInput, ServiceError
from audit_platform.schema import Schema

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")


class IdempotencyKeyReused(ServiceError):
    """The key already stands for another request of this organization."""

    status = 422
    code = "idempotency_key_reused"


class IdempotencyKeyInFlight(ServiceError):
    """A record with no answer yet. Records are filled in before they commit, so no
    other transaction should ever see one; answering 409 beats replaying nothing."""

    status = 409
    code = "idempotency_key_in_flight"


@dataclass(frozen=True)
class KeyedWrite:
    """A write that carries an ``Idempotency-Key``, seen before authentication."""

    key: str
    # The body exactly as received, or None for multipart uploads, which are hashed from
    # their parsed parts (see _multipart_canonical).
    raw_body: bytes | None

    @classmethod
    def from_request(cls, request: Request) -> KeyedWrite | None:
        """Reads the raw body of a keyed write now, while it can still be read:
        authentication (a session's CSRF check) may parse it, after which Django no
        longer offers the bytes."""
        if request.method not in WRITE_METHODS or HEADER not in request.headers:
            return None
        if _is_multipart(request):
            # Reading an upload into memory would hit DATA_UPLOAD_MAX_MEMORY_SIZE.
            return cls(key=request.headers[HEADER], raw_body=None)
        return cls(key=request.headers[HEADER], raw_body=request.body)

    def wrap_handler(self, *, view: APIView, request: Request, organization: Organization) -> None:
        """Makes this request's handler idempotent. Called from ``initial``, after
        authentication, permission and throttle checks, so a replay is only ever
        shown to a caller who may make the request."""
        if not _VALID_KEY.fullmatch(self.key):
            raise InvalidInput(
                f"The {HEADER} header must be 1 to 255 printable ASCII characters.",
                fields={HEADER: ["Use 1 to 255 printable ASCII characters."]},
            )
        name = request.method.lower()
        handler = getattr(view, name, None) if name in view.http_method_names else None
        if handler is None:
            return  # DRF answers 405; there is nothing to remember.
        secret_fields = tuple(getattr(view, "idempotency_secret_fields", ()))

        def keyed_handler(request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
            # Hashed here, not in initial(): a subclass's own initial() checks (say, an
            # upload's declared size) run first, before a multipart body is parsed.
            fingerprint = self.fingerprint(request)
            return _run(
                handler=lambda: handler(request, *args, **kwargs),
                finalize=lambda response: view.finalize_response(
                    request, response, *args, **kwargs
                ),
                organization=organization,
                key=self.key,
                method=request.method,
                path=request.get_full_path(),
                fingerprint=fingerprint,
                secret_fields=secret_fields,
            )

        # DRF looks the handler up with getattr(view, method) right after initial().
        # A view instance serves one request, so shadowing the method on the instance
        # wraps exactly this request's handler and no other.
        setattr(view, name, keyed_handler)

    def fingerprint(self, request: Request) -> str:
        """SHA-256 of method, path (with query string) and body. A body counts as the
        same only when it is byte for byte the same; a multipart upload, whose boundary
        a client may pick afresh for each attempt, when its fields and the bytes of
        each file are."""
        digest = hashlib.sha256()
        digest.update(f"{request.method}\n{request.get_full_path()}\n".encode())
        body = self.raw_body if self.raw_body is not None else _multipart_canonical(request)
        digest.update(body)
        return digest.hexdigest()


def _run(
    *,
    handler: Callable[[], HttpResponseBase],
    finalize: Callable[[HttpResponseBase], HttpResponseBase],
    organization: Organization,
    key: str,
    method: str,
    path: str,
    fingerprint: str,
    secret_fields: tuple[str, ...],
) -> HttpResponseBase:
    with transaction.atomic():
        record, created = _claim(
            organization=organization, key=key, method=method, path=path, fingerprint=fingerprint
        )
        if not created:
            return _replay(record, fingerprint=fingerprint)
        # An exception from the handler leaves this block and rolls the record back
        # with the write; DRF then turns it into the error answer.
        response = handler()
        if response.status_code >= 400:
            # An error answer: whatever the view wrote goes with the record, so that
            # nothing is half written and a retry runs again.
            transaction.set_rollback(True)
            return response
        _store(record, finalize(response), secret_fields=secret_fields)
        return response


def _claim(
    *, organization: Organization, key: str, method: str, path: str, fingerprint: str
) -> tuple[IdempotencyRecord, bool]:
    """The record for this key: (a new, empty one, True) or (a committed one, False)."""
    existing = IdempotencyRecord.objects.filter(organization=organization, key=key).first()
    if existing is not None:
        return existing, False
    try:
        # A savepoint, so that losing the race leaves the outer transaction usable.
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                organization=organization,
                key=key,
                method=method,
                path=path,
                fingerprint=fingerprint,
            )
        return record, True
    except IntegrityError:
        # Another request with this key committed while this insert waited on the
        # unique index. Under READ COMMITTED this new statement sees its row.
        return IdempotencyRecord.objects.get(organization=organization, key=key), False


def _replay(record: IdempotencyRecord, *, fingerprint: str) -> HttpResponse:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"This {HEADER} was first used for another request ({record.method} "
            f"{record.path}); a retry must repeat the method, path and body exactly. "
            "Use a new key for a new request.",
            fields={HEADER: ["Already used for another request."]},
        )
    if record.response_status is None:
        raise IdempotencyKeyInFlight(
            f"A request with this {HEADER} is still running; retry in a moment."
        )
    response = HttpResponse(
        record.response_body,
        status=record.response_status,
        content_type=record.content_type or None,
    )
    response[REPLAYED_HEADER] = "true"
    return response


def _store(
    record: IdempotencyRecord, response: HttpResponseBase, *, secret_fields: tuple[str, ...]
) -> None:
    if response.streaming:
        raise ImproperlyConfigured(
            f"{record.method} {record.path} streams its answer, which cannot be stored for "
            f"{HEADER} replays; return a JSON answer from writes."
        )
    if isinstance(response, SimpleTemplateResponse):
        response.render()  # the bytes the caller gets; Django's own render() is then a no-op
    content_type = response.get("Content-Type", "")
    body = response.content.decode(response.charset or "utf-8")
    if secret_fields and content_type.startswith("application/json"):
        body = _without(body, secret_fields)
    record.response_status = response.status_code
    record.response_body = body
    record.content_type = content_type
    record.save(update_fields=["response_status", "response_body", "content_type"])


def _without(body: str, fields: tuple[str, ...]) -> str:
    """The JSON body less the secrets that are shown once (an API key's secret): they
    are never stored, so a replay leaves them out."""
    data = json.loads(body)
    if not isinstance(data, dict) or not any(name in data for name in fields):
        return body
    kept = {name: value for name, value in data.items() if name not in fields}
    # The separators of DRF's compact JSONRenderer, so the rest reads as first sent.
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":"))


def _is_multipart(request: Request) -> bool:
    return request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/")


def _multipart_canonical(request: Request) -> bytes:
    parts: list[list[Any]] = [
        ["field", name, values] for name, values in sorted(request.POST.lists())
    ]
    for name, files in sorted(request.FILES.lists()):
        for upload in files:
            parts.append(["file", name, upload.name, upload.size, upload_sha256(upload)])
    return json.dumps(parts, sort_keys=True).encode()


class IdempotentAutoSchema(Schema):
    """Puts the optional ``Idempotency-Key`` header on every write in the OpenAPI schema."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method in WRITE_METHODS:
            parameters.append(
                OpenApiParameter(
                    HEADER,
                    str,
                    OpenApiParameter.HEADER,
                    description=(
                        "1-255 printable ASCII characters, unique per request within the "
                        "organization. A retry with the same key, method, path and body "
                        f"gets the first answer again (marked `{REPLAYED_HEADER}: true`) "
                        "and writes nothing; the same key with anything else gets 422."
                    ),
                )
            )
        return parameters
