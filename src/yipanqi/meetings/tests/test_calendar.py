"""The meetings calendar page and its .ics exports: who sees which meeting, days and times in Asia/Shanghai, month
navigation and bad months, Chinese holidays, the iCalendar content read back with ``icalendar``, constant queries."""

from __future__ import annotations

import datetime
import re
import zoneinfo

import icalendar
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from yipanqi.meetings import calendar_views, services

from .conftest import at

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CALENDAR = reverse("meetings:calendar")
FEED = reverse("meetings:calendar-ics")


def page(client, month: str | None = None):
    response = client.get(CALENDAR, {"month": month} if month is not None else {})
    return response, response.content.decode()


def month_of(day: datetime.date) -> str:
    return day.strftime("%Y-%m")


def grid_days(html: str) -> list[str]:
    grid = html[html.index('id="calendar-grid"') : html.index('id="calendar-list"')]
    return re.findall(r'<td[^>]*data-day="([\d-]+)"', grid)


def schedule(coordinator, series, starts_at, **fields):
    with transaction.atomic():
        return services.schedule_meeting(acting_user=coordinator, series=series, starts_at=starts_at, **fields)


def events(response) -> list[icalendar.Event]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    parsed = icalendar.Calendar.from_ical(response.content)
    assert parsed["VERSION"] == "2.0" and parsed["PRODID"] == calendar_views.PRODID
    return list(parsed.walk("VEVENT"))


def by_uid(items) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in items}


# --------------------------------------------------------------------------- the page


def test_calendar_page_permission_matrix(meeting, owner, partner, coordinator, outsider, web):
    month = month_of(timezone.localdate(meeting.starts_at))
    link = reverse("meetings:meeting", args=[meeting.pk])
    for user in (owner, partner, coordinator):
        response, html = page(web(user), month)
        assert response.status_code == 200
        assert html.count(f'href="{link}"') == 2  # in the grid and in the list for small screens
        assert meeting.display_title in html and meeting.host.name in html
        assert f'href="{FEED}"' in html
    response, html = page(web(outsider), month)
    assert response.status_code == 200 and f'href="{link}"' not in html and meeting.display_title not in html
    anonymous = web(None).get(CALENDAR)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))


def test_meetings_sit_on_their_day_in_china_standard_time(coordinator, series, owner, web):
    """23:30 and 00:30 in Shanghai are 15:30 and 16:30 UTC of the day before the second one."""
    late = schedule(coordinator, series, datetime.datetime(2026, 3, 9, 23, 30, tzinfo=SHANGHAI), place="成都")
    early = schedule(coordinator, series, datetime.datetime(2026, 3, 10, 0, 30, tzinfo=SHANGHAI), place="重庆")
    assert early.starts_at.astimezone(datetime.UTC).date() == datetime.date(2026, 3, 9)
    _response, html = page(web(owner), "2026-03")
    cells = dict(re.findall(r'<td[^>]*data-day="([\d-]+)"[^>]*>(.*?)</td>', html, re.DOTALL))
    assert f'data-meeting="{late.pk}"' in cells["2026-03-09"] and "23:30" in cells["2026-03-09"]
    assert f'data-meeting="{early.pk}"' in cells["2026-03-10"] and "00:30" in cells["2026-03-10"]
    assert f'data-meeting="{early.pk}"' not in cells["2026-03-09"]


