from django.contrib import admin

from .models import AuditEvent


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
