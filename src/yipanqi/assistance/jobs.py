"""The deadline sweep (docs/assistance.md): every ``ASSISTANCE_SWEEP_MINUTES`` the worker notifies requests that
turned yellow or red and escalates overdue ones (``services.sweep``). Urgent requests count in hours, so a daily job
is too coarse: the sweep is a task that queues its own next run, and a daily job makes sure that chain exists."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.utils import timezone
from django.utils.translation import override
from django_tasks import task

from yipanqi.core.scheduling import daily_job, ensure_queued

from . import services

logger = logging.getLogger(__name__)

_SWEEP_LOCK = 0x7970_7173  # "ypqs": serialises "is a sweep queued? if not, queue one" on PostgreSQL


def ensure_sweep(now: datetime.datetime | None = None) -> tuple[bool, datetime.datetime]:
    """Queue the next sweep unless one is queued; returns (queued now, when it runs)."""
    at = (now or timezone.now()) + datetime.timedelta(minutes=settings.ASSISTANCE_SWEEP_MINUTES)
    return ensure_queued(sweep_deadlines, lock=_SWEEP_LOCK, at=at)


@task()
def sweep_deadlines() -> dict[str, int]:
    ensure_sweep()  # first: a failing sweep must not break the chain
    with override(settings.LANGUAGE_CODE):
        counts = services.sweep()
    logger.info("assistance sweep: %s", counts)
    return counts


@daily_job("assistance.sweep")
def keep_sweeping(day: datetime.date) -> str:
    queued, at = ensure_sweep()
    with override(settings.LANGUAGE_CODE):
        counts = services.sweep()
    return f"{counts}; next sweep {'queued for' if queued else 'already queued for'} {at.isoformat()}"
