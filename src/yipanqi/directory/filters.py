"""Filtersets shared by the API and the web lists."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from .models import Agency, AgencyType, Circle, Region, RegionLevel, Role, User


class RegionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("name or code"), method="filter_q", max_length=60)
    level = django_filters.ChoiceFilter(label=_("level"), choices=RegionLevel.choices)
    parent = django_filters.CharFilter(label=_("parent region code"), field_name="parent__code", max_length=6)
    within = django_filters.CharFilter(label=_("within region (code)"), method="filter_within", max_length=6)

    class Meta:
        model = Region
        fields = ["q", "level", "parent", "within"]

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    def filter_within(self, queryset, name, value):
        region = Region.objects.visible_to(self.request.user).filter(code=value).first()
        return queryset.subtree_of(region) if region else queryset.none()


class AgencyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("name"), method="filter_q", max_length=60)
    type = django_filters.ChoiceFilter(label=_("type"), choices=AgencyType.choices)
    level = django_filters.ChoiceFilter(label=_("level"), choices=RegionLevel.choices)
    region = django_filters.CharFilter(label=_("region code (with subregions)"), method="filter_region", max_length=6)
    circle = django_filters.NumberFilter(label=_("Cooperation circle"), method="filter_circle")

    class Meta:
        model = Agency
        fields = ["q", "type", "level", "region", "circle"]

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    def filter_region(self, queryset, name, value):
        region = Region.objects.visible_to(self.request.user).filter(code=value).first()
        return queryset.filter(region__path__startswith=region.path) if region else queryset.none()

    def filter_circle(self, queryset, name, value):
        if value is None:
            return queryset
        user = getattr(self.request, "user", None)
        if not Circle.objects.visible_to(user).filter(pk=value).exists():
            return queryset.none()
        return queryset.filter(pk__in=Agency.objects.in_circles([int(value)]).values("pk"))


class UserFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("name or username"), method="filter_q", max_length=60)
    agency = django_filters.NumberFilter(label=_("agency"), field_name="agency_id")
    role = django_filters.ChoiceFilter(
        label=_("role"), choices=Role.choices, field_name="role_grants__role", distinct=True
    )

    class Meta:
        model = User
        fields = ["q", "agency", "role"]

    def filter_q(self, queryset, name, value):
        from django.db.models import Q

        from .text import normalise_chinese

        value = normalise_chinese(value)
        return queryset.filter(Q(full_name__contains=value) | Q(username__icontains=value))
