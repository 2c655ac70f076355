"""Python client for the audit-platform service (docs/client.md)."""

from audit_client.client import Client, TrainingRun, rows_root
from audit_client.errors import (
    ApiError,
    AuthenticationFailed,
    ClientError,
    ConfigurationError,
    Conflict,
    DigestMismatch,
    GateRefused,
    InvalidValue,
    NotFound,
    PermissionDenied,
    RejectedPayload,
    ServerError,
    ServerUnreachable,
    VerificationFailed,
)

__all__ = [
    "ApiError",
    "AuthenticationFailed",
    "Client",
    "ClientError",
    "ConfigurationError",
    "Conflict",
    "DigestMismatch",
    "GateRefused",
    "InvalidValue",
    "NotFound",
    "PermissionDenied",
    "RejectedPayload",
    "ServerError",
    "ServerUnreachable",
    "TrainingRun",
    "VerificationFailed",
    "rows_root",
]
