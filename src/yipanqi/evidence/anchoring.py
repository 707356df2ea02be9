"""The platform anchors its own records in the evidence log: the audit trail, the attachments and the receipts of
assistance requests. The worker deposits them in batches (``jobs.anchor_records``): each source keeps how far it got
(``Anchor.last_id``), moved in the same transaction as the deposits, so a batch is deposited once, whole, or not at
all, and a crash resumes where the last committed batch ended.

An audit event is deposited as the SHA-256 of its canonical record (``audit_record``): anyone holding the audit
trail can recompute it and check it against the log (``audit_digest``).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import leaves, services
from .models import Anchor

AUDIT_MEDIA_TYPE = "application/vnd.yipanqi.audit+json"
# A record is anchored once it is this old (a transaction still open when a later one committed has committed by
# then), and each batch looks this many ids back for records that committed late (deposits are idempotent).
SETTLE = datetime.timedelta(seconds=10)
LOOKBACK = 200
RECEIPT_MEDIA_TYPE = "application/vnd.yipanqi.receipt+json"


def audit_record(event) -> dict[str, Any]:
    """What of an audit event is deposited (its digest): every field, in a form any language can rebuild."""
    return {
        "id": event.pk,
        "time": leaves.format_time(event.time),
        "actor": event.actor_id,
        "actor_agency": event.actor_agency_id,
        "api_key": event.api_key_id,
        "request_id": event.request_id,
        "ip": event.ip_address,
        "action": event.action,
        "object_type": f"{event.content_type.app_label}.{event.content_type.model}",
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "subject_agency": event.subject_agency_id,
        "before": event.before,
        "after": event.after,
    }


def audit_digest(event) -> str:
    data = json.dumps(audit_record(event), ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode()).hexdigest()


def _media_type(value: str) -> str:
    try:
        return leaves.check_media_type(value)
    except leaves.LeafError:
        return "application/octet-stream"


@dataclass(frozen=True)
class Source:
    name: str

    def rows(self, after: int, limit: int, settled):
        raise NotImplementedError

    def entry(self, row) -> tuple[services.Prepared, Any, str, str]:
        raise NotImplementedError


class AuditSource(Source):
    def rows(self, after: int, limit: int, settled):
        from yipanqi.core.models import AuditEvent

        return list(
            AuditEvent.objects.filter(pk__gt=after, time__lte=settled)
            .select_related("content_type", "subject_agency", "actor_agency")
            .order_by("pk")[:limit]
        )

    def entry(self, row):
        prepared = services.Prepared(
            content=audit_digest(row), algorithm="sha256", media_type=AUDIT_MEDIA_TYPE, case=f"audit:{row.pk}"
        )
        agency = row.subject_agency if row.subject_agency_id else (row.actor_agency if row.actor_agency_id else None)
        return prepared, agency, "system:audit", self.name


class AttachmentSource(Source):
    def rows(self, after: int, limit: int, settled):
        from yipanqi.assistance.models import Attachment

        return list(
            Attachment.objects.filter(pk__gt=after, uploaded_at__lte=settled)
            .select_related("request", "agency")
            .order_by("pk")[:limit]
        )

    def entry(self, row):
        prepared = services.Prepared(
            content=row.sha256.lower(),
            algorithm="sha256",
            media_type=_media_type(row.content_type),
            case=(row.request.number or f"request:{row.request_id}")[: leaves.MAX_CASE],
        )
        depositor = f"user:{row.uploaded_by_id}" if row.uploaded_by_id else "system:assistance"
        return prepared, row.agency, depositor, self.name


class ReceiptSource(Source):
    def rows(self, after: int, limit: int, settled):
        from yipanqi.assistance.models import Receipt

        return list(
            Receipt.objects.filter(pk__gt=after, created_at__lte=settled)
            .select_related("request", "issued_by")
            .order_by("pk")[:limit]
        )

    def entry(self, row):
        prepared = services.Prepared(
            content=row.digest.lower(),
            algorithm="sha256",
            media_type=RECEIPT_MEDIA_TYPE,
            case=(row.request.number or f"request:{row.request_id}")[: leaves.MAX_CASE],
        )
        return prepared, row.issued_by, "system:assistance", self.name


SOURCES = [
    AuditSource("core.auditevent"),
    AttachmentSource("assistance.attachment"),
    ReceiptSource("assistance.receipt"),
]


def anchor_batch(source: Source, limit: int | None = None, *, settle: bool = True) -> int:
    """Deposit the next batch of ``source``'s settled records (and any that committed late just below the mark);
    returns how many new deposits it made (0: up to date)."""
    limit = limit or settings.EVIDENCE_BATCH_SIZE
    with transaction.atomic():
        anchor, _created = Anchor.objects.select_for_update().get_or_create(source=source.name)
        settled = timezone.now() - (SETTLE if settle else datetime.timedelta(0))
        rows = source.rows(max(0, anchor.last_id - LOOKBACK), limit + LOOKBACK, settled)
        result = services.integrate([source.entry(row) for row in rows], check_first=True) if rows else []
        new = sum(1 for _deposit, created in result if created)
        if rows and rows[-1].pk > anchor.last_id:
            anchor.last_id = rows[-1].pk
            anchor.save(update_fields=["last_id", "updated_at"])
        return new


def anchor_all(limit: int | None = None, max_batches: int = 100, *, settle: bool = True) -> dict[str, int]:
    """Bring every source up to date (at most ``max_batches`` batches each per call); returns the counts.
    ``settle=False`` (the demo loader, nothing else writing) takes records however recent."""
    counts = {}
    for source in SOURCES:
        total = 0
        for _batch in range(max_batches):
            done = anchor_batch(source, limit, settle=settle)
            total += done
            if not done:
                break
        counts[source.name] = total
    return counts
