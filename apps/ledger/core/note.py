"""C2SP signed-note v1.0.0 with Ed25519 keys (signature type 0x01).

A signed note is a text ending in a newline, a blank line, and one or more lines
``— <key name> <base64(4-byte key ID || signature)>``. Parsing follows the C2SP
text and golang.org/x/mod/sumdb/note: valid UTF-8, no ASCII control characters
except newline, signatures after the last blank line, signatures by unknown keys
ignored, at least one signature by a known key required.

Verifier keys ("vkeys") use the Go text form ``<name>+<8 hex key ID>+<base64(0x01 || key)>``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "NoteError",
    "NoteSigner",
    "NoteVerifier",
    "b64decode_strict",
    "is_valid_key_name",
    "key_id",
    "open_note",
    "sign_note",
    "vkey",
]

ALG_ED25519 = 0x01
MAX_SIGNATURES = 100  # golang.org/x/mod/sumdb/note's limit; C2SP asks for at least 16
_SIG_PREFIX = "\u2014 "  # em dash, space

# Unicode White_Space (what Go's unicode.IsSpace tests); key names must not contain any.
_WHITE_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_HEX8 = re.compile(r"[0-9a-f]{8}")


class NoteError(ValueError):
    """A signed note or verifier key is malformed, or its signatures do not verify."""


def b64decode_strict(text: str, *, what: str, error: type[ValueError] = ValueError) -> bytes:
    """Decode standard padded base64, rejecting anything but its one canonical spelling."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise error(f"{what} is not valid base64") from None
    # Rejects non-zero padding bits, so that one value has one spelling.
    if base64.b64encode(raw).decode("ascii") != text:
        raise error(f"{what} is not canonical base64")
    return raw


def is_valid_key_name(name: str) -> bool:
    """Non-empty, no Unicode white space, no '+', no control characters, encodable UTF-8."""
    if not name or "+" in name or _CONTROL.search(name) or "\x7f" in name:
        return False
    if any(c in _WHITE_SPACE for c in name):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def key_id(name: str, public_key: bytes) -> int:
    """C2SP key ID: first 4 bytes, big-endian, of SHA-256(name || 0x0A || 0x01 || key)."""
    digest = sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def vkey(name: str, public_key: bytes) -> str:
    """Verifier key text: ``<name>+<8 lowercase hex key ID>+<base64(0x01 || key)>``."""
    if not is_valid_key_name(name):
        raise NoteError(f"invalid key name {name!r}")
    if len(public_key) != 32:
        raise NoteError(f"Ed25519 public key must be 32 bytes, got {len(public_key)}")
    encoded = base64.b64encode(bytes([ALG_ED25519]) + public_key).decode("ascii")
    return f"{name}+{key_id(name, public_key):08x}+{encoded}"


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class _NamedKey:
    """What a signer and a verifier share: a key name, its raw Ed25519 public key and
    the key ID of the two."""

    __slots__ = ("_key_id", "_name", "_public")

    def _set_name_and_key(self, name: str, public_key: bytes) -> None:
        self._name = name
        self._public = public_key
        self._key_id = key_id(name, public_key)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def public_key_bytes(self) -> bytes:
        return self._public

    @property
    def vkey(self) -> str:
        return vkey(self._name, self._public)


