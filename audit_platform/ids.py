"""Identifiers that reveal nothing across organizations.

Every record's primary key is a UUIDv7 (RFC 9562 §5.7): 48 bits of Unix time in
milliseconds, then 74 random bits. Sequential integers would tell one organization how
many records all the others create; these say only when a record was made (which its
own ``created_at`` says anyway) and sort by creation, which keeps B-tree inserts local.
The random bits come from ``secrets`` on every call: no counter, so two ids made in the
same millisecond say nothing about how many were made between them.
"""

from __future__ import annotations

import secrets
import time
import uuid

from django.db import models

_VERSION_7 = 0x7 << 76
_VARIANT_RFC_9562 = 0b10 << 62


def new_id() -> uuid.UUID:
    """A fresh UUIDv7: Unix milliseconds, version 7, variant, 74 random bits."""
    unix_ms = time.time_ns() // 1_000_000
    random_a = secrets.randbits(12)
    random_b = secrets.randbits(62)
    time_bits = (unix_ms & (2**48 - 1)) << 80
    value = time_bits | _VERSION_7 | random_a << 64 | _VARIANT_RFC_9562 | random_b
    return uuid.UUID(int=value)


def uuid_primary_key() -> models.UUIDField:
    """The primary-key field every model declares as ``id = uuid_primary_key()``."""
    return models.UUIDField(primary_key=True, default=new_id, editable=False)


def id_text(value: uuid.UUID | str | None) -> str | None:
    """A record id as JSON carries it (its text), None staying None."""
    return None if value is None else str(value)
