from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from yipanqi.core import notifications as notification_services
from yipanqi.core.models import AuditEvent, Notification

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


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "agency_id", "created_at", "read_at", "emailed_at", "is_read"]
        read_only_fields = fields


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(label=_("unread"), method="filter_unread")
    kind = django_filters.CharFilter(label=_("kind"), max_length=50)

    class Meta:
        model = Notification
        fields = ["unread", "kind"]

    def filter_unread(self, queryset, name, value):
        return queryset.filter(read_at__isnull=value)


class NotificationViewSet(VisibleReadOnlyViewSet):
    """通知: the signed-in person's own notifications, newest first. An API key is no person: 403."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    required_scopes = {}

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark one notification read (already read: unchanged)."""
        notification = self.get_object()
        notification_services.mark_read(acting_user=request.user, notification=notification)
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        request=None,
        responses=inline_serializer("NotificationsMarkedRead", {"marked": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark all one's notifications read; answers how many were unread."""
        return Response({"marked": notification_services.mark_all_read(acting_user=request.user)})
