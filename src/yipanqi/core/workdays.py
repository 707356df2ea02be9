"""Chinese working days for deadlines: 法定节假日, 调休 make-up workdays, and an admin-kept table for later years.

Where a day's status comes from, first match wins:

1. a ``CalendarDay`` row (core/models.py) for that date: admins add the State Council's announcement for years the
   packages do not know yet, and may correct a package for any date;
2. ``chinese_calendar`` for the years it carries the official 节假日 and 调休 data (2004–2026 in 1.11.0; found by
   asking it, so a newer version widens this by itself) — ``calendar_source(year) == "official"``;
3. otherwise (``"statutory+table"``) Monday to Friday is a working day unless ``holidays.China`` lists it as a
   public holiday. ``holidays`` marks "(observed)" days where a statutory holiday falls on a weekend (2027-10-04/05,
   2027-02-09/10): **they count as days off**, because the 2024 《全国年节及纪念日放假办法》 says holidays of all
   citizens that fall on a Saturday or Sunday are made up on working days, and every State Council arrangement so far
   has given those days off. Its half-day holidays (妇女节, 青年节) are not counted. The 调休 make-up Saturdays and
   Sundays of such a year are unknown until announced, so only ``CalendarDay`` rows add them (plus any
   ``holidays.China`` itself lists for that year — none for 2027 in 0.108). A year ``holidays`` cannot compute
   either (before 1950, far in the future) is plain Monday to Friday: no date ever makes these functions fail.
   The fallback assumes the five-day week for every year, also before 1995.

Dates in, dates out: take "today" and instants as ``django.utils.timezone.localdate(...)`` (Asia/Shanghai);
``datetime.datetime`` values are refused so a UTC instant near midnight cannot land on the wrong day.

Speed: the packages' exceptions to the Monday-to-Friday rule are built once per year and process
(``functools.lru_cache``); each year's table of cumulative working-day counts, which merges in the ``CalendarDay``
rows, is cached under ``current_version("core")``. Every audited core write (the CalendarDay admin records one)
bumps that version, so another process sees an admin's change within ``DATA_VERSION_TTL_SECONDS``. Rows written
without ``record_event`` are not noticed until the version moves. Counting and adding work year by year with
bisection, never day by day.
"""

from __future__ import annotations

import datetime
import logging
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import chinese_calendar
import holidays
from django.db import models
from django.utils.translation import gettext_lazy as _

from .versioning import current_version

logger = logging.getLogger(__name__)

OFFICIAL = "official"
STATUTORY_AND_TABLE = "statutory+table"
CalendarSource = Literal["official", "statutory+table"]


class DayUnit(models.TextChoices):
    """How a deadline policy counts its days (usable as a model field's choices)."""

    CALENDAR = "calendar", _("calendar days")
    WORKDAY = "workday", _("working days")


# --- public API --------------------------------------------------------------------------------------------------


def is_workday(day: datetime.date) -> bool:
    """Whether people work on ``day`` in mainland China (a CalendarDay row decides first, then the packages)."""
    _check_date(day)
    return _year_table(day.year, current_version("core")).is_workday(day)


def add_workdays(start: datetime.date, n: int) -> datetime.date:
    """The ``n``-th working day after ``start``; ``start`` itself never counts.

    ``n = 0`` gives ``start`` if it is a working day, else the next working day (so ``add_workdays(d, 0)`` is
    "``d`` or the first working day after it"). For ``n ≥ 1`` the result ``r`` is a working day with
    ``workdays_between(start, r) == n``: from Friday 2026-02-13, 1 working day is the make-up Saturday 2026-02-14
    and 2 are 2026-02-24, after 春节 (15th to 23rd).
    Raises ``ValueError`` for negative ``n`` and ``OverflowError`` past year 9999.
    """
    _check_date(start)
    if n < 0:
        raise ValueError("add_workdays counts forward: n must be 0 or more")
    version = current_version("core")
    table = _year_table(start.year, version)
    if n == 0:
        if table.is_workday(start):
            return start
        n = 1
    target = table.count_through(start) + n  # counted from the start of ``table``'s year
    year = start.year
    while target > table.total:
        target -= table.total
        year += 1
        if year > datetime.MAXYEAR:
            raise OverflowError("add_workdays went past year 9999")
        table = _year_table(year, version)
    return datetime.date.fromordinal(table.first_ordinal + bisect_left(table.cumulative, target))


def workdays_between(start: datetime.date, end: datetime.date) -> int:
    """How many working days ``d`` have ``start < d ≤ end``; negative (minus the days in ``end < d ≤ start``) when
    ``end`` is before ``start``.

    ``workdays_between(today, due)`` is "due within N working days": 0 when due today or on the next days off;
    negative when overdue by that many working days. Overdue over days off only (due Friday, today Sunday) is 0,
    so tell "overdue" by ``due < today``, not by the sign.
    """
    _check_date(start)
    _check_date(end)
    if end < start:
        return -workdays_between(end, start)
    version = current_version("core")
    first = _year_table(start.year, version)
    if start.year == end.year:
        return first.count_through(end) - first.count_through(start)
    count = first.total - first.count_through(start)
    for year in range(start.year + 1, end.year):
        count += _year_table(year, version).total
    return count + _year_table(end.year, version).count_through(end)


