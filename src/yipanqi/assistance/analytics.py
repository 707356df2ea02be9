"""Analytics of a cooperation circle's assistance requests (协作数据分析): volume by kind, the flows between provinces
(a sankey chart and a matrix), the on-time rate of each receiving agency, the median time of each stage, returns and
their reasons.

Who sees what: a circle's coordinators (and platform admins) see every request of the circle; anyone else sees the
circles their agency belongs to, counted over only the requests ``visible_to`` lets them see (their own agency's,
the ones routed through it). An outsider has no circle to choose, and a circle they do not belong to is a 404.

The figures are SQL aggregates (GROUP BY with conditional counts) over the circle's requests sent in the period, so
the page costs the same number of queries whatever the volume. Medians are ``PERCENTILE_CONT`` on PostgreSQL; SQLite
has no ordered-set aggregate, so there one query reads the stage timestamps and Python takes the medians (fine for a
circle on the embedded database; large installations run PostgreSQL).

The charts are drawn by static/yipanqi/app.js from ``json_script`` data (the CSP allows no inline script); every
chart also has its figures as a table, for people and screen readers.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.db import connections
from django.db.models import Aggregate, Count, DurationField, F, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Substr
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from yipanqi.directory.forms import style_form
from yipanqi.directory.models import Circle, Region
from yipanqi.ledger.board_views import FastSelect

from .models import OPEN_STATUSES, AssistanceRequest, EventKind, RequestEvent, RequestKind, RequestStatus, Urgency
from .selectors import RUNNING

PERIODS = (
    ("30", gettext_lazy("Last 30 days")),
    ("90", gettext_lazy("Last 3 months")),
    ("180", gettext_lazy("Last 6 months")),
    ("365", gettext_lazy("Last 12 months")),
    ("all", gettext_lazy("All time")),
)
DEFAULT_PERIOD = "365"
TOP_AGENCIES = 15  # in the on-time chart; the table lists every receiving agency
TOP_REASONS = 10
CHART_LABEL = 24  # characters of a return reason on the chart's axis; the table has the whole text
FINISHED = (RequestStatus.ANSWERED, RequestStatus.CLOSED)
WORKING = (RequestStatus.ACCEPTED, RequestStatus.IN_PROGRESS)
STAGES = (
    ("send_sign", "sent_at", "received_at", gettext_lazy("Sent → signed for")),
    ("sign_accept", "received_at", "accepted_at", gettext_lazy("Signed for → accepted")),
    ("accept_answer", "accepted_at", "answered_at", gettext_lazy("Accepted → answered")),
)
CLOCKS = ("sign", "accept", "finish")


# --------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class Filters:
    """What the analytics count: the requests of ``circle`` sent since ``since`` (None: ever), of ``kind`` if given.
    The circle must already be checked as visible to the viewer."""

    circle: Circle
    kind: RequestKind | None = None
    since: datetime | None = None


def sees_whole_circle(principal, circle: Circle) -> bool:
    """Coordinators of the circle and platform admins see all its requests, so no per-row permission test is needed
    (``visible_to`` would OR several subqueries into every aggregate)."""
    return bool(getattr(principal, "is_platform_admin", False)) or circle.pk in principal.coordinated_circle_ids


def requests_in(principal, filters: Filters) -> QuerySet:
    """The requests counted: sent (drafts are the sender's own business), in the circle, visible to ``principal``."""
    if sees_whole_circle(principal, filters.circle):
        queryset = AssistanceRequest.objects.all()
    else:
        queryset = AssistanceRequest.objects.visible_to(principal)
    queryset = queryset.filter(circle=filters.circle, sent_at__isnull=False)
    if filters.kind is not None:
        queryset = queryset.filter(kind=filters.kind)
    if filters.since is not None:
        queryset = queryset.filter(sent_at__gte=filters.since)
    return queryset


def since_for(period: str, now: datetime) -> datetime | None:
    return None if period == "all" else now - timedelta(days=int(period))


# --------------------------------------------------------------------------- on time or late, as SQL conditions


def clock_conditions(now: datetime) -> dict[str, tuple[Q, Q]]:
    """For each clock, (on time, late) over one request, judged by the receiver it is with now.

    - sign (签收): signed by ``sign_due_at``; late if signed after it, or still unsigned past it;
    - accept (受理): accepted by ``accept_due_at`` (accepted straight away, without signing first, is on time); late if
      accepted after it, or signed and still not accepted past it;
    - finish (办结): answered by ``finish_due_at`` (a granted extension moves it); late if answered after it, or
      accepted and still working past it (a paused request's clock stands still: not counted late).
    A request returned or withdrawn before its clock ran out is neither.
    """
    return {
        "sign": (
            Q(received_at__isnull=False, sign_due_at__isnull=False, received_at__lte=F("sign_due_at")),
            Q(received_at__isnull=False, sign_due_at__isnull=False, received_at__gt=F("sign_due_at"))
            | Q(status=RequestStatus.SENT, sign_due_at__lt=now),
        ),
        "accept": (
            Q(accepted_at__isnull=False) & (Q(accept_due_at__isnull=True) | Q(accepted_at__lte=F("accept_due_at"))),
            Q(accepted_at__isnull=False, accept_due_at__isnull=False, accepted_at__gt=F("accept_due_at"))
            | Q(status=RequestStatus.RECEIVED, accept_due_at__lt=now),
        ),
        "finish": (
            Q(answered_at__isnull=False, finish_due_at__isnull=False, answered_at__lte=F("finish_due_at")),
            Q(answered_at__isnull=False, finish_due_at__isnull=False, answered_at__gt=F("finish_due_at"))
            | Q(status__in=WORKING, finish_due_at__lt=now),
        ),
    }


def _clock_counts(now: datetime) -> dict:
    counts = {}
    for clock, (on_time, late) in clock_conditions(now).items():
        counts[f"{clock}_on_time"] = Count("pk", filter=on_time)
        counts[f"{clock}_late"] = Count("pk", filter=late)
    return counts


def rate(on_time: int, late: int) -> int | None:
    """Percentage on time, rounded; None when the clock has not been judged on any request."""
    judged = on_time + late
    return round(100 * on_time / judged) if judged else None


# --------------------------------------------------------------------------- the figures


def overview(queryset: QuerySet, now: datetime) -> dict:
    """The headline figures in one query."""
    figures = queryset.aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        overdue=Count("pk", filter=Q(status__in=RUNNING, due_at__lt=now)),
        finished=Count("pk", filter=Q(status__in=FINISHED)),
        returned=Count("pk", filter=Q(status=RequestStatus.RETURNED)),
        withdrawn=Count("pk", filter=Q(status=RequestStatus.WITHDRAWN)),
        escalated=Count("pk", filter=Q(escalated_to__isnull=False)),
        urgent=Count("pk", filter=Q(urgency=Urgency.URGENT)),
        **_clock_counts(now),
    )
    for clock in CLOCKS:
        figures[f"{clock}_rate"] = rate(figures[f"{clock}_on_time"], figures[f"{clock}_late"])
    return figures


