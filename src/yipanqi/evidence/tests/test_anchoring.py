"""The platform's records anchored by the worker (audit trail, assistance attachments and receipts), and the full
check of the log (fsck) finding every kind of damage."""

from __future__ import annotations

import datetime
import hashlib

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from yipanqi.assistance.tests.conftest import courts, kind, sent  # noqa: F401  (shared fixtures)
from yipanqi.core.models import AuditEvent
from yipanqi.evidence import anchoring, fsck, jobs, services
from yipanqi.evidence.models import Anchor, Checkpoint, Deposit, LogState, Tile

pytestmark = pytest.mark.django_db


def _items(count: int, start: int = 0) -> list[dict]:
    return [{"hash": hashlib.sha256(f"文件{n}".encode()).hexdigest()} for n in range(start, start + count)]


@pytest.fixture
def demo_anchored(db):
    """The demo's records are anchored first: each test then sees only what it makes."""
    with _later():
        anchoring.anchor_all()


def _later():
    return time_machine.travel(timezone.now() + anchoring.SETTLE + datetime.timedelta(seconds=5), tick=False)


def test_the_audit_trail_is_anchored_once_with_recomputable_digests(owner, demo_anchored):
    mark = Anchor.objects.get(source="core.auditevent").last_id
    services.deposit(acting_user=owner, items=_items(3))  # writes an audit event
    services.deposit(acting_user=owner, items=_items(2, start=3))
    events = list(AuditEvent.objects.filter(pk__gt=mark).order_by("pk"))
    assert len(events) == 2
    with _later():
        counts = anchoring.anchor_all()
        assert counts["core.auditevent"] == len(events)
        again = anchoring.anchor_all()
    assert again["core.auditevent"] == 0
    anchored = Deposit.objects.filter(source="core.auditevent", case_ref__in=[f"audit:{e.pk}" for e in events])
    assert anchored.count() == len(events)
    for event in events:
        deposit = anchored.get(case_ref=f"audit:{event.pk}")
        assert deposit.content_hash == anchoring.audit_digest(event)
        assert deposit.media_type == anchoring.AUDIT_MEDIA_TYPE
    assert Anchor.objects.get(source="core.auditevent").last_id == events[-1].pk
    assert fsck.run().ok


def test_recent_records_wait_until_they_settle(owner, demo_anchored):
    services.deposit(acting_user=owner, items=_items(1))
    event = AuditEvent.objects.order_by("pk").last()
    anchoring.anchor_all()  # not settled yet
    assert not Deposit.objects.filter(case_ref=f"audit:{event.pk}").exists()
    with _later():
        anchoring.anchor_all()
    assert Deposit.objects.filter(case_ref=f"audit:{event.pk}").exists()


def test_a_record_that_committed_late_below_the_mark_is_still_anchored(owner, demo_anchored):
    services.deposit(acting_user=owner, items=_items(1))
    services.deposit(acting_user=owner, items=_items(1, start=5))
    first, second = AuditEvent.objects.order_by("-pk")[:2][::-1]
    with _later():
        anchoring.anchor_all()
    late = Deposit.objects.get(case_ref=f"audit:{first.pk}")
    late_index = late.index
    # Simulate the first event committing after the mark passed it: its deposit is not there yet.
    Deposit.objects.filter(pk=late.pk).delete()
    Anchor.objects.filter(source="core.auditevent").update(last_id=second.pk)
    with _later():
        anchoring.anchor_all()
    assert Deposit.objects.filter(case_ref=f"audit:{first.pk}").exclude(index=late_index).exists()


def test_assistance_attachments_and_receipts_are_anchored(demo_anchored, sent):  # noqa: F811
    from yipanqi.assistance.models import Attachment, Receipt

    attachments = list(Attachment.objects.filter(request=sent))
    receipts = list(Receipt.objects.filter(request=sent))
    assert attachments and receipts
    with _later():
        counts = anchoring.anchor_all()
    assert counts["assistance.attachment"] == len({a.sha256 for a in attachments})
    assert counts["assistance.receipt"] == len(receipts)
    for attachment in attachments:
        deposit = Deposit.objects.get(source="assistance.attachment", content_hash=attachment.sha256)
        assert deposit.agency == attachment.agency and deposit.case_ref == sent.number
        assert deposit.media_type == "application/pdf"
    for receipt in receipts:
        deposit = Deposit.objects.get(source="assistance.receipt", content_hash=receipt.digest)
        assert deposit.agency == receipt.issued_by
    assert fsck.run().ok


def test_the_anchoring_chain_queues_itself_once():
    queued, at = jobs.ensure_anchoring()
    assert queued
    again, at_again = jobs.ensure_anchoring()
    assert not again and at_again == at


def test_fsck_passes_on_a_sound_log_and_names_each_kind_of_damage(owner):
    for count in (3, 250, 20):
        services.deposit(acting_user=owner, items=_items(count, start=Deposit.objects.count()))
    report = fsck.run()
    assert report.ok, report.problems
    assert report.deposits == 273 and report.checkpoints == 3 and report.tiles >= 2

    deposit = Deposit.objects.get(index=7)
    Deposit.objects.filter(pk=7).update(case_ref="改动")
    problems = fsck.run().problems
    assert any("deposit 7" in p and "leaf" in p for p in problems) and any("identity" in p for p in problems)
    Deposit.objects.filter(pk=7).update(case_ref=deposit.case_ref)

    tile = Tile.objects.order_by("key").first()
    original = bytes(tile.hashes)
    Tile.objects.filter(pk=tile.pk).update(hashes=original[:-1] + bytes([original[-1] ^ 1]))
    assert any("differs" in p for p in fsck.run().problems)
    Tile.objects.filter(pk=tile.pk).update(hashes=original)

    checkpoint = Checkpoint.objects.get(size=3)
    Checkpoint.objects.filter(pk=checkpoint.pk).update(note=checkpoint.note.replace("\n3\n", "\n4\n"))
    assert any("checkpoint 3" in p for p in fsck.run().problems)
    Checkpoint.objects.filter(pk=checkpoint.pk).update(note=checkpoint.note)

    LogState.objects.update(size=272)
    assert any("272" in p for p in fsck.run().problems)
    LogState.objects.update(size=273)
    assert fsck.run().ok
    assert connection.vendor in ("sqlite", "postgresql")
