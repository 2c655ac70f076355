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
never pass the compare. Appends of more than ``_CHUNK`` entries always lock first,
then send their entries in chunks in pipeline mode (the database inserts one chunk
while the next is built) and finish with the same statement. Other databases
(SQLite, the embedded default) take the locking path with the ORM.
"""

from __future__ import annotations

import contextlib
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
from apps.ledger.events import LEDGER_KEY_ROTATED
from apps.ledger.models import Checkpoint, Entry, Log, SigningKey, TreeNode
from apps.ledger.types import Actor, EntryDraft, Receipt, Subject
from apps.tasks.models import TaskRecord
from apps.tasks.services import task_record_create
from audit_platform.errors import InvalidInput

ZERO_HASH = bytes(32)

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
    if on_postgres and len(drafts) <= _CHUNK:
        head = _heads.get(cache_key)
        if head is not None:
            batch = _Batch.build(head, drafts)
            if _pg_write(batch):
                _heads[cache_key] = batch.after
                return batch.receipts()
    with transaction.atomic():
        head = _head_locked(organization)
        if on_postgres and len(drafts) > _CHUNK:
            batch = _pg_write_chunked(head, drafts)
        else:
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
            # build_entry's own checks (a private helper of the entry format module:
            # the one place those rules are written).
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
class _Rows:
    """Entries and the tree nodes they complete, ready to insert."""

    first_seq: int
    drafts: Sequence[EntryDraft]
    bodies: list[bytes]
    leaf_hashes: list[bytes]
    node_levels: list[int]
    node_indexes: list[int]
    node_hashes: list[bytes]


class _Builder:
    """Builds entries on a head, chunk by chunk, then signs the checkpoint over them."""

    def __init__(self, head: _Head) -> None:
        self.before = head
        self.now = timezone.now()
        # Time never runs backwards in a log, even if this machine's clock does.
        self.time = max(self.now, head.last_time) if head.last_time else self.now
        self._time_text = format_time(self.time)
        self._tree = CompactRange.from_bytes(head.size, head.frontier)
        self._prev = head.last_leaf_hash
        self.leaf_hashes: list[bytes] = []

    def add(self, drafts: Sequence[EntryDraft]) -> _Rows:
        origin, time, time_text, tree = self.before.origin, self.time, self._time_text, self._tree
        first = seq = tree.size
        prev = self._prev
        bodies: list[bytes] = []
        hashes: list[bytes] = []
        levels: list[int] = []
        indexes: list[int] = []
        node_hashes: list[bytes] = []
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
        self._prev = prev
        self.leaf_hashes.extend(hashes)
        return _Rows(first, drafts, bodies, hashes, levels, indexes, node_hashes)

    def finish(self) -> tuple[_Head, bytes, str]:
        """The head after everything added, its root and its signed checkpoint."""
        head, tree = self.before, self._tree
        root = tree.root()
        note = sign_checkpoint(
            CheckpointText(origin=head.origin, size=tree.size, root=root), head.signers
        )
        after = _Head(
            log_id=head.log_id,
            origin=head.origin,
            size=tree.size,
            last_leaf_hash=self._prev,
            last_time=self.time,
            frontier=tree.to_bytes(),
            signers=head.signers,
        )
        return after, root, note


@dataclass(slots=True)
class _Batch:
    """Everything one append writes, built in memory on a given head."""

    before: _Head
    after: _Head
    time: datetime
    now: datetime
    rows: _Rows
    leaf_hashes: list[bytes]
    root: bytes
    note: str

    @classmethod
    def build(cls, head: _Head, drafts: Sequence[EntryDraft]) -> _Batch:
        builder = _Builder(head)
        rows = builder.add(drafts)
        return cls.finish(builder, rows)

    @classmethod
    def finish(cls, builder: _Builder, rows: _Rows) -> _Batch:
        after, root, note = builder.finish()
        return cls(
            before=builder.before,
            after=after,
            time=builder.time,
            now=builder.now,
            rows=rows,
            leaf_hashes=builder.leaf_hashes,
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


# Appends at most this many entries in one statement; larger batches go in chunks.
_CHUNK = 500

_LOG, _ENTRY, _NODE, _CHECKPOINT = (
    model._meta.db_table for model in (Log, Entry, TreeNode, Checkpoint)
)
_ENTRY_COLUMNS = (
    "log_id, seq, leaf_hash, body, time, type, subject_kind, subject_id, actor_kind, actor_id"
)

# The statements below interpolate only these constants (hence the noqa: S608).
# The compare-and-set of the head; every insert takes its log_id from it, so nothing
# is written when the head has moved on.
_PG_HEAD = f"""
WITH head AS (
    UPDATE {_LOG}
    SET size = %(size)s::bigint, root = %(root)s::bytea,
        last_leaf_hash = %(last_leaf_hash)s::bytea, last_time = %(time)s::timestamptz,
        frontier = %(frontier)s::bytea
    WHERE id = %(log_id)s::bigint AND size = %(old_size)s::bigint
        AND last_leaf_hash = %(old_last_leaf_hash)s::bytea
    RETURNING id
), checkpoint AS (
    INSERT INTO {_CHECKPOINT} (log_id, size, root, note, created_at)
    SELECT head.id, %(size)s::bigint, %(root)s::bytea, %(note)s::text, %(now)s::timestamptz
    FROM head
)"""  # noqa: S608

# One entry: plain parameters (arrays cost more to send than the row). A single leaf
# at ``seq`` completes the subtrees (level, seq >> level) for level 0, 1, ...: their
# hashes arrive concatenated, lowest level first.
_PG_APPEND_ONE = f"""{_PG_HEAD}, entries AS (
    INSERT INTO {_ENTRY} ({_ENTRY_COLUMNS})
    SELECT head.id, %(first_seq)s::bigint, %(leaf_hash)s::bytea, %(body)s::bytea,
        %(time)s::timestamptz, %(type)s::text, %(subject_kind)s::text,
        %(subject_id)s::text, %(actor_kind)s::text, %(actor_id)s::text
    FROM head
), nodes AS (
    INSERT INTO {_NODE} (log_id, level, "index", hash)
    SELECT head.id, g.level, %(first_seq)s::bigint >> g.level,
        substring(%(node_hashes)s::bytea FROM g.level * 32 + 1 FOR 32)
    FROM head, generate_series(0, length(%(node_hashes)s::bytea) / 32 - 1) AS g(level)
)
SELECT count(*) FROM head
"""  # noqa: S608

_PG_ENTRIES_FROM = """unnest(
        %(leaf_hashes)b::bytea[], %(bodies)b::bytea[], %(types)b::text[],
        %(subject_kinds)b::text[], %(subject_ids)b::text[], %(actor_kinds)b::text[],
        %(actor_ids)b::text[]
    ) WITH ORDINALITY AS e(leaf_hash, body, type, subject_kind, subject_id, actor_kind,
        actor_id, n)"""
_PG_NODES_FROM = """unnest(%(node_levels)b::smallint[], %(node_indexes)b::bigint[],
        %(node_hashes)b::bytea[]) AS t(level, index, hash)"""

_PG_APPEND_MANY = f"""{_PG_HEAD}, entries AS (
    INSERT INTO {_ENTRY} ({_ENTRY_COLUMNS})
    SELECT head.id, %(first_seq)s::bigint + e.n - 1, e.leaf_hash, e.body,
        %(time)s::timestamptz, e.type, e.subject_kind, e.subject_id, e.actor_kind, e.actor_id
    FROM head, {_PG_ENTRIES_FROM}
), nodes AS (
    INSERT INTO {_NODE} (log_id, level, "index", hash)
    SELECT head.id, t.level, t.index, t.hash FROM head, {_PG_NODES_FROM}
)
SELECT count(*) FROM head
"""  # noqa: S608

# The leading chunks of a large append, written while the head is locked.
_PG_INSERT_CHUNK = f"""
WITH entries AS (
    INSERT INTO {_ENTRY} ({_ENTRY_COLUMNS})
    SELECT %(log_id)s::bigint, %(first_seq)s::bigint + e.n - 1, e.leaf_hash, e.body,
        %(time)s::timestamptz, e.type, e.subject_kind, e.subject_id, e.actor_kind, e.actor_id
    FROM {_PG_ENTRIES_FROM}
)
INSERT INTO {_NODE} (log_id, level, "index", hash)
SELECT %(log_id)s::bigint, t.level, t.index, t.hash FROM {_PG_NODES_FROM}
"""  # noqa: S608


def _rows_params(rows: _Rows) -> dict[str, Any]:
    drafts = rows.drafts
    return {
        "first_seq": rows.first_seq,
        "leaf_hashes": rows.leaf_hashes,
        "bodies": rows.bodies,
        "types": [d.type for d in drafts],
        "subject_kinds": [d.subject.kind for d in drafts],
        "subject_ids": [d.subject.id for d in drafts],
        "actor_kinds": [d.actor.kind for d in drafts],
        "actor_ids": [d.actor.id for d in drafts],
        "node_levels": rows.node_levels,
        "node_indexes": rows.node_indexes,
        "node_hashes": rows.node_hashes,
    }


def _cursor() -> psycopg.Cursor[Any]:
    """A cursor that sends parameters apart from the statement text (bytea in binary)
    on the connection Django holds, inside whatever transaction Django has open."""
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    return psycopg.Cursor(connection.connection)


def _pg_statement(batch: _Batch) -> tuple[str, dict[str, Any]]:
    before, after, rows = batch.before, batch.after, batch.rows
    params: dict[str, Any] = {
        "log_id": before.log_id,
        "old_size": before.size,
        "old_last_leaf_hash": before.last_leaf_hash,
        "size": after.size,
        "root": batch.root,
        "last_leaf_hash": after.last_leaf_hash,
        "time": batch.time,
        "frontier": after.frontier,
        "note": batch.note,
        "now": batch.now,
    }
    if len(rows.drafts) != 1:
        params.update(_rows_params(rows))
        return _PG_APPEND_MANY, params
    draft = rows.drafts[0]
    params.update(
        first_seq=rows.first_seq,
        leaf_hash=rows.leaf_hashes[0],
        body=rows.bodies[0],
        type=draft.type,
        subject_kind=draft.subject.kind,
        subject_id=draft.subject.id,
        actor_kind=draft.actor.kind,
        actor_id=draft.actor.id,
        node_hashes=b"".join(rows.node_hashes),
    )
    return _PG_APPEND_ONE, params


def _pg_write(batch: _Batch) -> bool:
    """Writes the batch if the stored head is still the one it was built on; else nothing."""
    with connection.wrap_database_errors, _cursor() as cursor:
        cursor.execute(*_pg_statement(batch))
        (written,) = cursor.fetchone()
    return written == 1


# Django declares foreign keys DEFERRABLE INITIALLY DEFERRED, so by default PostgreSQL
# checks the log_id of every inserted entry and node at COMMIT, after the last chunk.
# A large append checks its own while it goes, so the checks overlap the building.
_PG_OWN_FOREIGN_KEYS = """
SELECT string_agg(quote_ident(n.nspname) || '.' || quote_ident(c.conname), ', ')
FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
WHERE c.contype = 'f' AND c.condeferrable AND c.condeferred
    AND c.conrelid IN (%s::regclass, %s::regclass)