def by_kind(queryset: QuerySet) -> list[dict]:
    """Requests per kind, split by where they are: open, finished (answered or closed), returned, withdrawn."""
    rows = (
        queryset.values("kind_id", "kind__name", "kind__position")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
            finished=Count("pk", filter=Q(status__in=FINISHED)),
            returned=Count("pk", filter=Q(status=RequestStatus.RETURNED)),
            withdrawn=Count("pk", filter=Q(status=RequestStatus.WITHDRAWN)),
        )
        .order_by("kind__position", "kind_id")
    )
    return [
        {
            "kind_id": row["kind_id"],
            "name": row["kind__name"],
            **{key: row[key] for key in ("total", "open", "finished", "returned", "withdrawn")},
        }
        for row in rows
    ]


@dataclass(frozen=True)
class Province:
    code: str
    name: str


@dataclass
class RegionPairs:
    """Requests by (province of the sender, province of the receiver): the pairs, and the same as a matrix."""

    pairs: list[tuple[Province, Province, int]]
    senders: list[Province]
    receivers: list[Province]
    cells: dict[tuple[str, str], int]

    @property
    def total(self) -> int:
        return sum(n for _s, _r, n in self.pairs)

    def matrix(self) -> dict:
        """Rows: sending provinces; columns: receiving provinces; with the totals of each row and column."""
        rows = []
        for sender in self.senders:
            cells = [self.cells.get((sender.code, receiver.code), 0) for receiver in self.receivers]
            rows.append({"province": sender, "cells": cells, "total": sum(cells)})
        totals = [sum(self.cells.get((s.code, r.code), 0) for s in self.senders) for r in self.receivers]
        return {"columns": self.receivers, "rows": rows, "totals": totals, "total": self.total}


