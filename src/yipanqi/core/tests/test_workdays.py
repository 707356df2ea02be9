"""The Chinese working-day calendar: official years, the statutory fallback, the admins' CalendarDay table."""

from __future__ import annotations

import datetime

import chinese_calendar
import pytest
from django.db import transaction
from django.urls import reverse

from yipanqi.core.models import AuditEvent, CalendarDay
from yipanqi.core.services import record_event, snapshot
from yipanqi.core.workdays import (
    DayUnit,
    add_days,
    add_workdays,
    calendar_source,
    is_workday,
    workdays_between,
)

pytestmark = pytest.mark.django_db

D = datetime.date


def _days(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]


def _save_day(day: str, kind: str, name: str = "测试") -> CalendarDay:
    """As the admin does it: the row and its audit event in one transaction (which bumps the core version)."""
    with transaction.atomic():
        row = CalendarDay.objects.filter(date=day).first()
        before = snapshot(row) if row else None
        row = row or CalendarDay(date=D.fromisoformat(day))
        row.kind, row.name = kind, name
        row.save()
        record_event(acting_user=None, action="core.calendarday.save", obj=row, before=before, after=snapshot(row))
    return row


def _delete_day(row: CalendarDay) -> None:
    with transaction.atomic():
        record_event(acting_user=None, action="core.calendarday.delete", obj=row, before=snapshot(row))
        row.delete()


# --- official years ----------------------------------------------------------------------------------------------


def test_2026_national_day_and_mid_autumn_are_days_off():
    for day in [D(2026, 9, 25), *_days(D(2026, 10, 1), D(2026, 10, 7))]:
        assert not is_workday(day), day
        assert not chinese_calendar.is_workday(day), day
    assert is_workday(D(2026, 9, 24)) and is_workday(D(2026, 10, 8))
    assert calendar_source(2026) == "official"


def test_2026_make_up_weekend_days_are_workdays():
    makeup = [
        d
        for d in chinese_calendar.get_workdays(D(2026, 1, 1), D(2026, 12, 31), include_weekends=True)
        if d.weekday() >= 5
    ]
    assert D(2026, 2, 14) in makeup and D(2026, 10, 10) in makeup  # 春节 and 国庆 调休 Saturdays
    for day in makeup:
        assert is_workday(day), day


def test_ordinary_weekends_are_days_off():
    assert D(2026, 3, 7).weekday() == 5
    assert not is_workday(D(2026, 3, 7)) and not is_workday(D(2026, 3, 8))
    assert is_workday(D(2026, 3, 9))


def test_every_official_day_agrees_with_chinese_calendar():
    for day in _days(D(2004, 1, 1), D(2026, 12, 31)):
        assert is_workday(day) is chinese_calendar.is_workday(day), day


# --- later and unknown years -------------------------------------------------------------------------------------


def test_2027_falls_back_to_statutory_holidays():
    assert calendar_source(2027) == "statutory+table"
    assert not is_workday(D(2027, 10, 1))  # National Day, a Friday
    assert not is_workday(D(2027, 10, 4)) and not is_workday(D(2027, 10, 5))  # made up for the weekend: observed
    assert not is_workday(D(2027, 2, 8)) and not is_workday(D(2027, 2, 10))  # 春节 and its observed day
    assert D(2027, 3, 10).weekday() == 2 and is_workday(D(2027, 3, 10))  # a plain Wednesday
    assert not is_workday(D(2027, 3, 13))  # a plain Saturday: make-up days only come from the table


@pytest.mark.parametrize("year", [1, 1949, 1990, 2040, 2200, 9999])
def test_unknown_years_never_raise(year):
    assert calendar_source(year) == "statutory+table"
    for day in _days(D(year, 1, 1), D(year, 12, 31)):
        assert isinstance(is_workday(day), bool)
    assert 200 < workdays_between(D(year, 1, 1), D(year, 12, 31)) <= 261
    if year < 9999:
        assert add_workdays(D(year, 12, 31), 10).year == year + 1
    if year in (1, 1949, 2200):  # nothing known about them at all: plain Monday to Friday
        week = _days(D(year, 6, 1), D(year, 6, 14))
        assert [is_workday(d) for d in week] == [d.weekday() < 5 for d in week]


def test_calendar_days_holidays_of_a_far_year_are_known():
    assert not is_workday(D(2040, 10, 1)) and not is_workday(D(1990, 10, 1))
    assert is_workday(D(2040, 10, 9))


