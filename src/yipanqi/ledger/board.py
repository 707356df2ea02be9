"""The board (一盘棋): a circle's or an agreement's ledger at a glance, and its trend over time.

Everything here reads; the board is built from a constant number of queries whatever the size of the ledger
(asserted in tests, measured in bench/bench_ledger.py): lights are evaluated in SQL from the stored transition dates
(see ledger/lights.py), breakdowns are GROUP BY queries, lists are pages.

The board counts *items*: the leaves of the measure trees, the level that owners carry out. Breakdowns by region
and agency type count the owners' *shares* of those items, each with its own light (an item owned by a court in
成都 and one in 重庆 counts once for 四川 and once for 重庆).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Avg, Case, Count, F, IntegerField, OuterRef, Q, Subquery, Value, When

from yipanqi.directory.models import Agency, AgencyType, Circle, Region

from . import selectors
from .lights import LIGHTS, URGENCY
from .models import (
    Agreement,
    BoardSnapshot,
    Measure,
    MeasureCategory,
    MeasureOwner,
    MeasureStatus,
    OwnerRole,
    ProgressReport,
    ShareStatus,
)

MATRIX_PAGE = 25  # rows; the columns are the agencies owning them (up to a few dozen)
LIST_SIZE = 10
TREND_DAYS = 180


@dataclass
class BoardFilters:
    """What a board shows; every field optional. Objects must already be checked as visible to the viewer."""

    circle: Circle | None = None
    agreement: Agreement | None = None
    region: Region | None = None
    agency: Agency | None = None
    category: str = ""
    light: str = ""
    due_from: date | None = None
    due_to: date | None = None


def _sees_whole(principal, filters: BoardFilters) -> bool:
    """Whether ``principal`` sees every measure in the chosen scope, so that no per-row permission test is needed:
    platform admins, the coordinators of the circle, and whoever sees the chosen agreement (its signatories and
    coordinators see all its measures). The form has already checked the circle and agreement are visible."""
    if getattr(principal, "is_platform_admin", False):
        return True
    if filters.agreement is not None:
        return Agreement.objects.visible_to(principal).filter(pk=filters.agreement.pk).exists()
    return filters.circle is not None and filters.circle.pk in principal.coordinated_circle_ids


def scope_q(
    principal, filters: BoardFilters, today: date, prefix: str = "", *, whole: bool | None = None, shares: bool = False
) -> Q:
    """The board's items (leaf measures visible to ``principal`` and matching ``filters``) as a Q over Measure, or,
    with ``prefix`` ("measure__"), over rows that point to a measure (reports): joins, not IN-lists, so the database
    can walk an index (the latest reports) instead of hashing every item first. ``shares=True`` (with the prefix)
    filters MeasureOwner rows by their own agreement, so that grouping the shares of a whole circle joins no
    measures."""
    f = prefix
    q = Q() if shares else Q(**{f"{f}is_leaf": True})  # shares exist on leaves only
    scope = "" if shares else f
    if not (_sees_whole(principal, filters) if whole is None else whole):
        q &= Q(**{f"{f}pk__in": Measure.objects.visible_to(principal).values("pk")})
    if filters.agreement is not None:
        q &= Q(**{f"{scope}agreement": filters.agreement})
    elif filters.circle is not None:
        q &= Q(**{f"{scope}agreement__circle": filters.circle})
    if filters.region is not None:
        owned_there = MeasureOwner.objects.filter(agency__region__path__startswith=filters.region.path)
        q &= Q(**{f"{f}pk__in": owned_there.values("measure_id")})
    if filters.agency is not None:
        q &= Q(**{f"{f}pk__in": MeasureOwner.objects.filter(agency=filters.agency).values("measure_id")})
    if filters.category:
        q &= Q(**{f"{f}category": filters.category})
    if filters.light:
        q &= selectors.light_filter(filters.light, today, prefix)
    if filters.due_from:
        q &= Q(**{f"{f}due_on__gte": filters.due_from})
    if filters.due_to:
        q &= Q(**{f"{f}due_on__lte": filters.due_to})
    return q


def urgency_case(today: date) -> Case:
    """Red first, then yellow, blue, green, closed: the order of the board's matrix and lists."""
    return Case(
        When(status=MeasureStatus.DONE, then=Value(URGENCY["done"])),
        When(red_from__lte=today, then=Value(URGENCY["red"])),
        When(yellow_from__lte=today, then=Value(URGENCY["yellow"])),
        When(blue_from__lte=today, then=Value(URGENCY["blue"])),
        default=Value(URGENCY["green"]),
        output_field=IntegerField(),
    )


