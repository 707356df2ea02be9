from django.contrib import admin
from django.db import transaction

from .models import AuditEvent, CalendarDay, DailyJobRun, Notification
from .services import record_event, snapshot


class ReadOnlyAdmin(admin.ModelAdmin):
    """For data written only by services or loaders: the admin shows it and never changes it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["time", "action", "object_repr", "actor", "actor_agency", "request_id"]
    list_filter = ["action"]
    search_fields = ["object_repr", "request_id", "action"]
    list_select_related = ["actor", "actor_agency"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Reference data kept by platform admins: saved here directly, each change audited (which also bumps the
    core data version, so the working-day caches in core/workdays.py pick the change up)."""

    list_display = ["date", "kind", "name", "note"]
    list_filter = ["kind", "name"]
    search_fields = ["name", "note", "date"]
    date_hierarchy = "date"
    ordering = ["-date"]

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = snapshot(CalendarDay.objects.select_for_update().get(pk=obj.pk)) if change else None
            obj.save()
            record_event(
                acting_user=request.user, action="core.calendarday.save", obj=obj, before=before, after=snapshot(obj)
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            before = snapshot(obj)
            record_event(acting_user=request.user, action="core.calendarday.delete", obj=obj, before=before)
            obj.delete()

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "agency", "kind", "title", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["title", "recipient__username", "dedupe_key"]
    list_select_related = ["recipient", "agency"]
    date_hierarchy = "created_at"
    raw_id_fields = ["recipient", "agency"]


@admin.register(DailyJobRun)
class DailyJobRunAdmin(ReadOnlyAdmin):
    list_display = ["day", "name", "status", "attempts", "started_at", "finished_at", "outcome"]
    list_filter = ["status", "name"]
    search_fields = ["name", "outcome", "error"]
    date_hierarchy = "day"