def test_dates_only():
    with pytest.raises(TypeError):
        is_workday(datetime.datetime(2026, 10, 1, 12, 0))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        add_workdays("2026-10-01", 1)  # type: ignore[arg-type]


# --- the admins' table -------------------------------------------------------------------------------------------


def test_calendar_day_rows_override_and_take_effect_through_the_version():
    saturday, wednesday = D(2027, 2, 20), D(2027, 3, 10)
    assert saturday.weekday() == 5 and not is_workday(saturday) and is_workday(wednesday)

    makeup = _save_day("2027-02-20", CalendarDay.Kind.WORKDAY, "春节")
    holiday = _save_day("2027-03-10", CalendarDay.Kind.HOLIDAY)
    assert is_workday(saturday) and not is_workday(wednesday)
    assert workdays_between(D(2027, 2, 19), D(2027, 2, 22)) == 2  # the make-up Saturday and Monday
    assert add_workdays(D(2027, 2, 19), 1) == saturday

    _save_day("2027-02-20", CalendarDay.Kind.HOLIDAY)  # changed
    assert not is_workday(saturday)
    _delete_day(holiday)
    assert is_workday(wednesday)
    _delete_day(CalendarDay.objects.get(pk=makeup.pk))
    assert not is_workday(saturday)


def test_calendar_day_corrects_an_official_year():
    assert is_workday(D(2026, 3, 11)) and not is_workday(D(2026, 3, 14))
    _save_day("2026-03-11", CalendarDay.Kind.HOLIDAY)
    _save_day("2026-03-14", CalendarDay.Kind.WORKDAY)
    assert not is_workday(D(2026, 3, 11)) and is_workday(D(2026, 3, 14))
    assert calendar_source(2026) == "official"


def test_warm_calls_do_not_query(django_assert_num_queries):
    is_workday(D(2026, 1, 5))
    with django_assert_num_queries(0):
        for day in _days(D(2026, 1, 1), D(2026, 12, 31)):
            is_workday(day)
            workdays_between(D(2026, 1, 1), day)


# --- arithmetic --------------------------------------------------------------------------------------------------


def test_add_workdays_across_spring_festival_2026():
    friday = D(2026, 2, 13)
    assert add_workdays(friday, 1) == D(2026, 2, 14)  # the 调休 Saturday before 春节
    assert add_workdays(friday, 2) == D(2026, 2, 24)  # after the holiday (15th to 23rd)
    assert add_workdays(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert add_workdays(D(2026, 2, 24), 4) == D(2026, 2, 28)  # the next 调休 Saturday


def test_add_workdays_zero_rolls_forward_to_a_working_day():
    assert add_workdays(D(2026, 2, 13), 0) == D(2026, 2, 13)
    assert add_workdays(D(2026, 2, 15), 0) == D(2026, 2, 24)
    assert add_workdays(D(2026, 3, 7), 0) == D(2026, 3, 9)
    with pytest.raises(ValueError):
        add_workdays(D(2026, 3, 9), -1)


def test_add_workdays_crosses_years():
    assert add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 4)  # New Year's Day 2027 is a Friday
    assert add_workdays(D(2025, 12, 30), 300).year == 2027
    assert workdays_between(D(2025, 12, 30), add_workdays(D(2025, 12, 30), 300)) == 300


def test_add_workdays_and_workdays_between_agree():
    for start in _days(D(2026, 1, 1), D(2026, 1, 31)) + _days(D(2026, 9, 20), D(2026, 10, 12)):
        for n in (1, 2, 5, 10, 30):
            result = add_workdays(start, n)
            assert is_workday(result)
            assert workdays_between(start, result) == n
            assert workdays_between(start, result - datetime.timedelta(days=1)) == n - 1


def test_workdays_between_counts_the_end_not_the_start():
    assert workdays_between(D(2026, 2, 13), D(2026, 2, 24)) == 2
    assert workdays_between(D(2026, 2, 24), D(2026, 2, 13)) == -2
    assert workdays_between(D(2026, 3, 9), D(2026, 3, 9)) == 0
    assert workdays_between(D(2026, 3, 6), D(2026, 3, 8)) == 0  # Friday to Sunday
    assert workdays_between(D(2026, 3, 8), D(2026, 3, 6)) == 0  # (Friday, Sunday] holds no working day
    assert workdays_between(D(2026, 3, 9), D(2026, 3, 6)) == -1  # (Friday, Monday] holds the Monday
    assert workdays_between(D(2026, 3, 6), D(2026, 3, 9)) == 1


