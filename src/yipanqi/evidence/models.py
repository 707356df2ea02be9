"""The evidence log (存证) in the database: its deposits (the leaves), the tiles of perfect subtree hashes, its state,
its signed checkpoints and the witnesses' cosignatures.

Storage follows the tiled-log design (C2SP tlog-tiles): node (level l, index i) is the hash of the perfect subtree over
leaves [i·2^l, (i+1)·2^l). Nodes are grouped into tiles of height 8: tile (L, n) holds the nodes of levels 8L … 8L+7
below 256 consecutive nodes of level 8L — every complete node of those levels, so a proof reads a node without hashing.
Nodes never change once complete; only the right-most tile of each tile level grows. Nothing recomputes the tree.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yipanqi.core.permissions import VisibleQuerySet

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT


class DepositQuerySet(VisibleQuerySet):
    def _visible_q(self, principal):
        """An agency sees its own deposits; a circle's coordinators see those of the circle's agencies. (Anyone may
        check whether a hash was deposited: ``selectors.lookup`` answers found / not found with no more.)"""
        from yipanqi.directory.models import Agency

        q = Q(agency_id=principal.agency_id) if principal.agency_id else Q(pk__in=[])
        circles = principal.coordinated_circle_ids
        if circles:
            q |= Q(agency__in=Agency.objects.in_circles(circles).values("pk"))
        return q


class Deposit(models.Model):
    """One leaf of the log: the hash of a document or evidence file with who deposited it and when. The leaf's
    encoding (``leaves.Leaf``) is rebuilt from these columns; ``leaf_hash`` is kept to serve proofs by hash."""

    index = models.BigIntegerField(_("index in the log"), primary_key=True)
    identity = models.CharField(_("identity"), max_length=64)
    leaf_hash = models.BinaryField(_("leaf hash"), max_length=32)
    content_hash = models.CharField(_("content hash"), max_length=128)
    algorithm = models.CharField(_("algorithm"), max_length=10)
    media_type = models.CharField(_("media type"), max_length=100)
    agency = models.ForeignKey(
        "directory.Agency",
        verbose_name=_("depositing agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # evidence_agency_idx (agency, -index) serves it
        # No database constraint: PostgreSQL checks a foreign key row by row (a trigger per inserted row, run at
        # commit), about a sixth of a 10,000-deposit batch. The sequencer writes the acting agency it was given, the
        # leaf names the agency itself, and PROTECT still stops the ORM deleting an agency that deposited.
        db_constraint=False,
        help_text=_("Empty for the platform's own deposits (its audit trail of system actions)."),
    )
    agency_label = models.CharField(_("agency as written in the leaf"), max_length=250)
    depositor = models.CharField(_("depositor"), max_length=100)
    deposited_at = models.DateTimeField(_("deposited at"))
    case_ref = models.CharField(_("case reference"), max_length=100, blank=True)
    salt = models.CharField(_("salt"), max_length=32)
    source = models.CharField(_("source"), max_length=40, blank=True)

    objects = DepositQuerySet.as_manager()

    class Meta:
        verbose_name = _("deposit")
        verbose_name_plural = _("deposits")
        ordering = ["-index"]
        # Plain indexes, no PostgreSQL "_like" twins (nobody searches these by prefix): every index costs each insert.
        constraints = [models.UniqueConstraint(fields=["identity"], name="evidence_deposit_identity")]
        indexes = [
            models.Index(fields=["agency", "-index"], name="evidence_agency_idx"),
            models.Index(fields=["content_hash"], name="evidence_content_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.index} {self.algorithm}:{self.content_hash[:16]}…"

    @property
    def audit_agency(self):
        return self.agency

    def leaf(self):
        """The leaf as the log hashed it (``leaves.Leaf``), rebuilt from the columns."""
        from .leaves import Leaf, format_time

        return Leaf(
            content=self.content_hash,
            algorithm=self.algorithm,
            media_type=self.media_type,
            agency=self.agency_label,
            depositor=self.depositor,
            time=format_time(self.deposited_at),
            case=self.case_ref,
            salt=self.salt,
        )


class Tile(models.Model):
    """The nodes of tile ``level`` (node levels 8·level … 8·level+7), number ``index``: ``width`` nodes of the
    tile's lowest level (1 … 256) and every complete node above them, level by level, 32 bytes each."""

    key = models.BigIntegerField(primary_key=True)  # level << 56 | index
    level = models.SmallIntegerField(_("tile level"))
    index = models.BigIntegerField(_("tile index"))
    width = models.SmallIntegerField(_("width"))
    hashes = models.BinaryField(_("hashes"))

    class Meta:
        verbose_name = _("tile")
        verbose_name_plural = _("tiles")

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index} ({self.width})"


def _new_epoch() -> str:
    """Migration 0001 made a column with this default (since removed); migrations still import it."""
    return secrets.token_hex(16)


class LogState(models.Model):
    """The log's size and root, with its right edge (one perfect subtree hash per set bit of the size, largest
    first) so that appending needs no lookup. One row, locked by the sequencer."""

    id = models.SmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(_("size"), default=0)
    root = models.BinaryField(_("root"), max_length=32)
    frontier = models.BinaryField(_("right edge"), default=b"")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("log state")
        verbose_name_plural = _("log state")

    def __str__(self) -> str:
        return f"size {self.size}"


class Anchor(models.Model):
    """How far the worker has deposited a source of records (the audit trail, assistance attachments and
    receipts): every record with an id up to ``last_id`` is in the log."""

    source = models.CharField(_("source"), max_length=40, primary_key=True)
    last_id = models.BigIntegerField(_("deposited up to id"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("anchor")
        verbose_name_plural = _("anchors")

    def __str__(self) -> str:
        return f"{self.source} ≤ {self.last_id}"


class Checkpoint(models.Model):
    """A signed tree head (C2SP signed-note checkpoint): its size, root and the signed note as served."""

    size = models.BigIntegerField(_("size"), unique=True)
    root = models.BinaryField(_("root"), max_length=32)
    note = models.TextField(_("signed note"))
    key_name = models.CharField(_("signing key"), max_length=200)
    signed_at = models.DateTimeField(_("signed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["-size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class Witness(models.Model):
    """Another agency's node that cosigns checkpoints (tlog-cosignature/v1) with its own key."""

    agency = models.ForeignKey("directory.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("key name"), max_length=200, unique=True)
    verifier_key = models.CharField(_("verifier key"), max_length=300)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("witness")
        verbose_name_plural = _("witnesses")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Cosignature(models.Model):
    """A witness's cosignature of a checkpoint: it saw this tree head, consistent with the last one it saw."""

    checkpoint = models.ForeignKey(
        Checkpoint, verbose_name=_("checkpoint"), on_delete=models.CASCADE, related_name="cosignatures"
    )
    witness = models.ForeignKey(Witness, verbose_name=_("witness"), on_delete=models.PROTECT, related_name="+")
    line = models.CharField(_("signature line"), max_length=400)
    timestamp = models.BigIntegerField(_("cosigned at (Unix time)"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cosignature")
        verbose_name_plural = _("cosignatures")
        constraints = [models.UniqueConstraint(fields=["checkpoint", "witness"], name="evidence_one_cosignature")]

    def __str__(self) -> str:
        return f"{self.witness} @ {self.checkpoint.size}"

    @property
    def audit_agency(self):
        return self.witness.agency
