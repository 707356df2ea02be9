"""``yipanqi schedule_daily [--run-now [--day YYYY-MM-DD]]``: make sure the daily jobs are queued (docs/worker.md)."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tasks_db.models import get_date_max

from yipanqi.core import scheduling


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--day {value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Queue the daily jobs for the next DAILY_JOBS_AT unless a run is already queued; with --run-now, first run "
        "today's jobs here (those not yet done today). Exits non-zero if a job failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--run-now", action="store_true", help="run the jobs not yet done today, in this process")
        parser.add_argument("--day", help="with --run-now: run the jobs of this day (YYYY-MM-DD) instead of today")

    def handle(self, *args, run_now: bool, day: str | None, **options):
        if day and not run_now:
            raise CommandError("--day only goes with --run-now")
        jobs = scheduling.registered_jobs()
        failed = []
        if run_now:
            run_day = _day(day) if day else scheduling.today()
            if not jobs:
                self.stdout.write("no daily jobs are registered")
            for name, outcome in scheduling.run_jobs_for_day(run_day).items():
                style = {"done": self.style.SUCCESS, "failed": self.style.ERROR}.get(outcome, str)
                self.stdout.write(f"{run_day.isoformat()} {name}: {style(outcome)}")
                if outcome == "failed":
                    failed.append(name)
        queued, due = scheduling.ensure_next_run()
        when = (
            "as soon as a worker is free"
            if due == get_date_max()
            else f"at {timezone.localtime(due, timezone.get_default_timezone()):%Y-%m-%d %H:%M} (UTC+8)"
        )
        verb = "queued" if queued else "already queued"
        self.stdout.write(f"daily jobs ({len(jobs)} registered) {verb}: next run {when} (run `yipanqi db_worker`)")
        if failed:
            raise CommandError(f"{len(failed)} daily job(s) failed: {', '.join(failed)} (see the daily job runs)")
