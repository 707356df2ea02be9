"""The deadline engine: a request kind's clocks in calendar days, Chinese working days, hours or months.

Rules (docs/assistance.md):
- Three clocks run one after the other: **sign** (签收) from sending, **accept** (受理/立案) from signing, **finish**
  (办结) from acceptance. An urgent request of a kind with ``urgent_finish_hours`` must be finished within that many
  hours of acceptance.
- A day-based deadline is the end of its last day in Asia/Shanghai (23:59:59.999999): "within 7 days of receipt"
  ends at midnight of the 7th day after the day of receipt. Working days skip weekends and 法定节假日 and count 调休
  make-up Saturdays, from ``core.workdays`` (packages up to the last announced year, then an admin-kept table).
- While the request is paused (补充材料) its clock stands still: on resuming, the running deadline moves on by the
  time paused (re-counted in working days for a working-day clock).
- A granted extension adds its days to the finishing clock.
- The light: red past the running deadline, yellow from ``warn_percent`` of the clock left, green before that.
- Escalation (``escalate_overdue``): once the finishing deadline has passed, the receiving agency's superior; one
  level further up the parent chain every ``escalation_step_days`` more.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from yipanqi.core import workdays

from .models import ClockUnit, RequestStatus, Urgency

END_OF_DAY = time(23, 59, 59, 999999)


def _local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, END_OF_DAY))


def add_months(day: date, months: int) -> date:
    """Same day of the month ``months`` later (the month's last day when it is shorter): 8月31日 + 6 → 2月28/29日."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def due(start: datetime, amount: int, unit: str) -> datetime:
    """The deadline of a clock of ``amount`` ``unit`` started at ``start``."""
    if unit == ClockUnit.HOURS:
        return start + timedelta(hours=amount)
    day = _local_date(start)
    if unit == ClockUnit.WORKDAYS:
        return _end_of(workdays.add_workdays(day, amount))
    if unit == ClockUnit.MONTHS:
        return _end_of(add_months(day, amount))
    return _end_of(day + timedelta(days=amount))


def shift(deadline: datetime, paused_from: datetime, paused_until: datetime, unit: str) -> datetime:
    """A deadline moved on by a pause: by the time paused; in working days for a working-day clock."""
    if unit == ClockUnit.WORKDAYS:
        lost = workdays.workdays_between(_local_date(paused_from), _local_date(paused_until))
        return _end_of(workdays.add_workdays(_local_date(deadline), lost)) if lost else deadline
    return deadline + (paused_until - paused_from)


@dataclass(frozen=True)
class Clock:
    name: str  # "sign", "accept" or "finish"
    started_at: datetime
    due_at: datetime
    unit: str

    def warn_at(self, percent: int) -> datetime:
        """From when the light turns yellow: when ``percent`` of the clock is left (at least a moment before)."""
        span = self.due_at - self.started_at
        return self.due_at - span * percent / 100


def finish_clock(kind, request, accepted_at: datetime) -> Clock:
    if request.urgency == Urgency.URGENT and kind.urgent_finish_hours:
        return Clock(
            "finish", accepted_at, due(accepted_at, kind.urgent_finish_hours, ClockUnit.HOURS), ClockUnit.HOURS
        )
    deadline = due(accepted_at, kind.finish_within, kind.finish_unit)
    if request.extended_days:
        deadline = _end_of(_local_date(deadline) + timedelta(days=request.extended_days))
    return Clock("finish", accepted_at, deadline, kind.finish_unit)


def running_clock(kind, request) -> Clock | None:
    """The clock that runs in the request's status (None when nothing is awaited from the receiver)."""
    status = request.status
    if status == RequestStatus.SENT and request.sign_due_at:
        return Clock("sign", request.sent_at, request.sign_due_at, kind.sign_unit)
    if status == RequestStatus.RECEIVED and request.accept_due_at:
        return Clock("accept", request.received_at, request.accept_due_at, kind.accept_unit)
    if status in (RequestStatus.ACCEPTED, RequestStatus.IN_PROGRESS, RequestStatus.PAUSED) and request.finish_due_at:
        return Clock("finish", request.accepted_at, request.finish_due_at, kind.finish_unit)
    return None


def set_current(kind, request) -> None:
    """Store the running deadline and the moment it turns yellow on the request (``due_at``, ``warn_at``)."""
    clock = running_clock(kind, request)
    if clock is None or request.status == RequestStatus.PAUSED:
        request.due_at = clock.due_at if clock else None
        request.warn_at = None
        return
    request.due_at = clock.due_at
    request.warn_at = clock.warn_at(kind.warn_percent)


LIGHTS = ("red", "yellow", "green", "paused", "")


def light(request, now: datetime | None = None) -> str:
    """red / yellow / green for an open request by its running deadline; "paused"; "" when nothing runs."""
    if request.status == RequestStatus.PAUSED:
        return "paused"
    if request.due_at is None or request.status not in (
        RequestStatus.SENT,
        RequestStatus.RECEIVED,
        RequestStatus.ACCEPTED,
        RequestStatus.IN_PROGRESS,
    ):
        return ""
    now = now or timezone.now()
    if now > request.due_at:
        return "red"
    if request.warn_at and now >= request.warn_at:
        return "yellow"
    return "green"


def escalation_level(kind, request, now: datetime) -> int:
    """How many levels up the parent chain an overdue request should have gone by ``now`` (0: none)."""
    if not kind.escalate_overdue or request.finish_due_at is None or request.status == RequestStatus.PAUSED:
        return 0
    if request.status not in (RequestStatus.ACCEPTED, RequestStatus.IN_PROGRESS) or now <= request.finish_due_at:
        return 0
    late = now - request.finish_due_at
    return 1 + int(late / timedelta(days=kind.escalation_step_days))