"""
_own_foreign_keys: dict[str, str | None] = {}


def _foreign_keys_checked_at_once(cursor: psycopg.Cursor[Any], on: bool) -> None:
    key = connection.settings_dict["NAME"]
    if key not in _own_foreign_keys:
        cursor.execute(_PG_OWN_FOREIGN_KEYS, (_ENTRY, _NODE))
        _own_foreign_keys[key] = cursor.fetchone()[0]
    if names := _own_foreign_keys[key]:
        cursor.execute(f"SET CONSTRAINTS {names} {'IMMEDIATE' if on else 'DEFERRED'}")


def _pg_write_chunked(head: _Head, drafts: Sequence[EntryDraft]) -> _Batch:
    """Appends a large batch to a head this transaction holds locked. The statements go
    out in pipeline mode, so the database inserts one chunk while the next is built."""
    builder = _Builder(head)
    last = (len(drafts) - 1) // _CHUNK * _CHUNK
    pipeline = connection.connection.pipeline if psycopg.Pipeline.is_supported() else None
    with (
        connection.wrap_database_errors,
        _cursor() as chunks,
        _cursor() as final,
    ):
        _foreign_keys_checked_at_once(chunks, True)
        with pipeline() if pipeline else contextlib.nullcontext():
            for start in range(0, last, _CHUNK):
                params = _rows_params(builder.add(drafts[start : start + _CHUNK]))
                params.update(log_id=head.log_id, time=builder.time)
                chunks.execute(_PG_INSERT_CHUNK, params)
            batch = _Batch.finish(builder, builder.add(drafts[last:]))
            final.execute(*_pg_statement(batch))
        (written,) = final.fetchone()
        _foreign_keys_checked_at_once(chunks, False)
    if written != 1:
        raise RuntimeError(f"log {head.origin}: head changed under its row lock")
    return batch


def _write_locked(batch: _Batch) -> None:
    """Writes a batch built on the head that this transaction holds locked."""
    if connection.vendor == "postgresql":
        if not _pg_write(batch):
            raise RuntimeError(f"log {batch.before.origin}: head changed under its row lock")
        return
    log_id, rows = batch.before.log_id, batch.rows
    Entry.objects.bulk_create(
        (
            Entry(
                log_id=log_id,
                seq=rows.first_seq + i,
                leaf_hash=rows.leaf_hashes[i],
                body=rows.bodies[i],
                time=batch.time,
                type=draft.type,
                subject_kind=draft.subject.kind,
                subject_id=draft.subject.id,
                actor_kind=draft.actor.kind,
                actor_id=draft.actor.id,
            )
            for i, draft in enumerate(rows.drafts)
        ),
        batch_size=2000,
    )
    TreeNode.objects.bulk_create(
        (
            TreeNode(log_id=log_id, level=level, index=index, hash=node)
            for level, index, node in zip(
                rows.node_levels, rows.node_indexes, rows.node_hashes, strict=True
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
        data = {"vkey": new_key.vkey, "old_vkey": old_key.vkey}
        LEDGER_KEY_ROTATED.check(data)
        draft = EntryDraft(
            type=LEDGER_KEY_ROTATED.name,
            actor=actor,
            subject=Subject(kind=LEDGER_KEY_ROTATED.subject, id=f"{new_key.key_id:08x}"),
            data=data,
        )
        head = _head_of(log, signers=(old_signer, _signer_for(new_key)))
        _write_locked(_Batch.build(head, [draft]))
        return new_key


def log_verify_request(*, organization: Any) -> TaskRecord:
    """Queues a check of the organization's stored log against its entries; the
    returned task record follows it. Changes nothing on the log, so it has no entry."""
    # The task module imports the services it runs; importing it here keeps that one-way.
    from apps.ledger.tasks import log_verify_task

    log = Log.objects.get(organization=organization)
    with transaction.atomic():
        record = task_record_create(
            organization=organization,
            kind="ledger.verify",
            subject_kind="ledger",
            subject_id=log.origin,
        )
        transaction.on_commit(lambda: log_verify_task.delay(str(record.pk)))
    return record
