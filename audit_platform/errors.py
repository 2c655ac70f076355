"""Errors that services raise for callers to see. The API maps them to HTTP statuses.

Services never raise DRF exceptions: they are called from views, tasks, management
commands and the admin alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ServiceError(Exception):
    """A request we refuse, with a message that tells the caller what to fix."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = {name: list(msgs) for name, msgs in (fields or {}).items()}


class InvalidInput(ServiceError):
    """Input that is malformed or out of range."""


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class RuleViolation(ServiceError):
    """A lifecycle or compliance rule forbids this change in the current state."""

    status = 409
    code = "conflict"
