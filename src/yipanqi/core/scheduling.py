"""Daily jobs: idempotent functions every app can register, run once a day by the task worker (docs/worker.md).

An app registers a job in its ``jobs`` module and imports that module in its ``AppConfig.ready()``::

    # yipanqi/ledger/jobs.py
    from yipanqi.core.scheduling import daily_job

    @daily_job("ledger.reminders")
    def send_reminders(day: datetime.date) -> str | None:
        ...  # runs inside its own transaction; returns a short outcome for the run log, or None

The task :func:`run_daily_jobs` runs every registered job for one day: a :class:`~yipanqi.core.models.DailyJobRun`
row per (job, day) makes each job run once per day, however often the task runs; a job that raised is retried by the
next run for the same day, and does not stop the others. Before running the jobs the task queues itself for the next
``settings.DAILY_JOBS_AT`` (China Standard Time), unless a run is already queued; ``yipanqi schedule_daily`` starts
the chain (and after every deploy makes sure it is still there).
"""

from __future__ import annotations

import datetime
import logging
import traceback
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from .models import DailyJobRun, code_validator

logger = logging.getLogger(__name__)

JobFunction = Callable[[datetime.date], "str | None"]

_REGISTRY: dict[str, JobFunction] = {}

# A run still marked "running" after this long is taken to have died with its worker and is run again.
STALE_RUN = datetime.timedelta(hours=3)

# Key of the PostgreSQL advisory lock that serialises "is a run queued? if not, queue one".
_SCHEDULE_LOCK = 0x7970_7164  # "ypqd"


def daily_job(name: str) -> Callable[[JobFunction], JobFunction]:
    """Register ``func(day) -> str | None`` as the daily job ``name`` (e.g. ``"ledger.reminders"``).

    A job must be idempotent: it may run again for the same day after a failure. Registering the same function twice
    (a module imported again) is harmless; two different functions under one name are a configuration error.
    """
    try:
        code_validator(name)
    except ValidationError:
        raise ValueError(f"daily job name {name!r}: use lower-case letters, digits and . _ - ") from None
    if len(name) > DailyJobRun._meta.get_field("name").max_length:
        raise ValueError(f"daily job name {name!r} is too long")

    def register(func: JobFunction) -> JobFunction:
        existing = _REGISTRY.get(name)
        if existing is not None and _qualified_name(existing) != _qualified_name(func):
            raise ImproperlyConfigured(
                f"daily job {name!r} is registered twice: {_qualified_name(existing)} and {_qualified_name(func)}"
            )
        _REGISTRY[name] = func
        return func

    return register


def _qualified_name(func) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def registered_jobs() -> dict[str, JobFunction]:
    """The registered jobs by name, in the order they run (by name)."""
    return dict(sorted(_REGISTRY.items()))


def unregister(name: str) -> None:
    """Forget a job (tests register throw-away jobs)."""
    _REGISTRY.pop(name, None)


def today() -> datetime.date:
    """Today in China Standard Time (the project's time zone), whatever zone is active."""
    return timezone.localdate(timezone=timezone.get_default_timezone())


def daily_time() -> datetime.time:
    hours, minutes = str(settings.DAILY_JOBS_AT).split(":")
    return datetime.time(int(hours), int(minutes))


def next_run_at(now: datetime.datetime | None = None) -> datetime.datetime:
    """The first ``DAILY_JOBS_AT`` (in Asia/Shanghai, the project's time zone) strictly after ``now``."""
    zone = timezone.get_default_timezone()
    local = timezone.localtime(now or timezone.now(), zone)
    at = datetime.datetime.combine(local.date(), daily_time(), tzinfo=zone)
    if at <= local:
        at = datetime.datetime.combine(local.date() + datetime.timedelta(days=1), daily_time(), tzinfo=zone)
    return at


