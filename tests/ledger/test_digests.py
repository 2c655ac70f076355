"""The payload digests and the streaming file hasher: the same bytes as before they
were one module (tests and the offline verifier recompute them)."""

from __future__ import annotations

import hashlib
import io

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.ledger.digests import (
    CHUNK_BYTES,
    file_sha256,
    json_sha256,
    stream_sha256,
    text_sha256,
    upload_sha256,
)

ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_a_text_digest_is_sha256_of_its_utf8_bytes():
    assert text_sha256("abc") == ABC
    assert text_sha256("é") == hashlib.sha256("é".encode()).hexdigest()


def test_a_json_digest_is_sha256_of_its_rfc8785_bytes():
    value = {"b": [1, 2.5, None], "a": "é"}
    canonical = '{"a":"é","b":[1,2.5,null]}'.encode()
    assert json_sha256(value) == hashlib.sha256(canonical).hexdigest()


def test_a_stream_is_hashed_in_chunks_with_its_size():
    data = bytes(range(256)) * (CHUNK_BYTES // 128 + 3)
    stream = io.BytesIO(data)
    stream.seek(10)
    assert stream_sha256(stream) == (hashlib.sha256(data[10:]).hexdigest(), len(data) - 10)
    stream.seek(10)
    assert stream_sha256(stream, rewind=True) == (hashlib.sha256(data).hexdigest(), len(data))
    assert stream.tell() == 0


def test_a_file_is_hashed_by_path(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    assert file_sha256(tmp_path / "f") == ABC


def test_an_upload_is_hashed_once_and_left_at_its_start():
    upload = SimpleUploadedFile("f.bin", b"abc")
    upload.read(1)
    assert upload_sha256(upload) == ABC
    assert upload.read() == b"abc"
    upload.sha256 = "0" * 64  # what the hashing upload handler left on it
    assert upload_sha256(upload) == "0" * 64
