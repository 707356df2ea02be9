"""Filtersets shared by the API and the web lists."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from .models import Agency, AgencyType, Circle, Region, RegionLevel, Role, User


class RegionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("名称或代码"), method="filter_q", max_length=60)
    level = django_filters.ChoiceFilter(label=_("层级"), choices=RegionLevel.choices)
    parent = django_filters.CharFilter(label=_("上级区划代码"), field_name="parent__code", max_length=6)
    within = django_filters.CharFilter(label=_("在此区划之内（代码）"), method="filter_within", max_length=6)

    class Meta:
        model = Region
        fields = ["q", "level", "parent", "within"]

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    def filter_within(self, queryset, name, value):
        region = Region.objects.filter(code=value).first()
        return queryset.subtree_of(region) if region else queryset.none()


class AgencyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("名称"), method="filter_q", max_length=60)
    type = django_filters.ChoiceFilter(label=_("类型"), choices=AgencyType.choices)
    level = django_filters.ChoiceFilter(label=_("层级"), choices=RegionLevel.choices)
    region = django_filters.CharFilter(label=_("区划代码（含下级）"), method="filter_region", max_length=6)
    circle = django_filters.ModelChoiceFilter(
        label=_("协作区"), method="filter_circle", queryset=Circle.objects.all()
    )

    class Meta:
        model = Agency
        fields = ["q", "type", "level", "region", "circle"]

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    def filter_region(self, queryset, name, value):
        region = Region.objects.filter(code=value).first()
        return queryset.filter(region__path__startswith=region.path) if region else queryset.none()

    def filter_circle(self, queryset, name, value):
        if value is None:
            return queryset
        user = getattr(self.request, "user", None)
        if not Circle.objects.visible_to(user).filter(pk=value.pk).exists():
            return queryset.none()
        return queryset.filter(pk__in=Agency.objects.in_circles([value.pk]).values("pk"))


class UserFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("姓名或账号"), method="filter_q", max_length=60)
    agency = django_filters.NumberFilter(label=_("单位"), field_name="agency_id")
    role = django_filters.ChoiceFilter(label=_("角色"), choices=Role.choices, field_name="role_grants__role", distinct=True)

    class Meta:
        model = User
        fields = ["q", "agency", "role"]

    def filter_q(self, queryset, name, value):
        from django.db.models import Q

        from .text import normalise_chinese

        value = normalise_chinese(value)
        return queryset.filter(Q(full_name__contains=value) | Q(username__icontains=value))
