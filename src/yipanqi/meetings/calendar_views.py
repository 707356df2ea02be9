"""The meetings calendar (a month grid, with a list for small screens), its iCalendar (.ics) exports, and the minutes
as .docx and .pdf downloads.

Every read starts from ``Meeting.objects.visible_to(request.user)``: a meeting of another series is not listed, and
asking for it by id answers 404. All four views need a signed-in session; anonymous requests are sent to the login
page (the .ics files too: they are downloads of what the signed-in person sees, not a public feed).

Times are China Standard Time: the grid's days are days in Asia/Shanghai, and the .ics files give DTSTART and DTEND
with TZID=Asia/Shanghai and a VTIMEZONE for it, so a calendar in another time zone shows the right hour.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, timedelta

import icalendar
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Count, Max
from django.db.models.functions import Cast
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from yipanqi.core import workdays
from yipanqi.core.models import AuditEvent
from yipanqi.ledger.bulletin_views import UNSAFE_IN_FILE_NAMES

from . import documents, selectors
from .models import Meeting, MeetingStatus

ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//yipanqi//meetings//ZH"
FEED_DAYS_BACK = 90
# A meeting without an end time is shown as two hours long, a usual session; calendar programs draw an event that
# ends when it starts as a bare line.
DEFAULT_LENGTH = timedelta(hours=2)
# Actions that change what a calendar shows of a meeting (time, place, title, host, status): each one is a new
# revision (SEQUENCE) of its event.
REVISIONS = (
    "meetings.meeting.update",
    "meetings.agenda.open",
    "meetings.agenda.close",
    "meetings.meeting.held",
    "meetings.minutes.final",
)
MONTH = re.compile(r"(\d{4})-(\d{1,2})")
FIRST_YEAR, LAST_YEAR = 1970, 2999
DOWNLOADS = {"docx": documents.DOCX_CONTENT_TYPE, "pdf": documents.PDF_CONTENT_TYPE}


# --------------------------------------------------------------------------- the month grid


@dataclass
class Day:
    day: date
    in_month: bool
    today: bool
    weekend: bool
    holiday: bool  # a Monday-to-Friday day off (法定节假日)
    makeup: bool  # a Saturday or Sunday worked (调休上班)
    meetings: list = field(default_factory=list)


def _month_asked(value: str | None, today: date) -> tuple[date, str]:
    """The first day of the month asked for by ?month=YYYY-MM, or of this month with a message saying why."""
    value = (value or "").strip()
    if not value:
        return today.replace(day=1), ""
    match = MONTH.fullmatch(value) if value.isascii() else None
    if match:
        year, month = int(match[1]), int(match[2])
        if FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12:
            return date(year, month, 1), ""
    return today.replace(day=1), _(
        "“%(value)s” is not a month between %(first)s-01 and %(last)s-12 written as YYYY-MM (e.g. %(example)s): "
        "showing this month."
    ) % {"value": value[:20], "first": FIRST_YEAR, "last": LAST_YEAR, "example": today.strftime("%Y-%m")}


def _shift(first: date, months: int) -> date | None:
    index = first.year * 12 + first.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, 1) if FIRST_YEAR <= year <= LAST_YEAR else None


def _grid_bounds(first: date) -> tuple[date, date]:
    """The Monday before the month's first day and the Sunday after its last: the days the grid shows."""
    last = first.replace(day=monthrange(first.year, first.month)[1])
    return first - timedelta(days=first.weekday()), last + timedelta(days=6 - last.weekday())


def _weeks(first: date, today: date, meetings: list[Meeting]) -> list[list[Day]]:
    """The month's weeks, Monday first, padded with the days of the months around it; meetings on their day."""
    start, end = _grid_bounds(first)
    by_day: dict[date, list[Meeting]] = {}
    for meeting in meetings:
        by_day.setdefault(timezone.localdate(meeting.starts_at), []).append(meeting)
    weeks, day = [], start
    while day <= end:
        week = []
        for _i in range(7):
            weekend = day.weekday() >= 5
            worked = workdays.is_workday(day)
            week.append(
                Day(
                    day=day,
                    in_month=day.month == first.month,
                    today=day == today,
                    weekend=weekend,
                    holiday=not weekend and not worked,
                    makeup=weekend and worked,
                    meetings=by_day.get(day, []),
                )
            )
            day += timedelta(days=1)
        weeks.append(week)
    return weeks


@login_required
@require_GET
def calendar(request):
    today = timezone.localdate()
    first, problem = _month_asked(request.GET.get("month"), today)
    if problem:
        messages.warning(request, problem)
    meetings = list(selectors.calendar_meetings(request.user, *_grid_bounds(first)))
    weeks = _weeks(first, today, meetings)
    previous, following = _shift(first, -1), _shift(first, 1)
    context = {
        "title": _("Meetings calendar"),
        "month": first,
        "weeks": weeks,
        "weekdays": [day.day for day in weeks[0]],
        "agenda_days": [d for week in weeks for d in week if d.in_month and d.meetings],
        "previous": previous.strftime("%Y-%m") if previous else "",
        "next": following.strftime("%Y-%m") if following else "",
        "this_month": today.strftime("%Y-%m"),
        "showing_this_month": first == today.replace(day=1),
    }
    return render(request, "meetings/calendar.html", context)


