from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from yipanqi.core.models import AuditEvent

from .viewsets import VisibleReadOnlyViewSet


class AuditEventSerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField()
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "time",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "actor",
            "actor_agency_id",
            "api_key_id",
            "subject_agency_id",
            "request_id",
            "before",
            "after",
        ]

    def get_object_type(self, obj) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(label=_("action"), lookup_expr="startswith", max_length=80)
    object_type = django_filters.CharFilter(label=_("object type"), method="filter_object_type", max_length=80)
    object_id = django_filters.CharFilter(label=_("object id"), max_length=64)
    request_id = django_filters.CharFilter(label=_("request id"), max_length=64)
    since = django_filters.IsoDateTimeFilter(label=_("since"), field_name="time", lookup_expr="gte")

    class Meta:
        model = AuditEvent
        fields = ["action", "object_type", "object_id", "request_id", "since"]

    def filter_object_type(self, queryset, name, value):
        app_label, _sep, model = value.partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)


class AuditEventViewSet(VisibleReadOnlyViewSet):
    """审计事件: one's own agency's, and those of the agencies in circles one coordinates."""

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    required_scopes = {}

    def optimise(self, queryset):
        return queryset.select_related("content_type", "actor")
