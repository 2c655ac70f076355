"""Writes to the ledger: creating a log, appending entries, rotating signing keys.

Other apps call ``entry_append``/``entries_append`` as the last step inside their
own ``transaction.atomic()``, so their change and its entry commit together. Every
append signs and stores a checkpoint before it returns, in the same transaction,
so no committed entry is ever unsigned.

How an append reaches PostgreSQL: the entries, their tree nodes, the checkpoint and
the new head are written by one statement whose first part is a compare-and-set
UPDATE of the log head (``WHERE size = <size we built on> AND last_leaf_hash = <last
leaf we chained to>``); the inserts take their ``log_id`` from that UPDATE's
RETURNING, so when the head has moved on nothing at all is written. The process
remembers each log's head after its own appends, so in the common case (this
process appended last) an append is that one statement: one round trip, one row
lock on the head, and, outside a caller's transaction, one commit. When the
remembered head is stale (another process appended, a caller's transaction rolled
back, or nothing is remembered yet), the append locks the head with SELECT ... FOR
UPDATE, rebuilds on what it read, and writes with the same statement. The last leaf
hash commits to the whole log (origin, every seq and prev), so a stale head can
never pass the compare. Other databases (SQLite, the embedded default) take the
locking path with the ORM.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.ledger.core import entry as entry_format
from apps.ledger.core.checkpoint import Checkpoint as CheckpointText
from apps.ledger.core.checkpoint import sign_checkpoint
from apps.ledger.core.entry import MAX_ENTRY_BYTES, EntryError, build_entry, format_time
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


@dataclass(frozen=True, slots=True)
class _Head:
    """A log's head as one append leaves it, with the key(s) that sign its checkpoints."""

    log_id: int
    origin: str
    size: int
    last_leaf_hash: bytes
    last_time: datetime | None
    frontier: bytes
    signers: tuple[NoteSigner, ...]


# (database name, organization pk) -> the head after this process's last append to it.
# Only a hint: every write compares it with the stored head first.
_heads: dict[tuple[str, int], _Head] = {}


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
    on_postgres = connection.vendor == "postgresql"
    cache_key = (connection.settings_dict["NAME"], organization.pk)
    if on_postgres:
        head = _heads.get(cache_key)
        if head is not None:
            batch = _Batch.build(head, drafts)
            if _pg_write(batch):
                _heads[cache_key] = batch.after
                return batch.receipts()
    with transaction.atomic():
        head = _head_locked(organization)
        batch = _Batch.build(head, drafts)
        _write_locked(batch)
    if on_postgres:
        _heads[cache_key] = batch.after
    return batch.receipts()


def _head_locked(organization: Any) -> _Head:
    """Locks the log's head row (until the transaction ends) and reads it."""
    log = Log.objects.select_for_update().get(organization=organization)
    return _head_of(log, signers=(_signer_for(_active_signing_key(log)),))


def _head_of(log: Log, *, signers: tuple[NoteSigner, ...]) -> _Head:
    return _Head(
        log_id=log.pk,
        origin=log.origin,
        size=log.size,
        last_leaf_hash=bytes(log.last_leaf_hash),
        last_time=log.last_time,
        frontier=bytes(log.frontier),
        signers=signers,
    )


# Sorted, compact, ASCII-escaped JSON is RFC 8785 for entries without floats, \u
# escapes or DEL (see parse_entry); anything else goes through the reference encoder.
_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True, allow_nan=False)


def _has_float(value: Any) -> bool:
    cls = value.__class__
    if cls is float:
        return True
    if cls is dict:
        return any(_has_float(item) for item in value.values())
    if cls is list or cls is tuple:
        return any(_has_float(item) for item in value)
    return False