def test_month_grid_monday_first_today_and_navigation(meeting, owner, web):
    today = timezone.localdate()
    response, html = page(web(owner))
    assert response.status_code == 200
    days = grid_days(html)
    first = datetime.date.fromisoformat(days[0])
    last = datetime.date.fromisoformat(days[-1])
    assert first.weekday() == 0 and last.weekday() == 6 and len(days) % 7 == 0
    assert first <= today.replace(day=1) and first > today.replace(day=1) - datetime.timedelta(days=7)
    assert re.search(rf'data-day="{today.isoformat()}" aria-current="date"', html)
    assert html.count('aria-current="date"') == 1
    assert 'id="calendar-today"' not in html  # already on this month

    # February 2026 starts on a Sunday: the grid opens on Monday 26 January. January's previous month is December.
    _response, html = page(web(owner), "2026-02")
    assert grid_days(html)[0] == "2026-01-26" and grid_days(html)[-1] == "2026-03-01"
    assert 'href="?month=2026-01"' in html and 'href="?month=2026-03"' in html
    if month_of(today) != "2026-02":
        assert 'id="calendar-today"' in html and 'aria-current="date"' not in html
    _response, html = page(web(owner), "2026-01")
    assert 'href="?month=2025-12"' in html and 'href="?month=2026-02"' in html
    _response, html = page(web(owner), "2026-12")
    assert 'href="?month=2027-01"' in html
    assert page(web(owner), "2026-3")[1].count('data-month="2026-03"') == 1  # one-digit months are fine


def test_chinese_holidays_and_make_up_days_are_marked(owner, web):
    """春节 2026: 15 to 23 February off, Saturday 14 and Saturday 28 February worked (调休)."""
    _response, html = page(web(owner), "2026-02")
    holidays = re.findall(r'data-day="([\d-]+)"[^>]*data-holiday', html)
    makeup = re.findall(r'data-day="([\d-]+)"[^>]*data-makeup', html)
    assert {"2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-23"} <= set(holidays)
    assert "2026-02-13" not in holidays and "2026-02-15" not in holidays  # a Friday worked; Sunday is just Sunday
    assert {"2026-02-14", "2026-02-28"} <= set(makeup)


@pytest.mark.parametrize(
    "bad", ["2026-13", "2026-00", "abc", "0001-01", "9999-12", "2026-1x", "２０２６-０２", "2026-02-01", "-" * 500]
)
def test_bad_month_falls_back_to_this_month_with_a_message(owner, web, bad):
    response, html = page(web(owner), bad)
    assert response.status_code == 200
    assert f'data-month="{month_of(timezone.localdate())}"' in html
    assert 'class="alert alert-warning' in html and "YYYY-MM" in html


def test_edges_of_the_calendar_have_no_link_beyond(owner, web):
    _response, html = page(web(owner), f"{calendar_views.FIRST_YEAR}-01")
    assert 'id="calendar-previous"' not in html and 'id="calendar-next"' in html
    _response, html = page(web(owner), f"{calendar_views.LAST_YEAR}-12")
    assert 'id="calendar-next"' not in html and 'id="calendar-previous"' in html


def test_calendar_page_queries_do_not_grow_with_meetings(coordinator, series, owner, web):
    client = web(owner)
    day = datetime.date(2026, 5, 4)
    schedule(coordinator, series, at(day, 9))
    page(client, "2026-05")  # caches warm (session, versions, the year's working days)
    with CaptureQueriesContext(connection) as one:
        page(client, "2026-05")
    for offset in range(1, 6):
        schedule(coordinator, series, at(day + datetime.timedelta(days=offset), 14), place=f"会场{offset}")
    page(client, "2026-05")  # the writes made this process read the data versions again
    with CaptureQueriesContext(connection) as six:
        _response, html = page(client, "2026-05")
    assert html.count('data-meeting="') == 12
    assert len(six) == len(one), [q["sql"][:200] for q in six.captured_queries]


# --------------------------------------------------------------------------- iCalendar


def test_feed_permission_matrix(meeting, owner, partner, coordinator, outsider, web):
    uid = f"meeting-{meeting.pk}@yipanqi"
    for user in (owner, partner, coordinator):
        assert uid in by_uid(events(web(user).get(FEED))), user
    assert events(web(outsider).get(FEED)) == []
    anonymous = web(None).get(FEED)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))

    one = reverse("meetings:meeting-ics", args=[meeting.pk])
    for user in (owner, partner, coordinator):
        assert [str(e["UID"]) for e in events(web(user).get(one))] == [uid]
    assert web(outsider).get(one).status_code == 404
    assert web(owner).get(reverse("meetings:meeting-ics", args=[meeting.pk + 10_000])).status_code == 404
    assert web(None).get(one).status_code == 302
    assert web(owner).post(FEED).status_code == 405


