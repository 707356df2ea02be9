"""Meeting reads: who hosts next, the series' measures (and the red and overdue ones offered as topics), the open
decisions of earlier meetings, and the calendar."""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from yipanqi.directory.models import Agency, Role, User
from yipanqi.ledger import selectors as ledger_selectors
from yipanqi.ledger.models import Measure, MeasureOwner, MeasureStatus, ShareStatus

from .models import Decision, DecisionKind, Meeting, MeetingSeries, RotationRule, SeriesMember


def order_seats(rule: str, seats) -> list[SeriesMember]:
    """Seats in the order of the rotation rule: their places for a fixed rotation, else the order of joining."""
    if rule == RotationRule.FIXED:
        return sorted(seats, key=lambda s: (s.position, s.pk))
    return sorted(seats, key=lambda s: (s.joined_at, s.pk))


def seats(series: MeetingSeries) -> list[SeriesMember]:
    """The members' seats in the order of the series' rotation rule."""
    return order_seats(series.rotation_rule, SeriesMember.objects.filter(series=series).select_related("agency"))


def rotation_order(rule: str, ordered: list[Agency], hosted: list[tuple[int, int]]) -> list[Agency]:
    """The agencies in the order they host: the seats' order; for "chosen", who hosted least recently first.
    ``hosted`` lists (meeting number, host id) of the series' meetings."""
    if rule != RotationRule.CHOSEN:
        return list(ordered)
    last_hosted: dict[int, int] = {}
    for number, host_id in hosted:
        last_hosted[host_id] = max(number, last_hosted.get(host_id, 0))
    index = {agency.pk: i for i, agency in enumerate(ordered)}
    return sorted(ordered, key=lambda a: (last_hosted.get(a.pk, 0), index[a.pk]))


def next_host(rule: str, ordered: list[Agency], hosted: list[tuple[int, int]], named_id: int | None) -> Agency | None:
    """The rule of ``proposed_host`` over rows already loaded (lists of series compute it without a query each)."""
    order = rotation_order(rule, ordered, hosted)
    if not order:
        return None
    named = next((a for a in order if a.pk == named_id), None) if named_id else None
    if named is not None:
        return named
    if rule == RotationRule.CHOSEN:
        return order[0]
    ids = [a.pk for a in order]
    last = max(hosted)[1] if hosted else None
    return order[(ids.index(last) + 1) % len(order)] if last in ids else order[0]


def _hosted(series: MeetingSeries) -> list[tuple[int, int]]:
    return list(Meeting.objects.filter(series=series).values_list("number", "host_id"))


def rotation(series: MeetingSeries) -> list[Agency]:
    """The member agencies in the order they host under the series' rule (for "chosen": least recently first)."""
    return rotation_order(series.rotation_rule, [seat.agency for seat in seats(series)], _hosted(series))


def proposed_host(series: MeetingSeries) -> Agency | None:
    """The host proposed for the next meeting: a host named in advance, else the next one in the rotation."""
    ordered = [seat.agency for seat in seats(series)]
    return next_host(series.rotation_rule, ordered, _hosted(series), series.next_host_id)


def member_ids(series: MeetingSeries) -> set[int]:
    return set(SeriesMember.objects.filter(series=series).values_list("agency_id", flat=True))


def series_agreement_ids(series: MeetingSeries) -> list[int]:
    """The agreements whose measures the series follows: its standing agreement and the agreements its minutes
    became."""
    ids = set(
        Meeting.objects.filter(series=series, minutes_agreement__isnull=False).values_list(
            "minutes_agreement_id", flat=True
        )
    )
    if series.standing_agreement_id:
        ids.add(series.standing_agreement_id)
    return sorted(ids)


def series_measures(series: MeetingSeries):
    """Measures a topic may link and a decision may update."""
    return Measure.objects.filter(agreement_id__in=series_agreement_ids(series))


