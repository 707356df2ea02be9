"""Ledger reads: supervision lights (三色督办), the reporting calendar and the measures a principal works on.

Lights are evaluated on read from the transition dates every write stores (ledger/lights.py has the rules): in
Python for one object (``light_for``), in SQL for lists and boards (``light_case``), so both always agree.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Case, CharField, Q, Value, When
from django.utils import timezone

from . import lights
from .lights import LIGHTS  # noqa: F401  (re-exported: the order red → done)
from .models import Measure, MeasureOwner, MeasureStatus, ShareStatus


def light_for(measure: Measure, today: date | None = None) -> str:
    """The measure's light on ``today`` (a node with sub-items: the most urgent of it and everything under it)."""
    return lights.light_on(
        today or timezone.localdate(),
        done=measure.status == MeasureStatus.DONE,
        blue_from=measure.blue_from,
        yellow_from=measure.yellow_from,
        red_from=measure.red_from,
    )


def share_light_for(share: MeasureOwner, today: date | None = None) -> str:
    """One owner's light on its share: the measure's red and blue, its own yellow (progress, reports)."""
    return lights.light_on(
        today or timezone.localdate(),
        done=share.status == ShareStatus.CLOSED,
        blue_from=share.blue_from,
        yellow_from=share.yellow_from,
        red_from=share.red_from,
    )


def light_case(today: date, prefix: str = "") -> Case:
    """The light as an SQL expression over a measure's stored dates (``prefix``: e.g. "measure__" from shares)."""
    f = prefix
    return Case(
        When(**{f"{f}status": MeasureStatus.DONE}, then=Value("done")),
        When(**{f"{f}red_from__lte": today}, then=Value("red")),
        When(**{f"{f}yellow_from__lte": today}, then=Value("yellow")),
        When(**{f"{f}blue_from__lte": today}, then=Value("blue")),
        default=Value("green"),
        output_field=CharField(),
    )


def share_light_case(today: date) -> Case:
    """A share's light in SQL (see ``share_light_for``), over MeasureOwner rows alone (no join)."""
    return Case(
        When(status=ShareStatus.CLOSED, then=Value("done")),
        When(red_from__lte=today, then=Value("red")),
        When(yellow_from__lte=today, then=Value("yellow")),
        When(blue_from__lte=today, then=Value("blue")),
        default=Value("green"),
        output_field=CharField(),
    )


def scope_items(circle, agreement=None):
    """All items (leaf measures) of an agreement, or of every agreement of a circle — no permission filter: for the
    system's own figures (snapshots, bulletins issued by the circle's coordinators)."""
    items = Measure.objects.filter(is_leaf=True)
    return items.filter(agreement=agreement) if agreement is not None else items.filter(agreement__circle=circle)


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start of ``first``, start of the day after ``last``) in the project's time zone (Asia/Shanghai)."""
    start = timezone.make_aware(datetime.combine(first, time.min))
    return start, timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))


def light_case_as_of(day: date, prefix: str = "") -> Case:
    """``light_case`` for a past day (boards' snapshots, bulletins): an item closed after it was still open then."""
    case = light_case(day, prefix)
    end = day_bounds(day, day)[1]
    closed_later = {f"{prefix}status": MeasureStatus.DONE, f"{prefix}closed_at__gte": end}
    case.cases.insert(0, When(**closed_later, then=Value("green")))
    return case


def share_light_case_as_of(day: date) -> Case:
    """``share_light_case`` for a past day: a share closed after it was still open then."""
    case = share_light_case(day)
    case.cases.insert(0, When(status=ShareStatus.CLOSED, closed_at__gte=day_bounds(day, day)[1], then=Value("green")))
    return case


def light_filter(light: str, today: date, prefix: str = "") -> Q:
    """Measures whose light on ``today`` is ``light``, as an indexable filter (no CASE in WHERE)."""
    f = prefix
    done = Q(**{f"{f}status": MeasureStatus.DONE})
    red = Q(**{f"{f}red_from__lte": today})
    yellow = Q(**{f"{f}yellow_from__lte": today})
    blue = Q(**{f"{f}blue_from__lte": today})
    if light == "done":
        return done
    if light == "red":
        return ~done & red
    if light == "yellow":
        return ~done & ~red & yellow
    if light == "blue":
        return ~done & ~red & ~yellow & blue
    return ~done & ~red & ~yellow & ~blue


def missing_reports(today: date | None = None):
    """Shares whose report is overdue on ``today`` (the reporting calendar in ledger/lights.py)."""
    today = today or timezone.localdate()
    return MeasureOwner.objects.filter(report_due_on__lt=today).exclude(status=ShareStatus.CLOSED)


def my_shares(principal):
    """The shares of measures owned by the principal's agency, with their measures and agreements."""
    if not getattr(principal, "agency_id", None):
        return MeasureOwner.objects.none()
    return (
        MeasureOwner.objects.filter(agency_id=principal.agency_id)
        .filter(measure__in=Measure.objects.visible_to(principal).values("pk"))
        .select_related("measure__agreement", "agency")
        .order_by("measure__due_on", "measure_id")
    )
