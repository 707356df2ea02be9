"""The board page (一盘棋总览): a circle's or an agreement's ledger at a glance, with filters, charts and the matrix.

The figures come from ``ledger.board.build_board`` in a constant number of queries; this module only checks the
filters, decides which trend the viewer may see and shapes the figures for the template and the charts (drawn by
static/yipanqi/app.js from ``json_script`` data: the CSP allows no inline script or style).

Filters are checked against what the viewer may see: a circle or an agreement that is not visible is a form error,
and an invalid form shows no figures at all, so an outsider who guesses an id learns nothing. The select boxes offer
a short list (provinces and the chosen circle's cities, the agencies on the board) while any visible region or agency
is accepted, so that a shared link keeps working.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.forms.utils import flatatt
from django.http import QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from yipanqi.directory.forms import style_form
from yipanqi.directory.models import Agency, Circle, Region, RegionLevel

from .board import LIST_SIZE, MATRIX_PAGE, TREND_DAYS, Board, BoardFilters, build_board
from .lights import LIGHTS
from .models import Agreement, MeasureCategory, MeasureStatus
from .views import LIGHT_LABELS, Light

FILTER_FIELDS = ("circle", "agreement", "region", "agency", "category", "light", "due_from", "due_to")
TOP_AGENCIES = 15
DATE_INPUT = {"type": "date"}


class FastSelect(forms.Select):
    """A <select> written in Python. Django renders every option through a template (about 0.1 ms each), and the
    board offers hundreds of agencies and regions on every request."""

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        chosen = {str(v) for v in self.format_value(value)}

        def options(choices):
            return format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((v, mark_safe(" selected") if str(v) in chosen else "", label) for v, label in choices),
            )

        parts = []
        for key, label in self.choices:
            if isinstance(label, (list, tuple)):
                parts.append(format_html('<optgroup label="{}">{}</optgroup>', key, options(label)))
            else:
                parts.append(options([(key, label)]))
        return format_html("<select{}>{}</select>", flatatt(final), mark_safe("".join(parts)))  # noqa: S308


def _date_field(label):
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Enter a valid date (YYYY-MM-DD).")},
    )


def _scope_choice(model, label, invalid):
    """An optional choice of ``model``; the queryset (what the user may see) is set per form."""
    return forms.ModelChoiceField(
        widget=FastSelect,
        label=label,
        queryset=model.objects.none(),
        required=False,
        error_messages={"invalid_choice": invalid},
    )


class BoardFilterForm(forms.Form):
    """What the board shows. Every choice is checked against what ``user`` may see."""

    circle = _scope_choice(
        Circle,
        gettext_lazy("Cooperation circle"),
        gettext_lazy("This cooperation circle does not exist or is not open to you."),
    )
    agreement = _scope_choice(
        Agreement, gettext_lazy("Agreement"), gettext_lazy("This agreement does not exist or is not open to you.")
    )
    region = _scope_choice(Region, gettext_lazy("Region"), gettext_lazy("Unknown region."))
    agency = _scope_choice(Agency, gettext_lazy("Agency"), gettext_lazy("Unknown agency."))
    category = forms.ChoiceField(
        label=gettext_lazy("Category"), choices=[("", ""), *MeasureCategory.choices], required=False, widget=FastSelect
    )
    light = forms.ChoiceField(
        label=gettext_lazy("Light"), choices=[("", ""), *LIGHT_LABELS.items()], required=False, widget=FastSelect
    )
    due_from = _date_field(gettext_lazy("Deadline from"))
    due_to = _date_field(gettext_lazy("Deadline until"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # Validation accepts whatever the user may see; the options rendered are narrowed by ``offer_choices``.
        self.fields["circle"].queryset = Circle.objects.visible_to(user).only("pk", "name", "short_name")
        self.fields["agreement"].queryset = Agreement.objects.visible_to(user).select_related("circle")
        self.fields["region"].queryset = Region.objects.visible_to(user)
        self.fields["agency"].queryset = Agency.objects.visible_to(user)

    def clean(self):
        data = super().clean()
        circle, agreement = data.get("circle"), data.get("agreement")
        if circle is not None and agreement is not None and agreement.circle_id != circle.pk:
            self.add_error("agreement", _("This agreement does not belong to the chosen cooperation circle."))
        due_from, due_to = data.get("due_from"), data.get("due_to")
        if due_from and due_to and due_from > due_to:
            self.add_error("due_to", _("The end of the deadline range is before its start."))
        return data

    def filters(self) -> BoardFilters:
        data = self.cleaned_data
        return BoardFilters(
            circle=data["circle"],
            agreement=data["agreement"],
            region=data["region"],
            agency=data["agency"],
            category=data["category"],
            light=data["light"],
            due_from=data["due_from"],
            due_to=data["due_to"],
        )

    @property
    def scope_circle(self) -> Circle | None:
        """The chosen circle, else the chosen agreement's (valid choices only)."""
        data = getattr(self, "cleaned_data", {})
        if data.get("circle") is not None:
            return data["circle"]
        agreement = data.get("agreement")
        return agreement.circle if agreement is not None else None

    def offer_choices(self, board: Board | None) -> None:
        """The options to render: the scope circle's agreements, the provinces and the circle's cities (never all
        regions), the agencies on the board. A valid chosen value is always among them."""
        data = getattr(self, "cleaned_data", {})
        circle = data.get("circle")
        agreements = Agreement.objects.visible_to(self.user).only("pk", "title").order_by("-signed_on", "-id")
        self.fields["agreement"].queryset = agreements.filter(circle=circle) if circle is not None else agreements

        scope = self.scope_circle
        wanted = Q(level=RegionLevel.PROVINCE)
        if scope is not None:
            members = scope.regions.all()
            wanted |= Q(pk__in=members.values("pk")) | Q(
                parent__in=members.filter(level=RegionLevel.PROVINCE).values("pk")
            )
        if data.get("region") is not None:
            wanted |= Q(pk=data["region"].pk)
        regions = list(Region.objects.filter(wanted).only("pk", "name", "level", "path").order_by("path"))
        provinces = [r for r in regions if r.level == RegionLevel.PROVINCE]
        province_names = {r.path: r.name for r in provinces}
        below = [
            (r.pk, f"{province_names.get(r.path[:8], '')} · {r.name}")
            for r in regions
            if r.level != RegionLevel.PROVINCE
        ]
        region_choices = [("", _("All")), (_("Provinces"), [(r.pk, r.name) for r in provinces])]
        if below:
            label = (
                _("Cities and districts of %(circle)s") % {"circle": scope.name}
                if scope is not None
                else _("Other regions")
            )
            region_choices.append((label, below))
        self.fields["region"].choices = region_choices

        agencies = [entry["agency"] for entry in board.agencies] if board is not None else []
        agencies.sort(key=lambda agency: (agency.region.path, agency.type, agency.name))
        chosen = data.get("agency")
        if chosen is not None and chosen.pk not in {a.pk for a in agencies}:
            agencies.append(chosen)
        self.fields["agency"].choices = [("", _("All")), *((a.pk, a.name) for a in agencies)]


