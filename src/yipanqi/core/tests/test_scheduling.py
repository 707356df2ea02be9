"""Daily jobs: the registry, once per day, a failing job does not stop the others, the task queues itself once."""

from __future__ import annotations

import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from yipanqi.core import scheduling
from yipanqi.core.models import CalendarDay, DailyJobRun
from yipanqi.core.testing.worker import run_worker

CST = ZoneInfo("Asia/Shanghai")
DAY = datetime.date(2026, 3, 2)
RUN_TASK = "yipanqi.core.scheduling.run_daily_jobs"


@pytest.fixture
def jobs():
    """An empty registry for the test (the apps' own jobs are put back afterwards)."""
    saved = dict(scheduling._REGISTRY)
    scheduling._REGISTRY.clear()
    yield scheduling
    scheduling._REGISTRY.clear()
    scheduling._REGISTRY.update(saved)


def _queued():
    return list(DBTaskResult.objects.filter(task_path=RUN_TASK, status=TaskResultStatus.READY))


# --- the registry -------------------------------------------------------------------------------------------------


def test_registry_takes_named_functions_once(jobs):
    @jobs.daily_job("test.beta")
    def beta(day):
        return None

    @jobs.daily_job("test.alpha")
    def alpha(day):
        return None

    jobs.daily_job("test.alpha")(alpha)  # the same function again (a module imported twice): harmless
    assert list(jobs.registered_jobs()) == ["test.alpha", "test.beta"]
    assert jobs.registered_jobs()["test.alpha"] is alpha

    def impostor(day):
        return None

    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        jobs.daily_job("test.alpha")(impostor)
    for bad in ("Test Alpha", "", "ledger..x", "x" * 101):
        with pytest.raises(ValueError, match="daily job name"):
            jobs.daily_job(bad)


def test_next_run_is_the_next_daily_time_in_china_standard_time(settings):
    settings.DAILY_JOBS_AT = "07:00"
    at = scheduling.next_run_at
    assert at(datetime.datetime(2026, 3, 2, 6, 59, tzinfo=CST)) == datetime.datetime(2026, 3, 2, 7, 0, tzinfo=CST)
    assert at(datetime.datetime(2026, 3, 2, 7, 0, tzinfo=CST)) == datetime.datetime(2026, 3, 3, 7, 0, tzinfo=CST)
    # 23:30 UTC on 1 March is 07:30 on 2 March in Beijing.
    utc_evening = datetime.datetime(2026, 3, 1, 23, 30, tzinfo=datetime.UTC)
    assert at(utc_evening) == datetime.datetime(2026, 3, 3, 7, 0, tzinfo=CST)
    settings.DAILY_JOBS_AT = "23:45"
    assert at(datetime.datetime(2026, 12, 31, 23, 50, tzinfo=CST)) == datetime.datetime(2027, 1, 1, 23, 45, tzinfo=CST)


# --- running the jobs of a day ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_job_runs_once_per_day(jobs):
    calls = []

    @jobs.daily_job("test.count")
    def count(day):
        calls.append(day)
        return f"{len(calls)} reminder(s)"

    @jobs.daily_job("test.quiet")
    def quiet(day):
        calls.append(("quiet", day))

    assert jobs.run_jobs_for_day(DAY) == {"test.count": "done", "test.quiet": "done"}
    assert jobs.run_jobs_for_day(DAY) == {"test.count": "skipped", "test.quiet": "skipped"}
    assert calls == [DAY, ("quiet", DAY)]
    run = DailyJobRun.objects.get(name="test.count", day=DAY)
    assert (run.status, run.outcome, run.error, run.attempts) == ("done", "1 reminder(s)", "", 1)
    assert run.finished_at >= run.started_at
    assert DailyJobRun.objects.get(name="test.quiet").outcome == ""
    nextday = DAY + datetime.timedelta(days=1)
    assert jobs.run_jobs_for_day(nextday)["test.count"] == "done"
    assert calls[-2:] == [nextday, ("quiet", nextday)]


@pytest.mark.django_db
def test_a_failing_job_is_recorded_rolled_back_and_retried_without_stopping_the_others(jobs):
    broken = {"yes": True}
    ran = []

    @jobs.daily_job("test.a-fails")
    def fails(day):
        CalendarDay.objects.create(date=day, kind="holiday", name="不应留下")
        if broken["yes"]:
            raise ValueError("boom: the ledger is unreachable")
        return "fixed"

    @jobs.daily_job("test.b-works")
    def works(day):
        ran.append(day)
        return "ok"

    assert jobs.run_jobs_for_day(DAY) == {"test.a-fails": "failed", "test.b-works": "done"}
    failed = DailyJobRun.objects.get(name="test.a-fails", day=DAY)
    assert failed.status == "failed" and failed.finished_at is not None
    assert "ValueError: boom: the ledger is unreachable" in failed.error
    assert not CalendarDay.objects.filter(name="不应留下").exists()  # its writes rolled back
    assert ran == [DAY]

    broken["yes"] = False  # a later run of the same day retries the failed job only
    assert jobs.run_jobs_for_day(DAY) == {"test.a-fails": "done", "test.b-works": "skipped"}
    retried = DailyJobRun.objects.get(pk=failed.pk)
    assert (retried.status, retried.outcome, retried.error, retried.attempts) == ("done", "fixed", "", 2)
    assert CalendarDay.objects.filter(name="不应留下").count() == 1
    assert ran == [DAY]