@dataclass
class Board:
    total: int = 0
    progress: int = 0
    lights: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    regions: list[dict] = field(default_factory=list)  # {"name", "red", … "done", "total"}, most red first
    agency_types: list[dict] = field(default_factory=list)
    agencies: list[dict] = field(default_factory=list)  # {"agency", "region", … lights, "total"}, most red first
    matrix_agencies: list[Agency] = field(default_factory=list)
    matrix_rows: list[dict] = field(default_factory=list)  # {"measure", "light", "cells": [light | ""]}
    page: int = 1
    pages: int = 1
    overdue: list[Measure] = field(default_factory=list)
    recent_reports: list[ProgressReport] = field(default_factory=list)
    trend: list[BoardSnapshot] = field(default_factory=list)


def _light_counts() -> dict[str, int]:
    return dict.fromkeys(LIGHTS, 0)


def build_board(principal, filters: BoardFilters, today: date, *, page: int = 1, trend_scope=None) -> Board:
    """The board's figures and lists. ``trend_scope`` is a (circle, agreement) pair whose snapshots the viewer may
    see in full, or None for no trend."""
    whole = _sees_whole(principal, filters)
    items = Measure.objects.filter(scope_q(principal, filters, today, whole=whole))
    board = Board(lights=_light_counts(), statuses=dict.fromkeys(MeasureStatus.values, 0))
    board.categories = dict.fromkeys(MeasureCategory.values, 0)

    # 1. counts by light, status and category, and the mean progress: one GROUP BY.
    weighted = 0
    rows = (
        items.order_by()
        .annotate(light=selectors.light_case(today))
        .values("light", "status", "category")
        .annotate(n=Count("id"), progress=Avg("progress"))
    )
    for row in rows:
        board.total += row["n"]
        board.lights[row["light"]] += row["n"]
        board.statuses[row["status"]] = board.statuses.get(row["status"], 0) + row["n"]
        board.categories[row["category"]] = board.categories.get(row["category"], 0) + row["n"]
        weighted += (row["progress"] or 0) * row["n"]
    board.progress = round(weighted / board.total) if board.total else 0

    # 2. shares by agency and share light: one GROUP BY; regions and agency types are summed from it.
    by_agency: dict[int, dict[str, int]] = {}
    shares = (
        MeasureOwner.objects.filter(scope_q(principal, filters, today, "measure__", whole=whole, shares=True))
        .order_by()
        .annotate(light=selectors.share_light_case(today))
        .values("agency_id", "light")
        .annotate(n=Count("id"))
    )
    for row in shares:
        by_agency.setdefault(row["agency_id"], _light_counts())[row["light"]] += row["n"]
    agencies = (
        Agency.objects.filter(pk__in=list(by_agency))
        .select_related("region")
        .only("pk", "name", "short_name", "type", "region__path", "region__name")
    )
    province_codes = {agency.region.province_code for agency in agencies}
    provinces = dict(Region.objects.filter(code__in=province_codes).values_list("code", "name"))
    regions: dict[str, dict] = {}
    types: dict[str, dict] = {}
    type_labels = dict(AgencyType.choices)
    for agency in agencies:
        counts = by_agency[agency.pk]
        board.agencies.append({"agency": agency, **counts, "total": sum(counts.values())})
        region_name = provinces.get(agency.region.province_code, agency.region.name)
        for bucket, key, name in (
            (regions, region_name, region_name),
            (types, agency.type, type_labels.get(agency.type, agency.type)),
        ):
            entry = bucket.setdefault(key, {"name": name, **_light_counts(), "total": 0})
            for light, n in counts.items():
                entry[light] += n
                entry["total"] += n

    def most_urgent(entry):
        return (-entry["red"], -entry["yellow"], -entry["total"], str(entry.get("name", "")))

    board.agencies.sort(key=lambda e: (-e["red"], -e["yellow"], -e["total"], e["agency"].name))
    board.regions = sorted(regions.values(), key=most_urgent)
    board.agency_types = sorted(types.values(), key=most_urgent)

    # 3. the matrix: a page of items, most urgent first, against the agencies that own them.
    board.pages = max(1, -(-board.total // MATRIX_PAGE))
    board.page = min(max(1, page), board.pages)
    start = (board.page - 1) * MATRIX_PAGE
    page_items = _matrix_page(items, board.lights, today, start, start + MATRIX_PAGE)
    if page_items:
        cells: dict[tuple[int, int], str] = {}
        matrix_agencies: dict[int, Agency] = {}
        for share in (
            MeasureOwner.objects.filter(measure__in=[m.pk for m in page_items])
            .annotate(light=selectors.share_light_case(today))
            .select_related("agency")
            .only("pk", "measure_id", "role", "agency__name", "agency__short_name")
            .order_by("-role", "agency_id")
        ):
            cells[(share.measure_id, share.agency_id)] = share.light
            matrix_agencies.setdefault(share.agency_id, share.agency)
        board.matrix_agencies = list(matrix_agencies.values())
        for measure in page_items:
            board.matrix_rows.append(
                {
                    "measure": measure,
                    "light": measure.light,
                    "cells": [cells.get((measure.pk, agency_id), "") for agency_id in matrix_agencies],
                }
            )

    # 4. the overdue list, with each item's lead agency, and the latest reports.
    lead = MeasureOwner.objects.filter(measure=OuterRef("pk"), role=OwnerRole.LEAD).values("agency__name")[:1]
    board.overdue = list(
        items.filter(selectors.light_filter("red", today))
        .annotate(lead_agency=Subquery(lead))
        .select_related("agreement")
        .only(*MEASURE_LIST_FIELDS, "agreement__title")
        .order_by("due_on", "agreement_id", "path")[:LIST_SIZE]
    )
    for measure in board.overdue:
        measure.days_overdue = (today - measure.due_on).days if measure.due_on else 0
    board.recent_reports = list(
        ProgressReport.objects.filter(scope_q(principal, filters, today, "measure__", whole=whole))
        .select_related("measure", "owner__agency")
        .only("pk", "progress", "text", "filed_at", "measure__number", "measure__title", "owner__agency__name")
        .order_by("-filed_at")[:LIST_SIZE]  # the filed_at index, walked backwards: no sort of a million rows
    )

    # 5. the trend: the stored daily snapshots of the whole circle or agreement.
    if trend_scope is not None:
        circle, agreement = trend_scope
        snapshots = BoardSnapshot.objects.filter(day__gt=today - timedelta(days=TREND_DAYS))
        if agreement is not None:
            snapshots = snapshots.filter(agreement=agreement)
        else:
            snapshots = snapshots.filter(circle=circle, agreement__isnull=True)
        board.trend = list(snapshots.order_by("day"))
    return board


def _matrix_page(items, light_counts: dict[str, int], today: date, start: int, end: int) -> list[Measure]:
    """Items ``start``…``end`` in the board's order: red, yellow, blue, green, closed, each by deadline.

    The light counts say which lights the page spans; each span is read by its own ordered, sliced SELECT (an index
    walk by deadline, not a sort of every item by a computed urgency), all in one UNION ALL query. SQLite cannot
    slice the parts of a compound query, so there one ordered query sorts every item by urgency."""
    fields = (*MEASURE_LIST_FIELDS, "agreement__title")
    if not connection.features.supports_slicing_ordering_in_compound:
        rows = list(
            items.annotate(urgency=urgency_case(today), light=selectors.light_case(today))
            .select_related("agreement")
            .only(*fields)
            .order_by("urgency", "due_on", "agreement_id", "path")[start:end]
        )
        return rows
    parts, offset = [], 0
    for light in LIGHTS:
        first, last = offset, offset + light_counts.get(light, 0)
        offset = last
        low, high = max(start, first), min(end, last)
        if low >= high:
            continue
        part = (
            items.filter(selectors.light_filter(light, today))
            .annotate(light=Value(light), agreement_title=F("agreement__title"))
            .only(*MEASURE_LIST_FIELDS)
            .order_by("due_on", "agreement_id", "path")[low - first : high - first]
        )
        parts.append(part)
    if not parts:
        return []
    rows = list(parts[0].union(*parts[1:], all=True)) if len(parts) > 1 else list(parts[0])
    rows.sort(key=lambda m: (URGENCY[m.light], m.due_on or date.max, m.agreement_id, m.path))
    for measure in rows:  # the agreement's title came with the row: no query per item
        measure.agreement = Agreement(pk=measure.agreement_id, title=measure.agreement_title)
    return rows


MEASURE_LIST_FIELDS = (
    "pk",
    "agreement_id",
    "number",
    "title",
    "path",
    "is_leaf",
    "status",
    "progress",
    "category",
    "due_on",
    "blue_from",
    "yellow_from",
    "red_from",
)


# --------------------------------------------------------------------------- snapshots (the trend)


def snapshot_figures(items, day: date) -> dict:
    """The figures of a set of items on ``day``: the lights of that day (closed: only if closed by then), the reports
    filed that day (Asia/Shanghai), the shares whose report was overdue."""
    figures = {"measures": 0, "progress": 0, **_light_counts()}
    start, end = selectors.day_bounds(day, day)
    light = selectors.light_case_as_of(day)
    weighted = 0
    for row in items.order_by().annotate(light=light).values("light").annotate(n=Count("id"), p=Avg("progress")):
        figures[row["light"]] += row["n"]
        figures["measures"] += row["n"]
        weighted += (row["p"] or 0) * row["n"]
    figures["progress"] = round(weighted / figures["measures"]) if figures["measures"] else 0
    ids = items.order_by().values("pk")
    figures["reports"] = ProgressReport.objects.filter(measure__in=ids, filed_at__gte=start, filed_at__lt=end).count()
    figures["missing_reports"] = (
        MeasureOwner.objects.filter(measure__in=ids, report_due_on__lt=day).exclude(status=ShareStatus.CLOSED).count()
    )
    return figures


def take_snapshots(day: date) -> int:
    """Store ``day``'s figures of every circle and every agreement (the daily job); returns how many were written."""
    written = 0
    scopes = [(circle, None) for circle in Circle.objects.all()]
    scopes += [(agreement.circle, agreement) for agreement in Agreement.objects.select_related("circle")]
    for circle, agreement in scopes:
        items = selectors.scope_items(circle, agreement)
        figures = snapshot_figures(items, day)
        if agreement is None and not figures["measures"]:
            continue  # a circle without a ledger has no trend to draw
        lookup = (
            {"agreement": agreement, "day": day} if agreement else {"circle": circle, "agreement": None, "day": day}
        )
        try:
            with transaction.atomic():
                BoardSnapshot.objects.update_or_create(**lookup, defaults={"circle": circle, **figures})
        except IntegrityError:  # a concurrent run wrote it first: its figures are as good as ours
            continue
        written += 1
    return written


def backfill_snapshots(until: date, days: int) -> int:
    """Snapshots for the ``days`` days before ``until`` (a new installation, the demo), from today's data: closed
    items and reports are exact; lights are those the stored dates give for each day."""
    return sum(take_snapshots(until - timedelta(days=n)) for n in range(days, 0, -1))