def _province_code(field: str):
    """The province's code from a region's path "/510000/510100/…/" (characters 2 to 7)."""
    return Substr(field, 2, 6)


def region_pairs(queryset: QuerySet) -> RegionPairs:
    """Two queries: the counts grouped by the two provinces, then the provinces' names."""
    rows = list(
        queryset.annotate(
            from_code=_province_code("sender__region__path"), to_code=_province_code("receiver__region__path")
        )
        .values("from_code", "to_code")
        .annotate(n=Count("pk"))
        .order_by("from_code", "to_code")
    )
    codes = {row["from_code"] for row in rows} | {row["to_code"] for row in rows}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    provinces = {code: Province(code, names.get(code, code)) for code in codes}
    pairs = [(provinces[row["from_code"]], provinces[row["to_code"]], row["n"]) for row in rows]
    return RegionPairs(
        pairs=sorted(pairs, key=lambda pair: (-pair[2], pair[0].code, pair[1].code)),
        senders=sorted({provinces[row["from_code"]] for row in rows}, key=lambda p: p.code),
        receivers=sorted({provinces[row["to_code"]] for row in rows}, key=lambda p: p.code),
        cells={(row["from_code"], row["to_code"]): row["n"] for row in rows},
    )


def on_time(queryset: QuerySet, now: datetime) -> list[dict]:
    """Per receiving agency (the one a request is with now), the requests received and each clock's on-time rate;
    most requests first."""
    rows = (
        queryset.values("receiver_id", "receiver__name", "receiver__short_name")
        .annotate(
            received=Count("pk"),
            overdue=Count("pk", filter=Q(status__in=RUNNING, due_at__lt=now)),
            **_clock_counts(now),
        )
        .order_by("-received", "receiver__name")
    )
    result = []
    for row in rows:
        entry = {
            "agency_id": row["receiver_id"],
            "name": row["receiver__name"],
            "short_name": row["receiver__short_name"] or row["receiver__name"],
            "received": row["received"],
            "overdue": row["overdue"],
        }
        for clock in CLOCKS:
            on, late = row[f"{clock}_on_time"], row[f"{clock}_late"]
            entry.update({f"{clock}_on_time": on, f"{clock}_late": late, f"{clock}_rate": rate(on, late)})
        result.append(entry)
    return result


