"""Directory pages: region tree, circles, agencies, people, the agency's API keys."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .filters import AgencyFilter, UserFilter
from .forms import ApiKeyForm, CounterpartForm
from .models import Agency, ApiKey, Circle, Region, Role, RoleGrant, User


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
    template = "directory/_region_children.html" if request.htmx and not q else "directory/region_tree.html"
    return render(request, template, context)


@login_required
@require_GET
def circle_list(request):
    circles = Circle.objects.visible_to(request.user).prefetch_related("regions").select_related("coordinating_agency")
    return render(request, "directory/circle_list.html", {"circles": circles, "title": _("Cooperation circle")})


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
    return render(
        request,
        "directory/circle_detail.html",
        {
            "circle": circle,
            "groups": selectors.circle_agencies_grouped(request.user, circle),
            "coordinators": coordinators,
            "title": circle.name,
        },
    )


@login_required
@require_GET
def agency_list(request):
    base = Agency.objects.visible_to(request.user).select_related("region")
    filterset = AgencyFilter(request.GET or None, queryset=base, request=request)
    queryset = (
        filterset.qs if filterset.is_bound and filterset.is_valid() else base.none() if filterset.is_bound else base
    )
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    template = "directory/_agency_rows.html" if request.htmx else "directory/agency_list.html"
    return render(request, template, {"filter": filterset, "page": page, "title": _("Agencies")})


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
    form = CounterpartForm(request.GET or None)
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
            "circles": Circle.objects.visible_to(request.user).filter(
                pk__in=Circle.objects.containing_agency(agency).values("pk")
            ),
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
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(request, "directory/people_list.html", {"filter": filterset, "page": page, "title": _("People")})


@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request):
    """An agency liaison issues and revokes the keys of the agency's own systems."""
    if not request.user.has_role(Role.LIAISON) and not request.user.is_platform_admin:
        raise Http404
    agency = request.user.agency
    if agency is None:
        raise Http404
    form = ApiKeyForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.issue_api_key(acting_user=request.user, agency=agency, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("API key created. Copy it now: it is shown only this once."))
            form = ApiKeyForm()
    keys = ApiKey.objects.visible_to(request.user).filter(agency=agency)
    return render(
        request,
        "directory/api_keys.html",
        {
            "form": form,
            "keys": keys,
            "issued": issued,
            "agency": agency,
            "title": _("API key"),
        },
    )


@login_required
@require_POST
def api_key_revoke(request, pk: int):
    api_key = get_object_or_404(ApiKey.objects.visible_to(request.user), pk=pk)
    services.revoke_api_key(acting_user=request.user, api_key=api_key)
    messages.success(request, _("API key %(name)s revoked.") % {"name": api_key.name})
    return redirect("directory:api-keys")