def _page_number(value) -> int:
    """The matrix page asked for: anything but digits is page 1; build_board clamps it to the pages there are."""
    value = (value or "").strip()
    return int(value[:9]) if value.isascii() and value.isdigit() else 1


def _effective_data(request) -> QueryDict:
    """The filters as asked; with none at all, a coordinator of exactly one circle sees that circle."""
    data = request.GET.copy()
    data.pop("page", None)
    coordinated = request.user.coordinated_circle_ids
    if not any(name in data for name in FILTER_FIELDS) and len(coordinated) == 1:
        data["circle"] = str(next(iter(coordinated)))
    return data


def _trend_scope(user, form: BoardFilterForm):
    """(circle, agreement) whose whole trend the viewer may see, else None. Whoever sees an agreement sees all of
    its measures; a circle's trend counts agreements the viewer may not see, so it is for its coordinators only."""
    data = form.cleaned_data
    if data["agreement"] is not None:
        return (data["agreement"].circle, data["agreement"])
    circle = data["circle"]
    if circle is not None and (user.is_platform_admin or circle.pk in user.coordinated_circle_ids):
        return (circle, None)
    return None


# --------------------------------------------------------------------------- figures for the template and charts


def _light_label(code: str) -> str:
    return str(LIGHT_LABELS[code])


