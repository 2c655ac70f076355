"""SHA-256 digests the way ledger payloads carry them, and the one loop that hashes a
file in chunks. No Django imports.

Entries never hold texts or documents, only their digests (docs/events.md): a text as
the SHA-256 of its UTF-8 bytes, a JSON document as the SHA-256 of its RFC 8785 bytes,
a file as the SHA-256 of its bytes. Verifiers recompute these byte for byte.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO, Any

import rfc8785

CHUNK_BYTES = 1 << 20


def text_sha256(text: str) -> str:
    """Hex SHA-256 of the text's UTF-8 bytes."""
    return hashlib.sha256(text.encode()).hexdigest()


def json_sha256(value: Any) -> str:
    """Hex SHA-256 of the JSON value's RFC 8785 (canonical) bytes."""
    return hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def stream_sha256(stream: IO[bytes], *, rewind: bool = False) -> tuple[str, int]:
    """Hex SHA-256 and size of what ``stream`` yields, read in chunks so a file of any
    size takes bounded memory. From where the stream stands; with ``rewind``, from its
    start, and the stream is left at its start for whoever reads it next."""
    if rewind:
        stream.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
    if rewind:
        stream.seek(0)
    return digest.hexdigest(), size


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of the file at ``path``."""
    with open(path, "rb") as stream:
        return stream_sha256(stream)[0]


def upload_sha256(upload: Any) -> str:
    """Hex SHA-256 of an uploaded file (Django's ``UploadedFile``), left at its start.
    The upload handler that hashes files as they arrive (``FILE_UPLOAD_HANDLERS``) leaves
    the digest on the file, so a large upload is not read a second time."""
    digest = getattr(upload, "sha256", None)
    if isinstance(digest, str) and len(digest) == 64:
        return digest
    return stream_sha256(upload, rewind=True)[0]
