"""The worker anchors the platform's records in the evidence log every EVIDENCE_BATCH_SECONDS (anchoring.anchor_all):
a task that queues its own next run, kept alive by a daily job (as the assistance deadline sweep does)."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from yipanqi.core.scheduling import daily_job, ensure_queued

from . import anchoring

logger = logging.getLogger(__name__)

_ANCHOR_LOCK = 0x7970_7165  # "ypqe": serialises "is an anchoring run queued? if not, queue one" on PostgreSQL


def ensure_anchoring(now: datetime.datetime | None = None) -> tuple[bool, datetime.datetime]:
    """Queue the next anchoring run unless one is queued; returns (queued now, when it runs)."""
    at = (now or timezone.now()) + datetime.timedelta(seconds=settings.EVIDENCE_BATCH_SECONDS)
    return ensure_queued(anchor_records, lock=_ANCHOR_LOCK, at=at)


@task()
def anchor_records() -> dict[str, int]:
    ensure_anchoring()  # first: a failing run must not break the chain
    counts = anchoring.anchor_all()
    logger.info("evidence anchoring: %s", counts)
    return counts


@daily_job("evidence.anchor")
def keep_anchoring(day: datetime.date) -> str:
    queued, at = ensure_anchoring()
    counts = anchoring.anchor_all()
    return f"{counts}; next run {'queued for' if queued else 'already queued for'} {at.isoformat()}"
