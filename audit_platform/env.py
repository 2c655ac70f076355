"""Reading settings from the environment, failing loudly on values we cannot use."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfigured(f"{name} must be set")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: Sequence[str] = ()) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: Sequence[str]) -> str:
    value = os.environ.get(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def worker_classes(raw: str | None, *, default: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """FLEET_WORKER_CLASSES: a JSON object of class name -> {"queues": [names]}, with
    "job_queue", one of them, where the class takes batch and explanation jobs."""
    if not raw:
        return default
    try:
        classes = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"FLEET_WORKER_CLASSES is not JSON: {exc}") from None
    if not isinstance(classes, dict) or not classes:
        raise ImproperlyConfigured("FLEET_WORKER_CLASSES must be a non-empty JSON object")
    for name, spec in classes.items():
        queues = spec.get("queues") if isinstance(spec, dict) else None
        if not (isinstance(queues, list) and queues and all(isinstance(q, str) for q in queues)):
            raise ImproperlyConfigured(
                f'FLEET_WORKER_CLASSES[{name!r}] must be {{"queues": [queue names]}}'
            )
        if "job_queue" in spec and spec["job_queue"] not in queues:
            raise ImproperlyConfigured(
                f"FLEET_WORKER_CLASSES[{name!r}].job_queue must be one of its queues "
                f"({', '.join(queues)}), got {spec['job_queue']!r}"
            )
    return classes


def env_decimal(name: str, default: str) -> str:
    """A non-negative decimal, kept as text (money is never a float)."""
    raw = os.environ.get(name) or default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0:
        raise ImproperlyConfigured(f"{name} must be a non-negative decimal, got {raw!r}")
    return raw