def _entry_bytes(
    *, origin: str, seq: int, time: datetime, time_text: str, draft: EntryDraft, prev: bytes
) -> bytes:
    """Exactly ``build_entry``'s bytes and checks, without its pure-Python JCS encoder
    where sorted compact JSON is already canonical."""
    actor = draft.actor.as_json()
    subject = draft.subject.as_json()
    try:
        plain = not _has_float(draft.data)
    except RecursionError:
        plain = False
    if plain:
        obj = {
            "v": entry_format.FORMAT_VERSION,
            "log": origin,
            "seq": seq,
            "time": time_text,
            "type": draft.type,
            "actor": actor,
            "subject": subject,
            "data": draft.data,
            "prev": prev.hex(),
        }
        try:
            entry_format._check_fields(obj, None)
            text = _JSON.encode(obj)
        except RecursionError:
            raise EntryError("data: nested too deeply") from None
        if "\\u" not in text and "\x7f" not in text:
            if len(text) > MAX_ENTRY_BYTES:
                raise EntryError(f"entry is {len(text)} bytes, more than {MAX_ENTRY_BYTES}")
            return text.encode("ascii")
    return build_entry(
        log=origin,
        seq=seq,
        time=time,
        type=draft.type,
        actor=actor,
        subject=subject,
        data=draft.data,
        prev=prev,
    )


@dataclass(slots=True)
class _Batch:
    """Everything one append writes, built in memory on a given head."""

    before: _Head
    after: _Head
    time: datetime
    now: datetime
    bodies: list[bytes]
    leaf_hashes: list[bytes]
    drafts: Sequence[EntryDraft]
    node_levels: list[int]
    node_indexes: list[int]
    node_hashes: list[bytes]
    root: bytes
    note: str

    @classmethod
    def build(cls, head: _Head, drafts: Sequence[EntryDraft]) -> _Batch:
        now = timezone.now()
        # Time never runs backwards in a log, even if this machine's clock does.
        time = max(now, head.last_time) if head.last_time else now
        time_text = format_time(time)
        tree = CompactRange.from_bytes(head.size, head.frontier)
        origin = head.origin
        prev = head.last_leaf_hash
        bodies: list[bytes] = []
        hashes: list[bytes] = []
        levels: list[int] = []
        indexes: list[int] = []
        node_hashes: list[bytes] = []
        seq = head.size
        for draft in drafts:
            try:
                body = _entry_bytes(
                    origin=origin, seq=seq, time=time, time_text=time_text, draft=draft, prev=prev
                )
            except EntryError as exc:
                raise InvalidInput(f"Cannot record this event: {exc}") from exc
            prev = leaf_hash(body)
            bodies.append(body)
            hashes.append(prev)
            for level, index, node in tree.append(prev):
                levels.append(level)
                indexes.append(index)
                node_hashes.append(node)
            seq += 1
        root = tree.root()
        note = sign_checkpoint(CheckpointText(origin=origin, size=seq, root=root), head.signers)
        after = _Head(
            log_id=head.log_id,
            origin=origin,
            size=seq,
            last_leaf_hash=prev,
            last_time=time,
            frontier=tree.to_bytes(),
            signers=head.signers,
        )
        return cls(
            before=head,
            after=after,
            time=time,
            now=now,
            bodies=bodies,
            leaf_hashes=hashes,
            drafts=drafts,
            node_levels=levels,
            node_indexes=indexes,
            node_hashes=node_hashes,
            root=root,
            note=note,
        )

    def receipts(self) -> list[Receipt]:
        size = self.after.size
        first = self.before.size
        return [
            Receipt(seq=first + i, leaf_hash=h.hex(), checkpoint_size=size)
            for i, h in enumerate(self.leaf_hashes)
        ]


_PG_APPEND = f"""
WITH head AS (
    UPDATE {Log._meta.db_table}
    SET size = %(size)s::bigint, root = %(root)s::bytea,
        last_leaf_hash = %(last_leaf_hash)s::bytea, last_time = %(time)s::timestamptz,
        frontier = %(frontier)s::bytea
    WHERE id = %(log_id)s::bigint AND size = %(old_size)s::bigint
        AND last_leaf_hash = %(old_last_leaf_hash)s::bytea
    RETURNING id
), entries AS (
    INSERT INTO {Entry._meta.db_table}
        (log_id, seq, leaf_hash, body, time, type, subject_kind, subject_id, actor_kind, actor_id)
    SELECT head.id, %(old_size)s::bigint + e.n - 1, e.leaf_hash, e.body, %(time)s, e.type,
        e.subject_kind, e.subject_id, e.actor_kind, e.actor_id
    FROM head, unnest(
        %(leaf_hashes)s::bytea[], %(bodies)s::bytea[], %(types)s::text[],
        %(subject_kinds)s::text[], %(subject_ids)s::text[], %(actor_kinds)s::text[],
        %(actor_ids)s::text[]
    ) WITH ORDINALITY
        AS e(leaf_hash, body, type, subject_kind, subject_id, actor_kind, actor_id, n)
), nodes AS (
    INSERT INTO {TreeNode._meta.db_table} (log_id, level, "index", hash)
    SELECT head.id, t.level, t.index, t.hash
    FROM head, unnest(%(node_levels)s::smallint[], %(node_indexes)s::bigint[],
        %(node_hashes)s::bytea[]) AS t(level, index, hash)
), checkpoint AS (
    INSERT INTO {Checkpoint._meta.db_table} (log_id, size, root, note, created_at)
    SELECT head.id, %(size)s::bigint, %(root)s::bytea, %(note)s::text, %(now)s::timestamptz
    FROM head
)
SELECT count(*) FROM head
"""