def _claim(name: str, day: datetime.date) -> DailyJobRun | None:
    """The run row for (job, day) if this process should run the job now, else None (done, or running elsewhere)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return DailyJobRun.objects.create(name=name, day=day, started_at=now)
    except IntegrityError:
        pass
    run = DailyJobRun.objects.filter(name=name, day=day).first()
    if run is None or run.status == DailyJobRun.Status.DONE:
        return None
    if run.status == DailyJobRun.Status.RUNNING and run.started_at > now - STALE_RUN:
        return None
    # Failed, or stale: take it over, unless another process took it over first.
    taken = DailyJobRun.objects.filter(pk=run.pk, status=run.status, started_at=run.started_at).update(
        status=DailyJobRun.Status.RUNNING, started_at=now, finished_at=None, error="", attempts=F("attempts") + 1
    )
    if not taken:
        return None
    run.refresh_from_db()
    return run


def run_jobs_for_day(day: datetime.date) -> dict[str, str]:
    """Run every registered job not yet done for ``day``; returns ``{name: "done" | "failed" | "skipped"}``.

    Each job runs in its own transaction: if it raises, its writes roll back, the error is recorded on its run row,
    and the next job runs.
    """
    outcomes: dict[str, str] = {}
    for name, func in registered_jobs().items():
        run = _claim(name, day)
        if run is None:
            outcomes[name] = "skipped"
            continue
        try:
            with transaction.atomic():
                outcome = func(day)
        except BaseException as exc:
            logger.exception("daily job %s for %s failed", name, day.isoformat())
            DailyJobRun.objects.filter(pk=run.pk).update(
                status=DailyJobRun.Status.FAILED,
                finished_at=timezone.now(),
                error="".join(traceback.format_exception(exc))[-20000:],
            )
            if not isinstance(exc, Exception):
                raise  # the worker is being stopped
            outcomes[name] = "failed"
        else:
            DailyJobRun.objects.filter(pk=run.pk).update(
                status=DailyJobRun.Status.DONE,
                finished_at=timezone.now(),
                outcome="" if outcome is None else str(outcome),
            )
            logger.info("daily job %s for %s done: %s", name, day.isoformat(), outcome or "-")
            outcomes[name] = "done"
    return outcomes


def queued(task_function):
    """The earliest queued, not yet started run of ``task_function`` (a ``DBTaskResult``), or None."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return (
        DBTaskResult.objects.filter(
            task_path=task_function.module_path,
            backend_name=task_function.backend,
            status=TaskResultStatus.READY,
        )
        .order_by("run_after")
        .first()
    )


def ensure_queued(task_function, *, lock: int, at: datetime.datetime, args=()) -> tuple[bool, datetime.datetime]:
    """Queue ``task_function(*args)`` to run at ``at`` unless a run of it is already queued: the chains of tasks that
    queue their own next run (the daily jobs, the assistance sweep, the evidence anchoring).

    Returns (whether a run was queued now, when the queued run is due). The check and the insert of the task row
    share one transaction under a lock (the advisory lock ``lock`` on PostgreSQL, the write lock on SQLite), so two
    schedulers at once still queue one run; the task row is written by the database backend in this transaction, so
    it is committed with it (no on_commit needed)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock])
        waiting = queued(task_function)
        if waiting is not None:
            return False, waiting.run_after
        task_function.using(run_after=at).enqueue(*args)
        return True, at


def ensure_next_run(now: datetime.datetime | None = None) -> tuple[bool, datetime.datetime]:
    """Queue :func:`run_daily_jobs` for the next ``DAILY_JOBS_AT`` unless a run is already queued (see
    :func:`ensure_queued`); returns (whether a run was queued now, when the queued run is due)."""
    at = next_run_at(now)
    made, due = ensure_queued(run_daily_jobs, lock=_SCHEDULE_LOCK, at=at, args=(at.date().isoformat(),))
    if made:
        logger.info("daily jobs queued for %s", at.isoformat())
    return made, due


@task()
def run_daily_jobs(day_iso: str | None = None) -> dict[str, str]:
    """The daily task: queue the next run first (so a crash in a job cannot break the chain), then run the jobs of
    ``day_iso`` (the day the run was queued for; today in China Standard Time if not given)."""
    day = datetime.date.fromisoformat(day_iso) if day_iso else today()
    ensure_next_run()
    return run_jobs_for_day(day)