class NoteSigner(_NamedKey):
    """Signs notes with one Ed25519 key under a key name (the log's origin)."""

    __slots__ = ("_key",)

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        if not is_valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}")
        if not isinstance(private_key, Ed25519PrivateKey):
            raise TypeError("private_key must be an Ed25519PrivateKey")
        self._key = private_key
        self._set_name_and_key(name, _raw_public(private_key.public_key()))

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """A signer with a fresh random key."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, name: str, raw: bytes) -> NoteSigner:
        """A signer from the 32-byte Ed25519 private key (seed)."""
        if len(raw) != 32:
            raise NoteError(f"Ed25519 private key must be 32 bytes, got {len(raw)}")
        return cls(name, Ed25519PrivateKey.from_private_bytes(bytes(raw)))

    def private_bytes(self) -> bytes:
        """The raw 32-byte private key (seed); keep it secret."""
        return self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    def verifier(self) -> NoteVerifier:
        """The matching verifier."""
        return NoteVerifier(self._name, self._public)

    def sign(self, msg: bytes) -> bytes:
        """Raw 64-byte Ed25519 signature of ``msg``."""
        return self._key.sign(msg)

    def __repr__(self) -> str:
        return f"NoteSigner({self._name!r}, key_id={self._key_id:08x})"


class NoteVerifier(_NamedKey):
    """Verifies signatures by one Ed25519 key under a key name."""

    __slots__ = ("_key",)

    def __init__(self, name: str, public_key: bytes) -> None:
        if not is_valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}")
        if len(public_key) != 32:
            raise NoteError(f"Ed25519 public key must be 32 bytes, got {len(public_key)}")
        self._set_name_and_key(name, bytes(public_key))
        try:
            self._key = Ed25519PublicKey.from_public_bytes(self._public)
        except ValueError:
            raise NoteError("invalid Ed25519 public key") from None

    @classmethod
    def from_vkey(cls, text: str) -> NoteVerifier:
        """Parse ``<name>+<8 lowercase hex key ID>+<base64(0x01 || key)>`` strictly."""
        parts = text.split("+", 2)  # the base64 key may itself contain "+"
        if len(parts) != 3:
            raise NoteError("malformed verifier key: want <name>+<key id>+<key>")
        name, hex_id, b64 = parts
        if not is_valid_key_name(name):
            raise NoteError(f"malformed verifier key: invalid key name {name!r}")
        if not _HEX8.fullmatch(hex_id):
            raise NoteError("malformed verifier key: key ID is not 8 lowercase hex digits")
        raw = b64decode_strict(b64, what="verifier key", error=NoteError)
        if not raw or raw[0] != ALG_ED25519:
            raise NoteError("verifier key is not an Ed25519 (type 0x01) key")
        if len(raw) != 33:
            raise NoteError("malformed verifier key: Ed25519 key is not 32 bytes")
        verifier = cls(name, raw[1:])
        if verifier.key_id != int(hex_id, 16):
            raise NoteError("malformed verifier key: key ID does not match name and key")
        return verifier

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """True if ``sig`` is a valid Ed25519 signature of ``msg`` by this key."""
        if len(sig) != 64:
            return False
        try:
            self._key.verify(sig, msg)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NoteVerifier):
            return NotImplemented
        return self._name == other._name and self._public == other._public

    def __hash__(self) -> int:
        return hash((self._name, self._public))

    def __repr__(self) -> str:
        return f"NoteVerifier({self.vkey!r})"


def _check_note_chars(text: str, what: str) -> bytes:
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"{what} is not valid UTF-8") from None
    if _CONTROL.search(text):
        raise NoteError(f"{what} contains an ASCII control character other than newline")
    return raw


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """Sign ``text`` (which must end in a newline) with each signer, in order."""
    if not text.endswith("\n"):
        raise NoteError("note text must end in a newline")
    msg = _check_note_chars(text, "note text")
    if not signers:
        raise NoteError("a signed note needs at least one signer")
    seen: set[tuple[str, int]] = set()
    lines = [text, "\n"]
    for signer in signers:
        ident = (signer.name, signer.key_id)
        if ident in seen:
            raise NoteError(f"duplicate signer {signer.name}+{signer.key_id:08x}")
        seen.add(ident)
        blob = signer.key_id.to_bytes(4, "big") + signer.sign(msg)
        lines.append(f"{_SIG_PREFIX}{signer.name} {base64.b64encode(blob).decode('ascii')}\n")
    return "".join(lines)


def open_note(note: str, verifiers: Sequence[NoteVerifier]) -> tuple[str, list[NoteVerifier]]:
    """Parse and verify a signed note; return its text and the verifiers that verified it.

    Signatures by keys not in ``verifiers`` (by name and key ID) are ignored. Raises
    NoteError if the note is malformed, if a signature by a known key fails, or if no
    known key signed it.
    """
    _check_note_chars(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, sigs = note[: split + 1], note[split + 2 :]
    if not sigs or not sigs.endswith("\n"):
        raise NoteError("malformed note: signature block must be non-empty and end in a newline")

    known: dict[tuple[str, int], NoteVerifier] = {}
    for v in verifiers:
        ident = (v.name, v.key_id)
        other = known.setdefault(ident, v)
        if other != v:
            raise NoteError(f"ambiguous verifier keys for {v.name}+{v.key_id:08x}")

    msg = text.encode("utf-8")
    verified: list[NoteVerifier] = []
    lines = sigs[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    for n, line in enumerate(lines, start=1):
        if not line.startswith(_SIG_PREFIX):
            raise NoteError(f"malformed note: signature line {n} does not start with an em dash")
        name, sep, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        if not sep or not b64 or not is_valid_key_name(name):
            raise NoteError(f"malformed note: signature line {n} is not '— <name> <signature>'")
        blob = b64decode_strict(b64, what=f"signature line {n}", error=NoteError)
        if len(blob) < 5:
            raise NoteError(f"malformed note: signature line {n} is too short")
        ident = (name, int.from_bytes(blob[:4], "big"))
        v = known.get(ident)
        if v is None:
            continue  # unknown key: ignored, as the signed-note spec requires
        if not v.verify(msg, blob[4:]):
            raise NoteError(f"invalid signature by {name}+{ident[1]:08x}")
        if v not in verified:
            verified.append(v)
    if not verified:
        raise NoteError("note has no valid signature by a known key")
    return text, verified
