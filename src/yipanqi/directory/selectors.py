"""Directory reads used by views, the API and other apps. Every entry point takes the acting principal."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.utils.translation import gettext_lazy as _

from .models import Agency, Circle, Region, RegionLevel

LEVEL_ORDER = {RegionLevel.PROVINCE: 0, RegionLevel.CITY: 1, RegionLevel.COUNTY: 2}


@dataclass
class Counterpart:
    agency: Agency
    score: int
    reasons: list[str] = field(default_factory=list)


def counterparts(principal, *, agency: Agency, target_region: Region, limit: int = 10) -> list[Counterpart]:
    """Propose the agency of the same type at the same level in ``target_region``, best first.

    Candidates are agencies of the same type located in the target region, below it, or above it (a
    直辖市's branch courts sit at the municipality but serve its districts). Scoring, highest first:
    same level +100 (each level apart −30); same specialty (知识产权, 金融 …) +60, a different one −60;
    explicit jurisdiction covering the target +50, explicit jurisdiction not covering it −40;
    located exactly in the target +20, above it +10. Ties go by the agency's rank and name.
    """
    ancestors = target_region.ancestor_codes
    candidates = (
        Agency.objects.visible_to(principal)
        .filter(type=agency.type, is_active=True)
        .filter(Q(region__path__startswith=target_region.path) | Q(region__code__in=ancestors))
        .exclude(pk=agency.pk)
        .select_related("region")
        .prefetch_related(Prefetch("jurisdiction", queryset=Region.objects.only("id", "path")))
    )
    wanted_level = LEVEL_ORDER[agency.level]
    results: list[Counterpart] = []
    for candidate in candidates:
        reasons: list[str] = []
        score = 0
        distance = abs(LEVEL_ORDER[candidate.level] - wanted_level)
        if distance == 0:
            score += 100
            reasons.append(str(_("same level")))
        else:
            score -= 30 * distance
            reasons.append(str(_("different level")))
        if candidate.specialty == agency.specialty:
            if candidate.specialty:
                score += 60
                reasons.append(str(_("same specialty")))
        else:
            score -= 60
        areas = list(candidate.jurisdiction.all())
        # Jurisdiction only tells candidates apart when the target lies below the candidate's own region
        # (a district of 重庆 for its branch courts); for the whole municipality they serve it alike.
        if (
            areas
            and target_region.path != candidate.region.path
            and target_region.path.startswith(candidate.region.path)
        ):
            covers = any(
                target_region.path.startswith(area.path) or area.path.startswith(target_region.path) for area in areas
            )
            if covers:
                score += 50
                reasons.append(str(_("has jurisdiction there")))
            else:
                score -= 40
        if candidate.region_id == target_region.pk:
            score += 20
            reasons.append(str(_("located there")))
        elif candidate.region.code in ancestors:
            score += 10
        results.append(Counterpart(candidate, score, reasons))
    results.sort(key=lambda c: (-c.score, c.agency.rank, c.agency.name))
    return results[:limit]


def region_children(principal, region: Region | None):
    """One level of the region tree (provinces when ``region`` is None), with child counts."""
    from django.db.models import Count

    qs = Region.objects.visible_to(principal)
    qs = qs.filter(parent__isnull=True) if region is None else qs.filter(parent=region)
    return qs.annotate(child_count=Count("children")).order_by("code")


def region_ancestors(region: Region) -> list[Region]:
    by_code = {r.code: r for r in Region.objects.filter(code__in=region.ancestor_codes)}
    return [by_code[c] for c in region.ancestor_codes if c in by_code]


def circle_agencies_grouped(principal, circle: Circle, *, max_level: str = RegionLevel.CITY):
    """Agencies of a circle down to ``max_level``, grouped as [(region, [(type label, [agencies])])]."""
    levels = [lvl for lvl, order in LEVEL_ORDER.items() if order <= LEVEL_ORDER[max_level]]
    agencies = (
        circle.agencies()
        .filter(pk__in=Agency.objects.visible_to(principal).values("pk"))
        .filter(Q(level__in=levels) | Q(member_of_circles=circle))
        .select_related("region")
        .order_by("region__code", "type", "rank", "name")
    )
    grouped: dict[int, tuple[Region, dict[str, list[Agency]]]] = {}
    for agency in agencies:
        _region, by_type = grouped.setdefault(agency.region_id, (agency.region, {}))
        by_type.setdefault(agency.get_type_display(), []).append(agency)
    return [(region, list(by_type.items())) for region, by_type in grouped.values()]


def dashboard_summary(principal) -> dict:
    """Figures for the dashboard: the person's agency, circles and the shape of their directory."""
    from django.db.models import Count

    from .models import AgencyType, User

    circles = list(Circle.objects.visible_to(principal).select_related("coordinating_agency").order_by("name"))
    circle_ids = [c.pk for c in circles]
    in_circles = Agency.objects.in_circles(circle_ids) if circle_ids else Agency.objects.none()
    by_type = dict(in_circles.values_list("type").annotate(n=Count("id")).values_list("type", "n"))
    by_level = dict(in_circles.values_list("level").annotate(n=Count("id")).values_list("level", "n"))
    labels = dict(AgencyType.choices)
    return {
        "circles": circles,
        "agency_count": sum(by_type.values()),
        "people_count": User.objects.visible_to(principal).filter(is_active=True).count(),
        "region_count": Region.objects.visible_to(principal).count(),
        "chart_agencies_by_type": [{"name": str(labels[t]), "value": n} for t, n in sorted(by_type.items())],
        "chart_agencies_by_level": [
            {"name": str(RegionLevel(lvl).label), "value": by_level.get(lvl, 0)} for lvl in RegionLevel.values
        ],
    }