def test_feed_events_read_back_in_china_standard_time(meeting, coordinator, series, owner, web):
    day = timezone.localdate() + datetime.timedelta(days=30)
    starts = datetime.datetime(day.year, day.month, day.day, 14, 30, tzinfo=SHANGHAI)
    ends = starts + datetime.timedelta(hours=2, minutes=30)
    afternoon = schedule(coordinator, series, starts, ends_at=ends, place="重庆")
    response = web(owner).get(FEED)
    assert "attachment" in response["Content-Disposition"] and ".ics" in response["Content-Disposition"]
    parsed = icalendar.Calendar.from_ical(response.content)
    assert [str(tz["TZID"]) for tz in parsed.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    found = by_uid(parsed.walk("VEVENT"))

    event = found[f"meeting-{afternoon.pk}@yipanqi"]
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == starts and start.tzinfo.key == "Asia/Shanghai"
    assert (start.hour, start.minute) == (14, 30) and start.astimezone(datetime.UTC).hour == 6
    assert end == ends
    assert f"TZID=Asia/Shanghai:{day:%Y%m%d}T143000" in response.content.decode()
    assert str(event["SUMMARY"]) == afternoon.display_title
    assert str(event["LOCATION"]) == "重庆"
    url = f"http://testserver{reverse('meetings:meeting', args=[afternoon.pk])}"
    assert str(event["URL"]) == url
    description = str(event["DESCRIPTION"])
    assert afternoon.host.name in description and url in description
    assert afternoon.get_status_display() in description
    assert str(event["STATUS"]) == "TENTATIVE" and event["SEQUENCE"] == 0

    # No end time: shown two hours long, from 09:00 in Shanghai.
    first = found[f"meeting-{meeting.pk}@yipanqi"]
    assert first.decoded("DTSTART") == timezone.localtime(meeting.starts_at)
    assert first.decoded("DTSTART").hour == 9
    assert first.decoded("DTEND") - first.decoded("DTSTART") == calendar_views.DEFAULT_LENGTH
    assert str(first["LOCATION"]) == "成都"


def test_feed_revisions_confirm_and_window(meeting, coordinator, series, owner, web):
    client = web(owner)
    uid = f"meeting-{meeting.pk}@yipanqi"
    before = by_uid(events(client.get(FEED)))[uid]
    assert str(before["STATUS"]) == "TENTATIVE" and before["SEQUENCE"] == 0
    with transaction.atomic():
        services.update_meeting(acting_user=owner, meeting=meeting, place="成都市天府大道")
    with transaction.atomic():
        services.open_agenda(acting_user=owner, meeting=meeting)
    after = by_uid(events(client.get(FEED)))[uid]
    assert after["SEQUENCE"] == 2 and str(after["STATUS"]) == "CONFIRMED"
    assert str(after["LOCATION"]) == "成都市天府大道"
    assert after.decoded("LAST-MODIFIED") >= before.decoded("LAST-MODIFIED")

    # From 90 days ago onward: a meeting 80 days back is in the feed, one 100 days back is not (but its own file is).
    today = timezone.localdate()
    recent = schedule(coordinator, series, at(today - datetime.timedelta(days=80)))
    old = schedule(coordinator, series, at(today - datetime.timedelta(days=100)))
    uids = by_uid(events(client.get(FEED)))
    assert f"meeting-{recent.pk}@yipanqi" in uids and f"meeting-{old.pk}@yipanqi" not in uids
    assert len(events(client.get(reverse("meetings:meeting-ics", args=[old.pk])))) == 1


def test_feed_queries_do_not_grow_with_meetings(meeting, coordinator, series, owner, web):
    client = web(owner)
    client.get(FEED)
    with CaptureQueriesContext(connection) as one:
        assert len(events(client.get(FEED))) == 1
    for days in range(1, 6):
        schedule(coordinator, series, at(timezone.localdate() + datetime.timedelta(days=days)))
    client.get(FEED)
    with CaptureQueriesContext(connection) as six:
        assert len(events(client.get(FEED))) == 6
    assert len(six) == len(one)
