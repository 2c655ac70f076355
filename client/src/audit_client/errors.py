"""Typed exceptions of the client. Each carries the CLI exit code it maps to, so a shell
step can tell a refused payload from an unreachable server (docs/client.md lists them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class ClientError(Exception):
    """Anything the client reports; ``str(exc)`` is one line that says what to fix."""

    exit_code = 1


class ConfigurationError(ClientError):
    """No server URL or API key, or a setting the client cannot use."""

    exit_code = 3


class ServerUnreachable(ClientError):
    """The server could not be reached (or kept dropping the connection) after retries."""

    exit_code = 6


class ApiError(ClientError):
    """The server answered with an error, in the API's ``{"error": {...}}`` shape."""

    exit_code = 5

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str = "",
        fields: Mapping[str, Sequence[str]] | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.fields = {k: list(v) for k, v in (fields or {}).items()}
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        detail = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in self.fields.items())
        text = f"{self.status} {self.code or 'error'}: {self.message}"
        if detail and detail not in self.message:
            text += f" ({detail})"
        return text


class AuthenticationFailed(ApiError):
    """401: the API key is missing, wrong, revoked or expired."""

    exit_code = 4


class PermissionDenied(ApiError):
    """403: the key's role may not do this."""

    exit_code = 4


class NotFound(ApiError):
    """404: no such record in the key's organization."""


class Conflict(ApiError):
    """409: a lifecycle or compliance rule refuses the change in the current state."""


class RejectedPayload(ApiError):
    """400 or 422: the request was malformed or out of range; ``fields`` says where."""


class ServerError(ApiError):
    """5xx after every retry: the server failed, not the request."""

    exit_code = 7


class InvalidValue(ClientError):
    """A value the client refuses before sending it, as the server would (e.g. a metric
    that is not a finite number); the message names it."""

    exit_code = 5


class DigestMismatch(ClientError):
    """A downloaded file, or the server's answer about one, does not have the SHA-256
    (or rows root) it should: the file is not kept."""

    exit_code = 1


class VerificationFailed(ClientError):
    """An offline check did not hold; the message names the check and the file."""

    exit_code = 1


class GateRefused(ClientError):
    """The deployment gate found unmet conditions (``conditions``, each with a message)."""

    exit_code = 1

    def __init__(self, message: str, *, conditions: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.conditions = conditions


def error_for_status(status: int) -> type[ApiError]:
    if status == 401:
        return AuthenticationFailed
    if status == 403:
        return PermissionDenied
    if status == 404:
        return NotFound
    if status == 409:
        return Conflict
    if status >= 500:
        return ServerError
    return RejectedPayload