def add_days(
    start: datetime.date, n: int, unit: DayUnit | Literal["calendar", "workday"], *, roll_to_workday: bool = False
) -> datetime.date:
    """A deadline ``n`` days after ``start``, counting ``unit`` days: ``"calendar"`` (``n`` may be negative) or
    ``"workday"`` (``add_workdays``, ``n ≥ 0``).

    ``roll_to_workday=True`` moves a calendar-day result that falls on a day off to the next working day, as
    procedure law does for periods ending on a holiday (民事诉讼法 第八十五条, 刑事诉讼法 第一百零五条); a
    working-day result is a working day already (except ``n = 0``, which ``add_workdays`` rolls forward itself).
    """
    if unit == DayUnit.CALENDAR:
        _check_date(start)
        result = start + datetime.timedelta(days=n)
        return add_workdays(result, 0) if roll_to_workday else result
    if unit == DayUnit.WORKDAY:
        return add_workdays(start, n)
    raise ValueError(f"unknown day unit {unit!r}: expected 'calendar' or 'workday'")


def calendar_source(year: int) -> CalendarSource:
    """How sure the calendar of ``year`` is: ``"official"`` when ``chinese_calendar`` carries the announced
    节假日 and 调休, ``"statutory+table"`` when days come from statutory holidays plus the admins' CalendarDay table
    (make-up workdays not yet entered there are missing, so a deadline may be a day or two off)."""
    if not datetime.MINYEAR <= year <= datetime.MAXYEAR:
        raise ValueError(f"year {year} is out of range")
    return _package_year(year).source


# --- caches ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PackageYear:
    """What the packages say about one year, as exceptions to "Monday to Friday is a working day"."""

    days_off: frozenset[datetime.date]  # Monday-to-Friday days not worked
    makeup_workdays: frozenset[datetime.date]  # Saturdays and Sundays worked (调休)
    source: CalendarSource


@lru_cache(maxsize=256)
def _package_year(year: int) -> _PackageYear:
    days = _days_of(year)
    try:
        official_workdays = {day for day in days if chinese_calendar.is_workday(day)}
    except NotImplementedError:  # the package raises for every date of a year it has no data for
        return _statutory_year(year)
    return _PackageYear(
        days_off=frozenset(day for day in days if day.weekday() < 5 and day not in official_workdays),
        makeup_workdays=frozenset(day for day in days if day.weekday() >= 5 and day in official_workdays),
        source=OFFICIAL,
    )


def _statutory_year(year: int) -> _PackageYear:
    try:
        calendar = holidays.China(years=year)  # public holidays incl. "(observed)" days; no half-day holidays
        days_off = frozenset(day for day in calendar if day.year == year and day.weekday() < 5)
        makeup = frozenset(
            day for day in getattr(calendar, "weekend_workdays", ()) if day.year == year and day.weekday() >= 5
        )
    except Exception:  # a library gap must never break a deadline: fall back to Monday to Friday
        logger.warning("holidays.China failed for %s; using Monday to Friday", year, exc_info=True)
        days_off, makeup = frozenset(), frozenset()
    return _PackageYear(days_off=days_off, makeup_workdays=makeup, source=STATUTORY_AND_TABLE)


@dataclass(frozen=True, slots=True)
class _YearTable:
    """One year's working days as cumulative counts: ``cumulative[i]`` working days among its first ``i + 1`` days."""

    first_ordinal: int
    cumulative: tuple[int, ...]

    @property
    def total(self) -> int:
        return self.cumulative[-1]

    def count_through(self, day: datetime.date) -> int:
        return self.cumulative[day.toordinal() - self.first_ordinal]

    def is_workday(self, day: datetime.date) -> bool:
        i = day.toordinal() - self.first_ordinal
        return self.cumulative[i] > (self.cumulative[i - 1] if i else 0)


@lru_cache(maxsize=64)
def _year_table(year: int, version: int) -> _YearTable:
    """The year's working days with its CalendarDay rows applied; ``version`` (the core data version) keys the cache."""
    from .models import CalendarDay

    overrides = {
        day: kind == CalendarDay.Kind.WORKDAY
        for day, kind in CalendarDay.objects.filter(date__year=year).values_list("date", "kind")
    }
    package = _package_year(year)
    cumulative = []
    count = 0
    for day in _days_of(year):
        worked = overrides.get(day)
        if worked is None:
            worked = day not in package.days_off if day.weekday() < 5 else day in package.makeup_workdays
        count += worked
        cumulative.append(count)
    return _YearTable(first_ordinal=datetime.date(year, 1, 1).toordinal(), cumulative=tuple(cumulative))


def _days_of(year: int) -> list[datetime.date]:
    first = datetime.date(year, 1, 1).toordinal()
    last = datetime.date(year, 12, 31).toordinal()
    return [datetime.date.fromordinal(o) for o in range(first, last + 1)]


def _check_date(value: object) -> None:
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise TypeError(f"expected a datetime.date (use timezone.localdate()), got {type(value).__name__}")