def test_workdays_between_long_spans_match_a_day_by_day_count():
    start, end = D(2004, 3, 15), D(2026, 11, 20)
    expected = sum(chinese_calendar.is_workday(d) for d in _days(start + datetime.timedelta(days=1), end))
    assert workdays_between(start, end) == expected
    assert workdays_between(end, start) == -expected
    assert workdays_between(D(2025, 12, 1), D(2027, 1, 31)) == sum(
        is_workday(d) for d in _days(D(2025, 12, 2), D(2027, 1, 31))
    )


def test_add_days_in_both_units():
    eve = D(2026, 9, 30)
    assert add_days(eve, 1, "calendar") == D(2026, 10, 1)
    assert add_days(eve, 1, DayUnit.CALENDAR, roll_to_workday=True) == D(2026, 10, 8)
    assert add_days(eve, 10, "calendar", roll_to_workday=True) == D(2026, 10, 10)  # the 调休 Saturday
    assert add_days(eve, -30, "calendar") == D(2026, 8, 31)
    assert add_days(eve, 1, "workday") == D(2026, 10, 8)
    assert add_days(eve, 2, DayUnit.WORKDAY) == D(2026, 10, 9)
    assert add_days(eve, 3, DayUnit.WORKDAY) == D(2026, 10, 10)
    with pytest.raises(ValueError):
        add_days(eve, 1, "week")  # type: ignore[arg-type]


# --- admin -------------------------------------------------------------------------------------------------------


def test_admin_maintains_calendar_days_with_an_audit_trail(client, admin_user):
    client.force_login(admin_user)
    for url in (reverse("admin:core_calendarday_changelist"), reverse("admin:core_calendarday_add")):
        assert client.get(url).status_code == 200, url

    response = client.post(
        reverse("admin:core_calendarday_add"),
        {"date": "2027-02-20", "kind": "workday", "name": "春节", "note": "国办发明电〔2026〕"},
    )
    assert response.status_code == 302, response.content[:2000]
    row = CalendarDay.objects.get(date=D(2027, 2, 20))
    created = AuditEvent.objects.for_object(row).get(action="core.calendarday.save")
    assert created.actor == admin_user and created.before is None and created.after["kind"] == "workday"
    assert is_workday(D(2027, 2, 20))

    for query in ("春节", "2027-02"):
        listing = client.get(reverse("admin:core_calendarday_changelist"), {"q": query})
        assert listing.status_code == 200 and listing.context["cl"].result_count == 1, query
    assert client.get(reverse("admin:core_calendarday_change", args=[row.pk])).status_code == 200
    response = client.post(
        reverse("admin:core_calendarday_change", args=[row.pk]),
        {"date": "2027-02-20", "kind": "holiday", "name": "春节", "note": ""},
    )
    assert response.status_code == 302, response.content[:2000]
    changed = AuditEvent.objects.for_object(row).filter(action="core.calendarday.save").exclude(pk=created.pk).get()
    assert (changed.before["kind"], changed.after["kind"]) == ("workday", "holiday")
    assert not is_workday(D(2027, 2, 20))

    response = client.post(reverse("admin:core_calendarday_delete", args=[row.pk]), {"post": "yes"})
    assert response.status_code == 302, response.content[:2000]
    assert not CalendarDay.objects.filter(pk=row.pk).exists()
    assert AuditEvent.objects.for_object(row).filter(action="core.calendarday.delete").exists()


def test_admin_bulk_delete_is_audited_too(client, admin_user):
    client.force_login(admin_user)
    rows = [_save_day("2027-02-20", "workday", "春节"), _save_day("2027-02-21", "workday", "春节")]
    assert is_workday(D(2027, 2, 21))
    response = client.post(
        reverse("admin:core_calendarday_changelist"),
        {"action": "delete_selected", "_selected_action": [r.pk for r in rows], "post": "yes"},
    )
    assert response.status_code == 302, response.content[:2000]
    assert not CalendarDay.objects.exists()
    for row in rows:
        assert AuditEvent.objects.for_object(row).get(action="core.calendarday.delete").actor == admin_user
    assert not is_workday(D(2027, 2, 21))
