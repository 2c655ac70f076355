"""Writes to the ledger: creating a log, appending entries, rotating signing keys.

Other apps call ``entry_append``/``entries_append`` as the last step inside their
own ``transaction.atomic()``, so their change and its entry commit together. Every
append signs and stores a checkpoint before it returns, in the same transaction,
so no committed entry is ever unsigned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.ledger.core.checkpoint import Checkpoint as CheckpointText
from apps.ledger.core.checkpoint import sign_checkpoint
from apps.ledger.core.entry import EntryError, build_entry
from apps.ledger.core.hashing import EMPTY_ROOT, leaf_hash
from apps.ledger.core.merkle import CompactRange
from apps.ledger.core.note import NoteSigner
from apps.ledger.models import Checkpoint, Entry, Log, SigningKey, TreeNode
from apps.ledger.types import Actor, EntryDraft, Receipt, Subject
from audit_platform.errors import InvalidInput

ZERO_HASH = bytes(32)
KEY_ROTATED = "ledger_key.rotated"

# Signing keys never change once written, so a decrypted signer can be kept for the
# life of the process.
_signers_by_key_pk: dict[int, NoteSigner] = {}


def log_origin(*, organization_slug: str) -> str:
    return f"{settings.LEDGER_HOST}/{organization_slug}"


def _kek() -> Fernet:
    return Fernet(settings.LEDGER_KEY_ENCRYPTION_KEY.encode())


def _signer_for(key: SigningKey) -> NoteSigner:
    signer = _signers_by_key_pk.get(key.pk)
    if signer is None:
        raw = _kek().decrypt(bytes(key.private_key_encrypted))
        signer = NoteSigner.from_private_bytes(key.log.origin, raw)
        _signers_by_key_pk[key.pk] = signer
    return signer


def _signing_key_create(*, log: Log) -> SigningKey:
    signer = NoteSigner.generate(log.origin)
    key = SigningKey.objects.create(
        log=log,
        key_id=signer.key_id,
        public_key=signer.public_key_bytes,
        private_key_encrypted=_kek().encrypt(signer.private_bytes()),
        vkey=signer.vkey,
    )
    _signers_by_key_pk[key.pk] = signer
    return key


def _active_signing_key(log: Log) -> SigningKey:
    return SigningKey.objects.select_related("log").get(log=log, retired_at__isnull=True)


def _checkpoint_store(
    *, log: Log, size: int, root: bytes, signers: Sequence[NoteSigner], now: datetime
) -> Checkpoint:
    note = sign_checkpoint(CheckpointText(origin=log.origin, size=size, root=root), signers)
    return Checkpoint.objects.create(log=log, size=size, root=root, note=note, created_at=now)


@transaction.atomic
def log_create(*, organization: Any) -> Log:
    """Creates an organization's log with its first signing key and signs the empty tree."""
    log = Log.objects.create(
        organization=organization,
        origin=log_origin(organization_slug=organization.slug),
        size=0,
        root=EMPTY_ROOT,
        last_leaf_hash=ZERO_HASH,
        frontier=b"",
    )
    key = _signing_key_create(log=log)
    _checkpoint_store(
        log=log, size=0, root=EMPTY_ROOT, signers=[_signer_for(key)], now=timezone.now()
    )
    return log


def entry_append(
    *, organization: Any, actor: Actor, type: str, subject: Subject, data: dict[str, Any]
) -> Receipt:
    """Sequences one event in the organization's log and signs the new checkpoint."""
    draft = EntryDraft(type=type, actor=actor, subject=subject, data=data)
    return entries_append(organization=organization, drafts=[draft])[0]


def entries_append(*, organization: Any, drafts: Sequence[EntryDraft]) -> list[Receipt]:
    """Sequences many events in order under one lock and one checkpoint."""
    if not drafts:
        raise ValueError("entries_append needs at least one entry")
    with transaction.atomic():
        log = Log.objects.select_for_update().get(organization=organization)
        signer = _signer_for(_active_signing_key(log))
        return _sequence(log=log, drafts=drafts, signers=[signer])


def _sequence(
    *, log: Log, drafts: Sequence[EntryDraft], signers: Sequence[NoteSigner]
) -> list[Receipt]:
    """Appends ``drafts`` to a log whose head row the caller has locked."""
    now = timezone.now()
    # Time never runs backwards in a log, even if this machine's clock does.
    time = max(now, log.last_time) if log.last_time else now
    tree = CompactRange.from_bytes(log.size, bytes(log.frontier))
    prev = bytes(log.last_leaf_hash)
    entries: list[Entry] = []
    nodes: list[TreeNode] = []
    hashes: list[bytes] = []
    for offset, draft in enumerate(drafts):
        seq = log.size + offset
        try:
            body = build_entry(
                log=log.origin,
                seq=seq,
                time=time,
                type=draft.type,
                actor=draft.actor.as_json(),
                subject=draft.subject.as_json(),
                data=draft.data,
                prev=prev,
            )
        except EntryError as exc:
            raise InvalidInput(f"Cannot record this event: {exc}") from exc
        prev = leaf_hash(body)
        hashes.append(prev)
        nodes.extend(
            TreeNode(log=log, level=level, index=index, hash=node)
            for level, index, node in tree.append(prev)
        )
        entries.append(
            Entry(
                log=log,
                seq=seq,
                leaf_hash=prev,
                body=body,
                time=time,
                type=draft.type,
                subject_kind=draft.subject.kind,
                subject_id=draft.subject.id,
                actor_kind=draft.actor.kind,
                actor_id=draft.actor.id,
            )
        )
    Entry.objects.bulk_create(entries, batch_size=2000)
    TreeNode.objects.bulk_create(nodes, batch_size=5000)
    size = log.size + len(drafts)
    root = tree.root()
    _checkpoint_store(log=log, size=size, root=root, signers=signers, now=now)
    Log.objects.filter(pk=log.pk).update(
        size=size, root=root, last_leaf_hash=prev, last_time=time, frontier=tree.to_bytes()
    )
    first = size - len(drafts)
    return [
        Receipt(seq=first + i, leaf_hash=h.hex(), checkpoint_size=size)
        for i, h in enumerate(hashes)
    ]


def signing_key_rotate(*, organization: Any, actor: Actor) -> SigningKey:
    """Replaces the log's signing key. The rotation entry names both keys, and the
    checkpoint that covers it carries both signatures, so a verifier that trusts
    either key can follow the log across the change."""
    with transaction.atomic():
        log = Log.objects.select_for_update().get(organization=organization)
        old_key = _active_signing_key(log)
        old_signer = _signer_for(old_key)
        SigningKey.objects.filter(pk=old_key.pk).update(retired_at=timezone.now())
        new_key = _signing_key_create(log=log)
        draft = EntryDraft(
            type=KEY_ROTATED,
            actor=actor,
            subject=Subject(kind="ledger_key", id=f"{new_key.key_id:08x}"),
            data={"vkey": new_key.vkey, "old_vkey": old_key.vkey},
        )
        _sequence(log=log, drafts=[draft], signers=[old_signer, _signer_for(new_key)])
        return new_key