def _stacked(rows: list[dict], names: list[str], lights=LIGHTS) -> dict:
    """ECharts data of a stacked bar chart by light, and the same figures as a table."""
    return {
        "chart": {
            "categories": names,
            "series": [{"name": _light_label(c), "key": c, "data": [row[c] for row in rows]} for c in lights],
        },
        "columns": [_light_label(c) for c in lights] + ([_("Total")] if len(lights) > 1 else []),
        "rows": [
            [name, *(row[c] for c in lights), *([sum(row[c] for c in lights)] if len(lights) > 1 else [])]
            for name, row in zip(names, rows, strict=True)
        ],
    }


def _counts(items: list[tuple[str, int]]) -> dict:
    return {
        "chart": [{"name": name, "value": value} for name, value in items],
        "columns": [_("Items")],
        "rows": [[name, value] for name, value in items],
    }


def _charts(board: Board) -> dict:
    lights = [(code, _light_label(code), board.lights.get(code, 0)) for code in LIGHTS]
    status_labels = dict(MeasureStatus.choices)
    category_labels = dict(MeasureCategory.choices)
    top = [entry for entry in board.agencies if entry["red"] or entry["yellow"]][:TOP_AGENCIES]
    charts = {
        "lights": {
            "chart": [{"name": label, "value": n, "light": code} for code, label, n in lights],
            "columns": [_("Items")],
            "rows": [[label, n] for _code, label, n in lights],
        },
        "statuses": _counts([(str(status_labels[s]), n) for s, n in board.statuses.items() if s in status_labels]),
        "categories": _counts(
            [(str(category_labels[c]), n) for c, n in board.categories.items() if c in category_labels]
        ),
        "regions": _stacked(board.regions, [row["name"] for row in board.regions]),
        "agency_types": _stacked(board.agency_types, [str(row["name"]) for row in board.agency_types]),
        "top_agencies": _stacked(
            top, [entry["agency"].short_name or entry["agency"].name for entry in top], ("red", "yellow")
        ),
    }
    trend_series = [
        ("red", _light_label("red"), [s.red for s in board.trend]),
        ("yellow", _light_label("yellow"), [s.yellow for s in board.trend]),
        ("done", _light_label("done"), [s.done for s in board.trend]),
        ("progress", _("Average progress %"), [s.progress for s in board.trend]),
    ]
    days = [s.day.isoformat() for s in board.trend]
    charts["trend"] = {
        "chart": {
            "categories": days,
            "series": [
                {"name": name, "key": key, "data": data, **({"axis": 1} if key == "progress" else {})}
                for key, name, data in trend_series
            ],
        },
        "columns": [name for _key, name, _data in trend_series],
        "rows": [[day, *(data[i] for _key, _name, data in trend_series)] for i, day in enumerate(days)],
    }
    return charts


def _matrix(board: Board) -> list[dict]:
    """The matrix rows with Light objects (label for screen readers), each cell paired with its agency."""
    return [
        {
            "measure": row["measure"],
            "light": Light(row["light"]),
            "cells": [(agency, Light(code)) for agency, code in zip(board.matrix_agencies, row["cells"], strict=True)],
        }
        for row in board.matrix_rows
    ]


# --------------------------------------------------------------------------- the page


@login_required
@require_GET
def board(request):
    user = request.user
    today = timezone.localdate()
    data = _effective_data(request)
    form = BoardFilterForm(data, user=user)
    board_data = None
    context = {"form": form, "query": data, "board_today": today, "title": _("Board")}
    if form.is_valid():
        trend_scope = _trend_scope(user, form)
        board_data = build_board(
            user,
            form.filters(),
            today,
            page=_page_number(request.GET.get("page")),
            trend_scope=trend_scope,
        )
        context.update(
            {
                "board": board_data,
                "charts": _charts(board_data),
                "matrix": _matrix(board_data),
                "light_cards": [
                    {"code": code, "label": LIGHT_LABELS[code], "count": board_data.lights.get(code, 0)}
                    for code in LIGHTS
                ],
                "trend_scope": trend_scope,
                "scope_circle": form.cleaned_data["circle"],
                "scope_agreement": form.cleaned_data["agreement"],
                "filtered": any(
                    form.cleaned_data[name] for name in FILTER_FIELDS if name not in ("circle", "agreement")
                ),
                "matrix_page_size": MATRIX_PAGE,
                "list_size": LIST_SIZE,
                "trend_days": TREND_DAYS,
            }
        )
    form.offer_choices(board_data)
    style_form(form)
    fragment = bool(getattr(request, "htmx", False)) and not request.htmx.history_restore_request
    response = render(request, "ledger/_board.html" if fragment else "ledger/board.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response
