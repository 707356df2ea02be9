"""Directory pages: region tree, circles, agencies, people, the agency's API keys."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .filters import AgencyFilter, UserFilter
from .forms import ApiKeyForm, CounterpartForm, style_form
from .models import Agency, AgencyType, ApiKey, Circle, Region, Role, RoleGrant, User

# Columns of a circle's board (region x agency type); the other types share one column.
BOARD_TYPES = [
    AgencyType.POLITICAL_LEGAL_COMMITTEE,
    AgencyType.COURT,
    AgencyType.PROCURATORATE,
    AgencyType.PUBLIC_SECURITY,
    AgencyType.JUSTICE,
]


def _wants_fragment(request) -> bool:
    """An htmx request for part of a page (not htmx restoring a whole page from history)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _render_maybe_fragment(request, page_template: str, fragment_template: str, context: dict):
    response = render(request, fragment_template if _wants_fragment(request) else page_template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def region_tree(request, code: str | None = None):
    region = get_object_or_404(Region.objects.visible_to(request.user), code=code) if code else None
    q = request.GET.get("q", "").strip()[:60]
    results = None
    if q:
        results = Paginator(
            Region.objects.visible_to(request.user).search(q).select_related("parent").order_by("code"), 50
        ).get_page(request.GET.get("page"))
    context = {
        "region": region,
        "ancestors": selectors.region_ancestors(region) if region else [],
        "children": selectors.region_children(request.user, region),
        "agencies": Agency.objects.visible_to(request.user).filter(region=region).order_by("type", "rank")
        if region
        else [],
        "q": q,
        "results": results,
        "title": region.name if region else _("Regions"),
    }
    if q:
        return render(request, "directory/region_tree.html", context)
    return _render_maybe_fragment(request, "directory/region_tree.html", "directory/_region_children.html", context)


@login_required
@require_GET
def circle_list(request):
    circles = Circle.objects.visible_to(request.user).prefetch_related("regions").select_related("coordinating_agency")
    page = Paginator(circles, 30).get_page(request.GET.get("page"))
    return render(
        request, "directory/circle_list.html", {"circles": page, "page": page, "title": _("Cooperation circles")}
    )


def _board(groups) -> dict:
    """The circle's agencies as a board: one row per region, one column per main agency type, then the rest."""
    rows = []
    for region, by_type in groups:
        cells = {agency_type: [] for agency_type in BOARD_TYPES}
        others = []
        for _label, agencies in by_type:
            for agency in agencies:
                if agency.type in cells:
                    cells[agency.type].append(agency)
                else:
                    others.append(agency)
        rows.append({"region": region, "cells": [(t.label, cells[t]) for t in BOARD_TYPES], "others": others})
    return {"columns": [(t.value, t.label) for t in BOARD_TYPES], "rows": rows}


@login_required
@require_GET
def circle_detail(request, slug: str):
    circle = get_object_or_404(
        Circle.objects.visible_to(request.user).prefetch_related("regions", "member_agencies"), slug=slug
    )
    coordinators = (
        User.objects.visible_to(request.user)
        .filter(role_grants__role=Role.COORDINATOR, role_grants__circle=circle)
        .select_related("agency")
    )
    groups = selectors.circle_agencies_grouped(request.user, circle)
    return render(
        request,
        "directory/circle_detail.html",
        {
            "circle": circle,
            "groups": groups,
            "board": _board(groups),
            "coordinators": coordinators,
            "title": circle.name,
        },
    )


@login_required
@require_GET
def agency_list(request):
    base = Agency.objects.visible_to(request.user).select_related("region")
    filterset = AgencyFilter(request.GET or None, queryset=base, request=request)
    style_form(filterset.form)
    queryset = (
        filterset.qs if filterset.is_bound and filterset.is_valid() else base.none() if filterset.is_bound else base
    )
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return _render_maybe_fragment(
        request,
        "directory/agency_list.html",
        "directory/_agency_rows.html",
        {
            "filter": filterset,
            "page": page,
            # Only circles the user may see are offered: the choices must not reveal other circles' names.
            "circle_choices": Circle.objects.visible_to(request.user).only("pk", "name"),
            "title": _("Agencies"),
        },
    )


@login_required
@require_GET
def agency_detail(request, pk: int):
    agency = get_object_or_404(
        Agency.objects.visible_to(request.user)
        .select_related("region", "parent")
        .prefetch_related("departments", "jurisdiction"),
        pk=pk,
    )
    people = (
        User.objects.visible_to(request.user)
        .filter(agency=agency, is_active=True)
        .select_related("department")
        .prefetch_related(Prefetch("role_grants", queryset=RoleGrant.objects.select_related("circle")))
    )
    form = style_form(CounterpartForm(request.GET or None, user=request.user))
    counterparts = None
    if form.is_bound and form.is_valid():
        counterparts = selectors.counterparts(request.user, agency=agency, target_region=form.cleaned_data["region"])
    return render(
        request,
        "directory/agency_detail.html",
        {
            "agency": agency,
            "ancestors": selectors.region_ancestors(agency.region),
            "children": Agency.objects.visible_to(request.user).filter(parent=agency).select_related("region")[:100],
            "circles": Circle.objects.visible_to(request.user)
            .filter(pk__in=Circle.objects.containing_agency(agency).values("pk"))
            .prefetch_related("regions"),
            "people": people,
            "form": form,
            "counterparts": counterparts,
            "title": agency.name,
        },
    )


@login_required
@require_GET
def people_list(request):
    base = (
        User.objects.visible_to(request.user)
        .filter(is_active=True)
        .select_related("agency", "department")
        .prefetch_related(Prefetch("role_grants", queryset=RoleGrant.objects.select_related("circle")))
        .order_by("agency_id", "username")
    )
    filterset = UserFilter(request.GET or None, queryset=base, request=request)
    style_form(filterset.form)
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    agency_id = request.GET.get("agency", "")
    filter_agency = (
        Agency.objects.visible_to(request.user).filter(pk=agency_id).first() if agency_id.isdigit() else None
    )
    return render(
        request,
        "directory/people_list.html",
        {"filter": filterset, "page": page, "filter_agency": filter_agency, "title": _("People")},
    )


@login_required
@never_cache  # the response may carry a freshly issued key
@require_http_methods(["GET", "POST"])
def api_keys(request):
    """An agency liaison issues and revokes the keys of the agency's own systems."""
    if not request.user.has_role(Role.LIAISON) and not request.user.is_platform_admin:
        raise Http404
    agency = request.user.agency
    if agency is None:
        raise Http404
    form = style_form(ApiKeyForm(request.POST or None))
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.issue_api_key(acting_user=request.user, agency=agency, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("API key created. Copy it now: it is shown only this once."))
            form = style_form(ApiKeyForm())
    keys = ApiKey.objects.visible_to(request.user).filter(agency=agency).select_related("created_by")
    return render(
        request,
        "directory/api_keys.html",
        {
            "form": form,
            "keys": keys,
            "page": Paginator(keys, 50).get_page(request.GET.get("page")),
            "issued": issued,
            "agency": agency,
            "title": _("API keys"),
        },
    )


@login_required
@require_POST
def api_key_revoke(request, pk: int):
    api_key = get_object_or_404(ApiKey.objects.visible_to(request.user), pk=pk)
    services.revoke_api_key(acting_user=request.user, api_key=api_key)
    messages.success(request, _("API key %(name)s revoked.") % {"name": api_key.name})
    return redirect("directory:api-keys")
