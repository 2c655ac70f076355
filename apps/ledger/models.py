"""Storage of the per-organization ledger (specs/ledger-format.md).

Entries, tree nodes and checkpoints are append-only: database triggers refuse
UPDATE and DELETE (and TRUNCATE on PostgreSQL), see the ``append_only`` migration.
"""

from __future__ import annotations

from django.db import models

from audit_platform.ids import uuid_primary_key


class Log(models.Model):
    """The head of one organization's log. Appends lock this row, so they serialize per
    organization and never across organizations."""

    # Internal row ids (bigint) that no API, page or export shows: the log is addressed
    # by its organization and origin. The raw-SQL appends cast them as bigint.
    id = models.BigAutoField(primary_key=True)

    organization = models.OneToOneField(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="ledger_log"
    )
    origin = models.CharField(max_length=255, unique=True)
    size = models.BigIntegerField(default=0)
    root = models.BinaryField(max_length=32)
    last_leaf_hash = models.BinaryField(max_length=32)
    last_time = models.DateTimeField(null=True, blank=True)
    # The hashes of the complete subtrees on the tree's right edge (RFC 6962 compact
    # range): enough to hash the next leaf in without reading the tree.
    frontier = models.BinaryField(default=b"")

    def __str__(self) -> str:
        return self.origin


class Entry(models.Model):
    """One sequenced event: its exact canonical bytes and columns indexed for search."""

    # Internal; entries are addressed by their per-organization ``seq``, which says
    # nothing about other organizations. The raw-SQL appends leave the id to the sequence.
    id = models.BigAutoField(primary_key=True)

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="entries")
    seq = models.BigIntegerField()
    leaf_hash = models.BinaryField(max_length=32)
    body = models.BinaryField(help_text="RFC 8785 canonical bytes; hashed as stored.")
    time = models.DateTimeField()
    type = models.CharField(max_length=100)
    subject_kind = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=128)
    actor_kind = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=128)

    class Meta:
        ordering = ["log", "seq"]
        verbose_name_plural = "entries"
        constraints = [models.UniqueConstraint(fields=["log", "seq"], name="entry_unique_seq")]
        indexes = [
            models.Index(fields=["log", "type", "seq"], name="entry_type_idx"),
            models.Index(
                fields=["log", "subject_kind", "subject_id", "seq"], name="entry_subject_idx"
            ),
            models.Index(fields=["log", "time"], name="entry_time_idx"),
            models.Index(fields=["log", "actor_kind", "actor_id", "seq"], name="entry_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.log_id}#{self.seq} {self.type}"


class TreeNode(models.Model):
    """The hash of a complete subtree: leaves [index * 2**level, (index + 1) * 2**level).

    Level 0 holds the leaf hashes. Any root or proof needs O(log n) of these.
    """

    # Internal; nodes are addressed by (log, level, index).
    id = models.BigAutoField(primary_key=True)

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["log", "level", "index"], name="treenode_unique_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.log_id} L{self.level}[{self.index}]"


class Checkpoint(models.Model):
    """A signed checkpoint (C2SP signed note) as it was served, kept verbatim."""

    # Internal; checkpoints are addressed by their per-organization tree size.
    id = models.BigAutoField(primary_key=True)

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="checkpoints")
    size = models.BigIntegerField()
    root = models.BinaryField(max_length=32)
    note = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["log", "size"]
        constraints = [
            models.UniqueConstraint(fields=["log", "size"], name="checkpoint_unique_size")
        ]

    def __str__(self) -> str:
        return f"{self.log_id}@{self.size}"


class SigningKey(models.Model):
    """An Ed25519 key that signs one log's checkpoints. The private half is encrypted
    under the deployment's key-encryption key and never leaves the service."""

    id = uuid_primary_key()

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="signing_keys")
    key_id = models.BigIntegerField(help_text="C2SP key ID, 4 bytes as an unsigned integer.")
    public_key = models.BinaryField(max_length=32)
    private_key_encrypted = models.BinaryField()
    vkey = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["log", "created_at"]

    def __str__(self) -> str:
        return self.vkey
