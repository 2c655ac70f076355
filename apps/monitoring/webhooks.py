"""Signed webhooks: the signature header, and one POST with its answer and latency.

Every webhook body is the exact UTF-8 JSON stored on its delivery. The header
``X-Audit-Signature: t=<unix seconds>,v1=<hex>`` carries the HMAC-SHA256, keyed with
the policy's webhook secret, of ``<t>.`` followed by the body bytes (the recipe to
verify it, in Python and in shell, is in docs/monitoring.md). A receiver rejects a
``t`` more than five minutes old, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

SIGNATURE_HEADER = "X-Audit-Signature"
TIMEOUT_SECONDS = 10
TOLERANCE_SECONDS = 300


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def signature_valid(*, secret: str, header: str, body: bytes, now: float | None = None) -> bool:
    """What a receiver does (the documented recipe, as code for our tests)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret=secret, timestamp=timestamp, body=body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could lead a webhook to an address we refused; it counts as failed."""

    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True)
class Answer:
    ok: bool
    status_code: int | None
    error: str
    latency_ms: float


def post(*, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POSTs ``body``; a 2xx answer is a delivery, anything else (another status, a
    refused connection, a timeout) is a failed attempt with its reason."""
    request = urllib.request.Request(  # noqa: S310 (the URL is checked: http(s) only)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "audit-platform", **headers},
    )
    started = time.perf_counter()
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        status, error = None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    latency = (time.perf_counter() - started) * 1000
    return Answer(ok=not error, status_code=status, error=error, latency_ms=round(latency, 3))
