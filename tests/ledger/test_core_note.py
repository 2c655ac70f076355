"""C2SP signed notes and tlog checkpoints, including golang.org/x/mod/sumdb/note's vectors."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.ledger.core.checkpoint import (
    Checkpoint,
    CheckpointError,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from apps.ledger.core.hashing import EMPTY_ROOT
from apps.ledger.core.note import (
    NoteError,
    NoteSigner,
    NoteVerifier,
    key_id,
    open_note,
    sign_note,
    vkey,
)

# From golang.org/x/mod/sumdb/note (note.go's package documentation and note_test.go).
GO_SKEY_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
GO_PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
GO_ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)

ORIGIN = "audit.example.eu/acme-bank"


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return NoteSigner.generate(ORIGIN)


# --- known answers -------------------------------------------------------------------


def test_go_signer_reproduces_go_key_and_signature():
    signer = NoteSigner.from_private_bytes("PeterNeumann", GO_SKEY_SEED)
    assert signer.vkey == GO_PETER_VKEY
    assert signer.key_id == 0xC74F20A3
    assert key_id("PeterNeumann", signer.public_key_bytes) == 0xC74F20A3
    assert signer.private_bytes() == GO_SKEY_SEED
    # Ed25519 is deterministic, so our signature must be Go's, byte for byte.
    assert sign_note(GO_TEXT, [signer]) == GO_TEXT + "\n" + GO_PETER_SIG


def test_go_note_opens_and_unknown_signatures_are_ignored():
    peter = NoteVerifier.from_vkey(GO_PETER_VKEY)
    enoch = NoteVerifier.from_vkey(GO_ENOCH_VKEY)
    msg = GO_TEXT + "\n" + GO_PETER_SIG + GO_ENOCH_SIG
    assert open_note(msg, [peter]) == (GO_TEXT, [peter])
    assert open_note(msg, [enoch]) == (GO_TEXT, [enoch])
    assert open_note(msg, [peter, enoch]) == (GO_TEXT, [peter, enoch])
    with pytest.raises(NoteError, match="no valid signature by a known key"):
        open_note(msg, [NoteSigner.generate("PeterNeumann").verifier()])
    with pytest.raises(NoteError, match="no valid signature"):
        open_note(msg, [])


def test_vkey_round_trip(signer: NoteSigner):
    verifier = NoteVerifier.from_vkey(signer.vkey)
    assert verifier.name == ORIGIN
    assert verifier.key_id == signer.key_id
    assert verifier.vkey == signer.vkey == vkey(ORIGIN, signer.public_key_bytes)
    name, hex_id, _ = signer.vkey.split("+", 2)
    assert name == ORIGIN and hex_id == f"{signer.key_id:08x}"
    again = NoteSigner.from_private_bytes(ORIGIN, signer.private_bytes())
    assert again.vkey == signer.vkey


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # upper-case ID
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong ID
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # bad base64
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW+x",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        # From note_test.go: wrong-length key and unknown algorithm, with matching IDs.
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_vkeys_are_rejected(bad: str):
    with pytest.raises(NoteError):
        NoteVerifier.from_vkey(bad)


def test_vkeys_whose_base64_holds_a_plus_sign_parse():
    signers = [NoteSigner.from_private_bytes(ORIGIN, bytes([seed]) * 32) for seed in range(64)]
    assert any("+" in s.vkey.split("+", 2)[2] for s in signers)
    for signer in signers:
        assert NoteVerifier.from_vkey(signer.vkey).public_key_bytes == signer.public_key_bytes


def test_every_truncation_of_a_vkey_is_rejected():
    for i in range(len(GO_PETER_VKEY)):
        with pytest.raises(NoteError):
            NoteVerifier.from_vkey(GO_PETER_VKEY[:i])


# --- signing and opening -------------------------------------------------------------


@given(
    lines=st.lists(
        st.text(
            st.characters(blacklist_categories=["Cs", "Cc"]),
            max_size=40,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_sign_open_round_trip(lines: list[str]):
    signer = NoteSigner.from_private_bytes(ORIGIN, bytes(range(32)))
    text = "".join(line + "\n" for line in lines)
    note = sign_note(text, [signer])
    assert open_note(note, [signer.verifier()]) == (text, [signer.verifier()])


def test_two_signers_and_key_rotation(signer: NoteSigner):
    new = NoteSigner.generate(ORIGIN)
    note = sign_note("hello\n", [signer, new])
    assert note.count("\n— ") == 2
    assert open_note(note, [new.verifier()])[1] == [new.verifier()]
    assert open_note(note, [signer.verifier(), new.verifier()])[1] == [
        signer.verifier(),
        new.verifier(),
    ]


def test_em_dash_replaced_by_hyphen_is_rejected(signer: NoteSigner):
    note = sign_note("hello\n", [signer])
    with pytest.raises(NoteError, match="em dash"):
        open_note(note.replace("—", "-"), [signer.verifier()])
    with pytest.raises(NoteError, match="malformed note"):
        open_note(note.replace("— ", "—  "), [signer.verifier()])


def test_flipped_signature_bit_is_rejected(signer: NoteSigner):
    note = sign_note("hello\n", [signer])
    head, _, b64 = note.rstrip("\n").rpartition(" ")
    raw = bytearray(base64.b64decode(b64))
    for byte in (4, 30, 67):
        bad = bytearray(raw)
        bad[byte] ^= 0x01
        forged = f"{head} {base64.b64encode(bytes(bad)).decode()}\n"
        with pytest.raises(NoteError, match="invalid signature"):
            open_note(forged, [signer.verifier()])


def test_changed_text_is_rejected(signer: NoteSigner):
    note = sign_note("size 5\n", [signer])
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(note.replace("size 5", "size 6"), [signer.verifier()])


@pytest.mark.parametrize(
    "mangle",
    [
        lambda n: n.replace("\n\n", "\n"),  # no blank line
        lambda n: n[:-1],  # no final newline
        lambda n: n + "\n",  # trailing blank line
        lambda n: n.replace("hello", "hel\x01lo"),  # control character
        lambda n: n.replace("hello", "hel\rlo"),
        lambda n: n + "— \n",  # empty name
        lambda n: n + "— name\n",  # no signature
        lambda n: n + "— name AAAA\n",  # too short
        lambda n: n + "— na+me AAAAAAAA\n",  # '+' in name
        lambda n: n + "— name !!!!\n",  # not base64
    ],
)
def test_malformed_notes_are_rejected(signer: NoteSigner, mangle):
    note = sign_note("hello\n", [signer])
    with pytest.raises(NoteError):
        open_note(mangle(note), [signer.verifier()])


def test_signing_rejects_bad_text(signer: NoteSigner):
    with pytest.raises(NoteError, match="end in a newline"):
        sign_note("hello", [signer])
    with pytest.raises(NoteError, match="control character"):
        sign_note("he\tllo\n", [signer])
    with pytest.raises(NoteError, match="at least one signer"):
        sign_note("hello\n", [])
    with pytest.raises(NoteError, match="invalid key name"):
        NoteSigner.generate("has space")


def test_too_many_signatures_are_rejected(signer: NoteSigner):
    note = sign_note("hello\n", [signer])
    sig = note.split("\n\n", 1)[1]
    with pytest.raises(NoteError, match="more than 100"):
        open_note(note + sig * 100, [signer.verifier()])


def test_ambiguous_verifiers_are_rejected(signer: NoteSigner):
    fake = NoteVerifier(ORIGIN, NoteSigner.generate(ORIGIN).public_key_bytes)
    fake._key_id = signer.key_id  # a key ID collision, forged by hand
    with pytest.raises(NoteError, match="ambiguous"):
        open_note(sign_note("hello\n", [signer]), [signer.verifier(), fake])


# --- checkpoints ---------------------------------------------------------------------


def test_checkpoint_text_and_round_trip(signer: NoteSigner):
    cp = Checkpoint(origin=ORIGIN, size=0, root=EMPTY_ROOT)
    assert cp.to_text() == f"{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    note = sign_checkpoint(cp, [signer])
    assert note.startswith(cp.to_text() + "\n— " + ORIGIN + " ")
    assert open_checkpoint(note, [signer.verifier()]) == (cp, [signer.verifier()])
    big = Checkpoint(origin=ORIGIN, size=10**12, root=bytes(range(32)))
    assert parse_checkpoint(big.to_text()) == big


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",  # no final newline
        f"{ORIGIN}\n05\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",  # leading zero
        f"{ORIGIN}\n-5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        f"{ORIGIN}\n+5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        f"{ORIGIN}\n\uff15\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",  # fullwidth digit
        f"{ORIGIN}\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n",  # unpadded
        f"{ORIGIN}\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n",  # non-canonical bits
        f"{ORIGIN}\n5\nAAAA\n",  # not 32 bytes
        f"{ORIGIN}\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nextension\n",
        f"{ORIGIN}\n5\n",
        "\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "audit example\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
    ],
)
def test_malformed_checkpoints_are_rejected(text: str):
    with pytest.raises(CheckpointError):
        parse_checkpoint(text)


def test_checkpoint_signed_by_another_key_is_rejected(signer: NoteSigner):
    note = sign_checkpoint(Checkpoint(origin=ORIGIN, size=1, root=bytes(32)), [signer])
    with pytest.raises(NoteError):
        open_checkpoint(note, [NoteSigner.generate(ORIGIN).verifier()])