# --------------------------------------------------------------------------- iCalendar


def _revisions(meetings) -> dict[str, tuple[int, object]]:
    """Per meeting id (as text): how many revising changes it had and when the last one was, in one query (the
    meetings' queryset is its subquery, however many they are)."""
    rows = (
        AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(Meeting),
            object_id__in=meetings.order_by().values(text_pk=Cast("pk", CharField())),
            action__in=REVISIONS,
        )
        .values("object_id")
        .annotate(count=Count("id"), last=Max("time"))
        .order_by()
    )
    return {row["object_id"]: (row["count"], row["last"]) for row in rows}


def _event(request, meeting: Meeting, revision: tuple[int, object] | None, stamp) -> icalendar.Event:
    start = timezone.localtime(meeting.starts_at)
    end = timezone.localtime(meeting.ends_at) if meeting.ends_at else start + DEFAULT_LENGTH
    url = request.build_absolute_uri(reverse("meetings:meeting", args=[meeting.pk]))
    sequence, changed = revision or (0, None)
    description = "\n".join(
        [
            _("Host: %(host)s") % {"host": meeting.host.name},
            _("Status: %(status)s") % {"status": meeting.get_status_display()},
            url,
        ]
    )
    return icalendar.Event.new(
        uid=f"meeting-{meeting.pk}@yipanqi",
        summary=meeting.display_title,
        start=start,
        end=end,
        location=meeting.place or None,
        description=description,
        url=url,
        categories=[meeting.series.title],
        status="TENTATIVE" if meeting.status == MeetingStatus.PLANNED else "CONFIRMED",
        sequence=sequence,
        created=meeting.created_at,
        last_modified=max(changed or meeting.created_at, meeting.created_at),
        stamp=stamp,
    )


def _ics_response(request, meetings, rows: list[Meeting], *, uid: str, name: str, filename: str) -> HttpResponse:
    """``rows`` (the meetings of the ``meetings`` queryset) as one VCALENDAR, with the VTIMEZONE of Asia/Shanghai
    for the years they span."""
    revisions = _revisions(meetings)
    stamp = timezone.now()
    calendar_ = icalendar.Calendar.new(prodid=PRODID, uid=uid, name=name, method="PUBLISH", calscale="GREGORIAN")
    calendar_["X-WR-TIMEZONE"] = timezone.get_current_timezone_name()
    for meeting in rows:
        calendar_.add_component(_event(request, meeting, revisions.get(str(meeting.pk)), stamp))
    days = [timezone.localdate(m.starts_at) for m in rows] or [timezone.localdate()]
    # China has kept UTC+8 without daylight saving since 1992: a VTIMEZONE for the span of these meetings is one line.
    calendar_.add_missing_timezones(first_date=min(days) - timedelta(days=1), last_date=max(days) + timedelta(days=366))
    response = HttpResponse(calendar_.to_ical(), content_type=ICS_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-cache"
    return response


def _file_name(text: str, extension: str, fallback: str) -> str:
    stem = UNSAFE_IN_FILE_NAMES.sub("_", text).strip(" ._") or fallback
    return f"{stem[:150]}.{extension}"


@login_required
@require_GET
def calendar_ics(request):
    """The meetings the user sees, from 90 days ago onward."""
    since = timezone.localdate() - timedelta(days=FEED_DAYS_BACK)
    meetings = selectors.calendar_meetings(request.user, since)
    return _ics_response(
        request,
        meetings,
        list(meetings),
        uid=f"meetings-of-user-{request.user.pk}@yipanqi",
        name=_("yipanqi meetings"),
        filename="yipanqi-meetings.ics",
    )


def _visible_meeting(request, pk: int) -> Meeting:
    return get_object_or_404(Meeting.objects.visible_to(request.user).select_related("series", "host"), pk=pk)


@login_required
@require_GET
def meeting_ics(request, pk: int):
    meeting = _visible_meeting(request, pk)
    return _ics_response(
        request,
        Meeting.objects.filter(pk=meeting.pk),
        [meeting],
        uid=f"meeting-{meeting.pk}-calendar@yipanqi",
        name=meeting.display_title,
        filename=_file_name(meeting.display_title, "ics", f"meeting-{meeting.pk}"),
    )


# --------------------------------------------------------------------------- minutes documents


@login_required
@require_GET
def minutes_download(request, pk: int, fmt: str):
    """The minutes as they stand (or their draft), rendered now: a draft changes until it is approved."""
    if fmt not in DOWNLOADS:
        raise Http404
    meeting = _visible_meeting(request, pk)
    content = documents.render_docx(meeting) if fmt == "docx" else documents.render_pdf(meeting)
    name = _("Minutes of %(meeting)s") % {"meeting": meeting.display_title}
    response = HttpResponse(content, content_type=DOWNLOADS[fmt])
    response["Content-Disposition"] = content_disposition_header(True, _file_name(name, fmt, "minutes"))
    response["Cache-Control"] = "private, no-cache"
    return response
