"""The deadline sweep (docs/assistance.md): every ``ASSISTANCE_SWEEP_MINUTES`` the worker notifies requests that
turned yellow or red and escalates overdue ones (``services.sweep``). Urgent requests count in hours, so a daily job
is too coarse: the sweep is a task that queues its own next run, and a daily job makes sure that chain exists."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import override
from django_tasks import task

from yipanqi.core.scheduling import daily_job

from . import services

logger = logging.getLogger(__name__)

_SWEEP_LOCK = 0x7970_7173  # "ypqs": serialises "is a sweep queued? if not, queue one" on PostgreSQL


def queued_sweep():
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return (
        DBTaskResult.objects.filter(
            task_path=sweep_deadlines.module_path, backend_name=sweep_deadlines.backend, status=TaskResultStatus.READY
        )
        .order_by("run_after")
        .first()
    )


def ensure_sweep(now: datetime.datetime | None = None) -> tuple[bool, datetime.datetime]:
    """Queue the next sweep unless one is queued; returns (queued now, when it runs)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SWEEP_LOCK])
        queued = queued_sweep()
        if queued is not None:
            return False, queued.run_after
        at = (now or timezone.now()) + datetime.timedelta(minutes=settings.ASSISTANCE_SWEEP_MINUTES)
        sweep_deadlines.using(run_after=at).enqueue()
        return True, at


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