def _pg_write(batch: _Batch) -> bool:
    """Writes the batch if the stored head is still the one it was built on; else nothing."""
    before, after, drafts = batch.before, batch.after, batch.drafts
    params = {
        "log_id": before.log_id,
        "old_size": before.size,
        "old_last_leaf_hash": before.last_leaf_hash,
        "size": after.size,
        "root": batch.root,
        "last_leaf_hash": after.last_leaf_hash,
        "time": batch.time,
        "frontier": after.frontier,
        "leaf_hashes": batch.leaf_hashes,
        "bodies": batch.bodies,
        "types": [d.type for d in drafts],
        "subject_kinds": [d.subject.kind for d in drafts],
        "subject_ids": [d.subject.id for d in drafts],
        "actor_kinds": [d.actor.kind for d in drafts],
        "actor_ids": [d.actor.id for d in drafts],
        "node_levels": batch.node_levels,
        "node_indexes": batch.node_indexes,
        "node_hashes": batch.node_hashes,
        "note": batch.note,
        "now": batch.now,
    }
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    # A server-binding cursor: parameters travel apart from the text (bytea in
    # binary), so the statement is not re-rendered for every call.
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_PG_APPEND, params)
        (written,) = cursor.fetchone()
    return written == 1


def _write_locked(batch: _Batch) -> None:
    """Writes a batch built on the head that this transaction holds locked."""
    if connection.vendor == "postgresql":
        if not _pg_write(batch):
            raise RuntimeError(f"log {batch.before.origin}: head changed under its row lock")
        return
    log_id, drafts = batch.before.log_id, batch.drafts
    Entry.objects.bulk_create(
        (
            Entry(
                log_id=log_id,
                seq=batch.before.size + i,
                leaf_hash=batch.leaf_hashes[i],
                body=batch.bodies[i],
                time=batch.time,
                type=draft.type,
                subject_kind=draft.subject.kind,
                subject_id=draft.subject.id,
                actor_kind=draft.actor.kind,
                actor_id=draft.actor.id,
            )
            for i, draft in enumerate(drafts)
        ),
        batch_size=2000,
    )
    TreeNode.objects.bulk_create(
        (
            TreeNode(log_id=log_id, level=level, index=index, hash=node)
            for level, index, node in zip(
                batch.node_levels, batch.node_indexes, batch.node_hashes, strict=True
            )
        ),
        batch_size=5000,
    )
    after = batch.after
    Checkpoint.objects.create(
        log_id=log_id, size=after.size, root=batch.root, note=batch.note, created_at=batch.now
    )
    Log.objects.filter(pk=log_id).update(
        size=after.size,
        root=batch.root,
        last_leaf_hash=after.last_leaf_hash,
        last_time=after.last_time,
        frontier=after.frontier,
    )


def signing_key_rotate(*, organization: Any, actor: Actor) -> SigningKey:
    """Replaces the log's signing key. The rotation entry names both keys, and the
    checkpoint that covers it carries both signatures, so a verifier that trusts
    either key can follow the log across the change."""
    _heads.pop((connection.settings_dict["NAME"], organization.pk), None)
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
        head = _head_of(log, signers=(old_signer, _signer_for(new_key)))
        _write_locked(_Batch.build(head, [draft]))
        return new_key