class Median(Aggregate):
    """PostgreSQL's ``PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY …)`` (NULLs are left out), on intervals."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _median(values: list[timedelta]) -> timedelta | None:
    return statistics.median(values) if values else None


def stage_medians(queryset: QuerySet) -> dict:
    """The median time of each stage over the requests that went through it: overall and per kind.
    {"overall": {stage: timedelta | None}, "by_kind": {kind_id: {stage: …}}}. The time a request was paused is not
    taken out: the sender waits through it too."""
    if connections[queryset.db].vendor == "postgresql":
        medians = {key: Median(F(end) - F(start)) for key, start, end, _label in STAGES}
        overall = queryset.aggregate(**medians)
        per_kind = queryset.values("kind_id").annotate(**medians).order_by()
        by_kind = {row["kind_id"]: {key: row[key] for key, *_rest in STAGES} for row in per_kind}
        return {"overall": {key: overall[key] for key, *_rest in STAGES}, "by_kind": by_kind}
    fields = sorted({name for _key, start, end, _label in STAGES for name in (start, end)})
    durations: dict[str, list[timedelta]] = defaultdict(list)
    per_kind_durations: dict[int, dict[str, list[timedelta]]] = defaultdict(lambda: defaultdict(list))
    for row in queryset.values("kind_id", *fields).order_by():
        for key, start, end, _label in STAGES:
            if row[start] is not None and row[end] is not None:
                span = row[end] - row[start]
                durations[key].append(span)
                per_kind_durations[row["kind_id"]][key].append(span)
    return {
        "overall": {key: _median(durations[key]) for key, *_rest in STAGES},
        "by_kind": {
            kind_id: {key: _median(spans[key]) for key, *_rest in STAGES}
            for kind_id, spans in per_kind_durations.items()
        },
    }


def returns(queryset: QuerySet, limit: int = TOP_REASONS) -> dict:
    """Returns (退回) of the requests counted: how many, how many requests were returned at least once, and the
    most frequent reasons (the same text counts together). Two queries over the events."""
    events = RequestEvent.objects.filter(request__in=queryset.values("pk"), kind=EventKind.RETURNED)
    totals = events.aggregate(total=Count("pk"), requests=Count("request_id", distinct=True))
    reasons = list(
        events.annotate(reason=KT("data__reason"))
        .values("reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "reason")[:limit]
    )
    unnamed = _("(no reason given)")
    return {
        "total": totals["total"],
        "requests": totals["requests"],
        "reasons": [{"reason": (row["reason"] or "").strip() or unnamed, "n": row["n"]} for row in reasons],
    }


# --------------------------------------------------------------------------- shaping for the page and the charts


def humanise(span: timedelta | None) -> str:
    """ "5.2 h" under two days, "3.5 d" from then on; "—" when nothing went through the stage."""
    if span is None:
        return "—"
    hours = span.total_seconds() / 3600
    if hours < 48:
        return _("%(hours)s h") % {"hours": f"{hours:.1f}"}
    return _("%(days)s d") % {"days": f"{hours / 24:.1f}"}


def _days(span: timedelta | None) -> float:
    return round(span.total_seconds() / 86400, 1) if span is not None else 0


def _percent(value: int | None) -> str:
    return "—" if value is None else f"{value}%"


def _short(text: str) -> str:
    return text if len(text) <= CHART_LABEL else text[: CHART_LABEL - 1] + "…"


def charts(kinds: list[dict], pairs: RegionPairs, agencies: list[dict], medians: dict, returned: dict) -> dict:
    """The data of each chart ({"chart": …, "columns": […], "rows": [[…]]}, see ledger/_board_chart.html)."""
    outcome = [
        ("open", "blue", _("In hand")),
        ("finished", "green", _("Answered or closed")),
        ("returned", "yellow", _("Returned")),
        ("withdrawn", "done", _("Withdrawn")),
    ]
    kind_chart = {
        "chart": {
            "categories": [row["name"] for row in kinds],
            "series": [
                {"name": label, "key": colour, "data": [row[key] for row in kinds]} for key, colour, label in outcome
            ],
        },
        "columns": [label for _key, _colour, label in outcome] + [_("Total")],
        "rows": [[row["name"], *(row[key] for key, _c, _l in outcome), row["total"]] for row in kinds],
    }

    provinces = sorted({p.code for p in pairs.senders} | {p.code for p in pairs.receivers})
    group = {code: index for index, code in enumerate(provinces)}

    def sending(province: Province) -> str:
        return _("%(province)s (sending)") % {"province": province.name}

    def receiving(province: Province) -> str:
        return _("%(province)s (receiving)") % {"province": province.name}

    nodes = [{"name": sending(p), "group": group[p.code]} for p in pairs.senders]
    nodes += [{"name": receiving(p), "group": group[p.code]} for p in pairs.receivers]
    sankey = {
        "chart": {
            "nodes": nodes,
            "links": [{"source": sending(s), "target": receiving(r), "value": n} for s, r, n in pairs.pairs],
        },
        "columns": [_("Receiving province"), _("Requests")],
        "rows": [[s.name, r.name, n] for s, r, n in pairs.pairs],
    }

    top = agencies[:TOP_AGENCIES]
    on_time_chart = {
        "chart": {
            "categories": [row["short_name"] for row in top],
            "series": [
                {"name": _("Finished on time"), "key": "green", "data": [row["finish_on_time"] for row in top]},
                {"name": _("Finished late or overdue"), "key": "red", "data": [row["finish_late"] for row in top]},
            ],
        },
        "columns": [_("Finished on time"), _("Finished late or overdue"), _("On-time rate")],
        "rows": [[row["name"], row["finish_on_time"], row["finish_late"], _percent(row["finish_rate"])] for row in top],
    }

    overall = medians["overall"]
    median_chart = {
        "chart": [{"name": str(label), "value": _days(overall[key])} for key, _s, _e, label in STAGES],
        "columns": [_("Median")],
        "rows": [[str(label), humanise(overall[key])] for key, _s, _e, label in STAGES],
    }

    reasons = returned["reasons"]
    reason_chart = {
        "chart": [{"name": _short(row["reason"]), "value": row["n"]} for row in reasons],
        "columns": [_("Returns")],
        "rows": [[row["reason"], row["n"]] for row in reasons],
    }
    return {
        "kinds": kind_chart,
        "sankey": sankey,
        "on_time": on_time_chart,
        "medians": median_chart,
        "reasons": reason_chart,
    }


def median_rows(kinds: list[dict], medians: dict) -> list[dict]:
    """The medians of each kind that has requests, for the table (all kinds together are ``medians["overall"]``)."""
    return [
        {
            "name": row["name"],
            "cells": [humanise(medians["by_kind"].get(row["kind_id"], {}).get(key)) for key, *_rest in STAGES],
        }
        for row in kinds
    ]


# --------------------------------------------------------------------------- the page


class AnalyticsFilterForm(forms.Form):
    """Circle (only those the viewer may see), kind and period."""

    circle = forms.ModelChoiceField(
        label=gettext_lazy("Cooperation circle"), queryset=Circle.objects.none(), empty_label=None, widget=FastSelect
    )
    kind = forms.ModelChoiceField(
        label=gettext_lazy("Kind"),
        queryset=RequestKind.objects.order_by("position", "pk"),
        required=False,
        widget=FastSelect,
        error_messages={"invalid_choice": gettext_lazy("Unknown kind of request.")},
    )
    period = forms.ChoiceField(label=gettext_lazy("Sent in"), choices=PERIODS, required=False, widget=FastSelect)

    def __init__(self, *args, circles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["circle"].queryset = circles
        for field in self.fields.values():
            field.widget.attrs["data-autosubmit"] = ""


def visible_circles(user) -> QuerySet:
    """The circles whose analytics ``user`` may open: those they coordinate and those their agency belongs to."""
    return Circle.objects.visible_to(user).order_by("name")


def _default_circle(user, circles: list[Circle]) -> Circle | None:
    coordinated = [c for c in circles if c.pk in user.coordinated_circle_ids]
    return (coordinated or circles or [None])[0]


@login_required
@require_GET
def analytics_page(request):
    """The analytics of one circle. No circle asked for: the one the viewer coordinates, else the first of theirs.
    A circle the viewer may not open is a 404, as for everything else they may not see."""
    user = request.user
    now = timezone.now()
    circles = list(visible_circles(user).only("pk", "name", "short_name"))
    data = request.GET.copy()
    if not data.get("circle"):
        default = _default_circle(user, circles)
        if default is not None:
            data["circle"] = str(default.pk)
    if not data.get("period"):
        data["period"] = DEFAULT_PERIOD
    form = AnalyticsFilterForm(data, circles=visible_circles(user))
    context = {"form": form, "title": _("Assistance analytics"), "now": now, "has_circles": bool(circles)}
    if circles and form.is_valid():
        filters = Filters(
            circle=form.cleaned_data["circle"],
            kind=form.cleaned_data["kind"],
            since=since_for(form.cleaned_data["period"] or DEFAULT_PERIOD, now),
        )
        queryset = requests_in(user, filters)
        figures = overview(queryset, now)
        kinds = by_kind(queryset)
        pairs = region_pairs(queryset)
        agencies = on_time(queryset, now)
        medians = stage_medians(queryset)
        returned = returns(queryset)
        context.update(
            {
                "filters": filters,
                "period_label": dict(PERIODS)[form.cleaned_data["period"] or DEFAULT_PERIOD],
                "whole_circle": sees_whole_circle(user, filters.circle),
                "figures": figures,
                "rates": {clock: _percent(figures[f"{clock}_rate"]) for clock in CLOCKS},
                "kinds": kinds,
                "matrix": pairs.matrix(),
                "agencies": agencies,
                "stages": [str(label) for *_rest, label in STAGES],
                "median_rows": median_rows(kinds, medians),
                "median_overall": [humanise(medians["overall"][key]) for key, *_rest in STAGES],
                "returned": returned,
                "charts": charts(kinds, pairs, agencies, medians, returned),
                "top_agencies": TOP_AGENCIES,
            }
        )
    elif "circle" in form.errors and (circles or data.get("circle")):
        raise Http404(_("This cooperation circle does not exist or is not open to you."))
    form.fields["circle"].choices = [(circle.pk, circle.name) for circle in circles]  # no second query to render
    style_form(form)
    return render(request, "assistance/analytics.html", context)