@pytest.mark.django_db
def test_a_job_running_elsewhere_is_left_alone_unless_it_died(jobs):
    ran = []

    @jobs.daily_job("test.slow")
    def slow(day):
        ran.append(day)

    run = DailyJobRun.objects.create(name="test.slow", day=DAY, started_at=timezone.now())
    assert jobs.run_jobs_for_day(DAY) == {"test.slow": "skipped"}
    DailyJobRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - jobs.STALE_RUN)
    assert jobs.run_jobs_for_day(DAY) == {"test.slow": "done"}
    assert ran == [DAY]
    assert DailyJobRun.objects.get(pk=run.pk).attempts == 2


# --- the task queues itself, once ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_daily_task_runs_the_jobs_and_queues_the_next_run_once(jobs, settings):
    settings.DAILY_JOBS_AT = "06:30"
    ran = []
    jobs.daily_job("test.remind")(ran.append)

    before = timezone.now()
    assert jobs.run_daily_jobs.call(DAY.isoformat()) == {"test.remind": "done"}
    (queued,) = _queued()
    expected = jobs.next_run_at(before)
    assert queued.run_after == expected and timezone.localtime(queued.run_after, CST).time() == datetime.time(6, 30)
    assert queued.args_kwargs == {"args": [expected.date().isoformat()], "kwargs": {}}

    # Run again (a duplicate, a retry): the jobs are not run twice and the next run is not queued twice.
    assert jobs.run_daily_jobs.call(DAY.isoformat()) == {"test.remind": "skipped"}
    assert [q.pk for q in _queued()] == [queued.pk]
    assert ran == [DAY]


@pytest.mark.django_db
def test_daily_task_without_a_day_runs_today(jobs):
    ran = []
    jobs.daily_job("test.today")(ran.append)
    jobs.run_daily_jobs.call()
    assert ran == [jobs.today()]


@pytest.mark.django_db
def test_schedule_daily_queues_one_run(jobs):
    out = StringIO()
    call_command("schedule_daily", stdout=out)
    assert "queued: next run at" in out.getvalue() and "already" not in out.getvalue()
    call_command("schedule_daily", stdout=out)
    assert "already queued" in out.getvalue()
    (queued,) = _queued()
    assert queued.run_after == jobs.next_run_at()


@pytest.mark.django_db
def test_schedule_daily_run_now_runs_todays_jobs_and_fails_loudly(jobs):
    ran = []
    jobs.daily_job("test.ok")(ran.append)

    out = StringIO()
    call_command("schedule_daily", "--run-now", stdout=out)
    assert f"{jobs.today().isoformat()} test.ok: done" in out.getvalue()
    call_command("schedule_daily", "--run-now", stdout=out)
    assert "test.ok: skipped" in out.getvalue()
    assert ran == [jobs.today()]

    @jobs.daily_job("test.broken")
    def broken(day):
        raise RuntimeError("no")

    with pytest.raises(CommandError, match=r"1 daily job\(s\) failed: test\.broken"):
        call_command("schedule_daily", "--run-now", "--day", "2026-03-02", stdout=StringIO())
    assert ran == [jobs.today(), DAY]
    assert len(_queued()) == 1
    with pytest.raises(CommandError, match="only goes with --run-now"):
        call_command("schedule_daily", "--day", "2026-03-02")
    with pytest.raises(CommandError, match="not a date"):
        call_command("schedule_daily", "--run-now", "--day", "2026-02-30")


@pytest.mark.django_db
def test_daily_runs_in_the_admin_are_read_only(web, admin_user):
    run = DailyJobRun.objects.create(name="test.admin", day=DAY, status="failed", error="Traceback …")
    client = web(admin_user)
    assert client.get("/admin/core/dailyjobrun/").status_code == 200
    assert client.get(f"/admin/core/dailyjobrun/{run.pk}/change/").status_code == 200
    assert client.post(f"/admin/core/dailyjobrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert DailyJobRun.objects.filter(pk=run.pk).exists()


# --- the real worker (transactional: runs after the tests above and leaves the database empty) -------------------


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_daily_jobs_and_the_chain_goes_on(jobs):
    ran = []

    @jobs.daily_job("test.worker")
    def remind(day):
        ran.append(day)
        return "3 reminders"

    with transaction.atomic():
        first = jobs.run_daily_jobs.enqueue(DAY.isoformat())  # due now

    run_worker()

    assert ran == [DAY]
    done = DBTaskResult.objects.get(pk=first.id)
    assert done.status == TaskResultStatus.SUCCESSFUL, done.traceback
    assert done.return_value == {"test.worker": "done"}
    assert DailyJobRun.objects.get(name="test.worker", day=DAY).outcome == "3 reminders"
    (queued,) = _queued()  # the next run, tomorrow morning: not due, so the batch worker left it
    assert queued.run_after > timezone.now()

    # schedule_daily (e.g. after a deploy) finds the chain in place and adds nothing.
    out = StringIO()
    call_command("schedule_daily", stdout=out)
    assert "already queued" in out.getvalue()
    assert [q.pk for q in _queued()] == [queued.pk]

    # The next run comes due: it runs its day's jobs and queues the one after.
    DBTaskResult.objects.filter(pk=queued.pk).update(run_after=timezone.now())
    run_worker()
    assert ran == [DAY, datetime.date.fromisoformat(queued.args_kwargs["args"][0])]
    assert DBTaskResult.objects.get(pk=queued.pk).status == TaskResultStatus.SUCCESSFUL
    assert len(_queued()) == 1