def offered_measures(series: MeetingSeries, today: date | None = None, limit: int = 50):
    """Red items and items with an overdue report, most overdue first: what a meeting should look at."""
    today = today or timezone.localdate()
    overdue_report = Exists(
        MeasureOwner.objects.filter(measure=OuterRef("pk"), report_due_on__lt=today).exclude(status=ShareStatus.CLOSED)
    )
    items = (
        series_measures(series)
        .filter(is_leaf=True)
        .exclude(status=MeasureStatus.DONE)
        .filter(ledger_selectors.light_filter("red", today) | Q(overdue_report))
        .select_related("agreement")
        .order_by("red_from", "due_on", "path")
    )
    return list(items[:limit])


def liaisons_of(agency_ids) -> list[int]:
    """Active liaisons of these agencies (user ids): who is told about agendas and minutes."""
    return list(
        User.objects.filter(agency_id__in=list(agency_ids), is_active=True, role_grants__role=Role.LIAISON)
        .values_list("pk", flat=True)
        .distinct()
    )


def open_decisions(meeting: Meeting):
    """Decisions of the series' earlier meetings that give work and are not done: the next meeting opens with them.

    A decision is open while the minutes that carry it await approval, or while a measure it created or updates is
    not closed (销号)."""
    not_done = Measure.objects.exclude(status=MeasureStatus.DONE).values("pk")
    updates_open = Exists(Decision.measures.through.objects.filter(decision_id=OuterRef("pk"), measure_id__in=not_done))
    return (
        Decision.objects.filter(meeting__series_id=meeting.series_id, meeting__number__lt=meeting.number)
        .exclude(kind=DecisionKind.INFORMATION)
        .filter(Q(applied_at__isnull=True) | Q(created_measure__in=not_done) | updates_open)
        .select_related("meeting", "topic", "lead", "created_measure")
        .defer("meeting__minutes_text", "topic__description")  # long texts the list never shows
        .prefetch_related(
            Prefetch(
                "measures",
                queryset=Measure.objects.only("id", "agreement_id", "number", "title", "status", *LIGHT_FIELDS),
            ),
            Prefetch("co_owners", queryset=Agency.objects.only("id", "name")),
        )
        .order_by("meeting__number", "position", "id")
    )


LIGHT_FIELDS = ("blue_from", "yellow_from", "red_from", "progress", "due_on")


def decision_state(decision: Decision, today: date | None = None, measures: list[Measure] | None = None) -> dict:
    """How far a decision has got: {"code", "light", "progress"} from the measures it created or updates
    (``measures``: the updated measures when the caller has them loaded already)."""
    today = today or timezone.localdate()
    if decision.kind == DecisionKind.INFORMATION:
        return {"code": "noted", "light": "", "progress": None}
    if decision.applied_at is None:
        return {"code": "awaiting_minutes", "light": "", "progress": None}
    if decision.created_measure_id:
        measures = [decision.created_measure]
    elif measures is None:
        measures = list(decision.measures.all())
    measures = [m for m in measures if m is not None]
    if not measures:
        return {"code": "applied", "light": "", "progress": None}
    lights = [ledger_selectors.light_for(m, today) for m in measures]
    order = ["red", "yellow", "blue", "green", "done"]
    worst = min(lights, key=order.index)
    progress = round(sum(m.progress for m in measures) / len(measures))
    return {"code": "done" if worst == "done" else "in_progress", "light": worst, "progress": progress}


def calendar_meetings(principal, first: date | None = None, last: date | None = None):
    """Visible meetings starting within [first, last] (either bound optional), earliest first."""
    meetings = Meeting.objects.visible_to(principal).select_related("series", "host")
    if first is not None:
        meetings = meetings.filter(starts_at__gte=ledger_selectors.day_bounds(first, first)[0])
    if last is not None:
        meetings = meetings.filter(starts_at__lt=ledger_selectors.day_bounds(last, last)[1])
    return meetings.order_by("starts_at", "id")
