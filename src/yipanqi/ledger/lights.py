"""Supervision lights (三色督办) and the reporting calendar, as pure functions of dates (no database).

A light changes only on known dates: the deadline passes (red), progress falls behind the time elapsed (yellow),
a report falls due without being filed (yellow), the deadline comes within N working days (blue). Every write that
changes a measure computes these *transition dates* and stores them (``Measure.blue_from`` / ``yellow_from`` /
``red_from``, ``MeasureOwner.report_due_on`` / ``behind_from``); the light on any day is then a comparison of the
stored dates with that day: in Python (``light_on``) or in SQL (``selectors.light_case``) for boards over 100,000
measures. Nothing has to be refreshed when the date changes. The rules, with the default settings:

- ``done``: the measure is closed (销号).
- ``red``: past the deadline — from the day after ``due_on``.
- ``yellow``: behind plan — progress below the share of the time elapsed between start and deadline by more than
  ``LEDGER_BEHIND_MARGIN`` points — or a share's report is overdue (see the reporting calendar below).
- ``blue``: the deadline is within ``LEDGER_NEAR_WORKDAYS`` Chinese working days (节假日 and 调休 counted).
- ``green``: otherwise.

A node with sub-items takes the most urgent light of itself and everything under it: its transition dates are
the earliest of its own and its open children's. So the API, the pages, the board and the bulletins all show one
and the same light for an area whose measure is overdue: red.

Reporting calendar: an agreement reports monthly, quarterly or every N days. Periods are calendar months,
calendar quarters, or N-day runs counted from the agreement's start (``valid_from``, else ``signed_on``). The report
on a period is due ``LEDGER_REPORT_GRACE_DAYS`` days after the period ends ("每月5日前报送上月进展"). A share
that has never reported owes a report on the period in which its measure starts (or it was assigned); a report
filed within the grace days after a period ends counts for that period; after a report the next one is owed for
the following period. A share whose due date has passed without a report is *missing* its report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings

from yipanqi.core.workdays import workdays_between

LIGHTS = ("red", "yellow", "blue", "green", "done")
URGENCY = {light: index for index, light in enumerate(LIGHTS)}


def _min(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


# --------------------------------------------------------------------------- reporting calendar


@dataclass(frozen=True)
class Calendar:
    """An agreement's reporting calendar: ``cycle`` is monthly, quarterly or custom (every ``every_days`` days)."""

    cycle: str
    every_days: int | None = None
    anchor: date | None = None  # where custom periods are counted from

    @classmethod
    def of(cls, agreement) -> Calendar:
        anchor = agreement.valid_from or agreement.signed_on
        if anchor is None and getattr(agreement, "created_at", None):
            anchor = agreement.created_at.date()
        return cls(agreement.reporting_cycle, agreement.reporting_every_days, anchor)

    def period(self, day: date) -> tuple[date, date]:
        """The reporting period that contains ``day``: (first day, last day)."""
        if self.cycle == "custom" and self.every_days:
            anchor = self.anchor or date(day.year, 1, 1)
            index = (day - anchor).days // self.every_days
            start = anchor + timedelta(days=index * self.every_days)
            return start, start + timedelta(days=self.every_days - 1)
        months = 3 if self.cycle == "quarterly" else 1
        first_month = (day.month - 1) // months * months + 1
        start = date(day.year, first_month, 1)
        return start, _add_months(start, months) - timedelta(days=1)

    def next_period(self, period: tuple[date, date]) -> tuple[date, date]:
        return self.period(period[1] + timedelta(days=1))

    def due_on(self, period: tuple[date, date]) -> date:
        """When the report on ``period`` is due: its last day plus the grace days."""
        return period[1] + timedelta(days=settings.LEDGER_REPORT_GRACE_DAYS)

    def report_due(self, *, last_report: date | None, since: date) -> date:
        """When a share's next report is due, given the day of its last report (or ``since``: start/assignment)."""
        if last_report is None:
            return self.due_on(self.period(since))
        covered = self.period(last_report - timedelta(days=settings.LEDGER_REPORT_GRACE_DAYS))
        return self.due_on(self.next_period(covered))

    def upcoming(self, today: date, count: int = 4) -> list[tuple[date, date, date]]:
        """The next ``count`` reports' (period start, period end, due date) whose due date is today or later."""
        period = self.period(today - timedelta(days=settings.LEDGER_REPORT_GRACE_DAYS))
        rows = []
        while len(rows) < count:
            if self.due_on(period) >= today:
                rows.append((period[0], period[1], self.due_on(period)))
            period = self.next_period(period)
        return rows


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


# --------------------------------------------------------------------------- transition dates


def near_from(due_on: date | None) -> date | None:
    """The first day on which ``due_on`` is within ``LEDGER_NEAR_WORKDAYS`` working days (the blue light)."""
    if due_on is None:
        return None
    limit = settings.LEDGER_NEAR_WORKDAYS
    day = due_on
    for _step in range(400):  # bounded: even 春节 plus N working days is far less than a year
        before = day - timedelta(days=1)
        if workdays_between(before, due_on) > limit:
            break
        day = before
    return day


def behind_from(progress: int, start_on: date | None, due_on: date | None) -> date | None:
    """The first day on which ``progress`` trails the elapsed share of [start, deadline] by more than the margin."""
    if start_on is None or due_on is None or due_on <= start_on:
        return None
    span = (due_on - start_on).days
    allowed = (progress + settings.LEDGER_BEHIND_MARGIN) * span  # behind when elapsed_days * 100 > allowed
    if allowed >= span * 100:
        return None  # never behind before the deadline; red takes over after it
    return start_on + timedelta(days=allowed // 100 + 1)


@dataclass(frozen=True)
class Schedule:
    """When a measure turns blue, yellow and red (None: not on any day)."""

    blue_from: date | None = None
    yellow_from: date | None = None
    red_from: date | None = None

    def light_on(self, day: date, *, done: bool = False) -> str:
        return light_on(day, done=done, blue_from=self.blue_from, yellow_from=self.yellow_from, red_from=self.red_from)


def light_on(day: date, *, done: bool, blue_from: date | None, yellow_from: date | None, red_from: date | None) -> str:
    if done:
        return "done"
    if red_from is not None and red_from <= day:
        return "red"
    if yellow_from is not None and yellow_from <= day:
        return "yellow"
    if blue_from is not None and blue_from <= day:
        return "blue"
    return "green"


def own_schedule(*, progress: int, start_on: date | None, due_on: date | None, report_due: date | None) -> Schedule:
    """A node's schedule from its own dates; ``report_due`` is the earliest report due of its open shares."""
    missed = report_due + timedelta(days=1) if report_due else None
    return Schedule(
        blue_from=near_from(due_on),
        yellow_from=_min(behind_from(progress, start_on, due_on), missed),
        red_from=due_on + timedelta(days=1) if due_on else None,
    )


def merge(own: Schedule, children: list[Schedule]) -> Schedule:
    """The most urgent of a node and its open children: the earliest of each transition date."""
    return Schedule(
        blue_from=_min(own.blue_from, *(c.blue_from for c in children)),
        yellow_from=_min(own.yellow_from, *(c.yellow_from for c in children)),
        red_from=_min(own.red_from, *(c.red_from for c in children)),
    )
