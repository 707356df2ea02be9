"""Django admin for platform admins. Writes go through the services so they are validated and audited."""

from __future__ import annotations

from django.contrib import admin

from yipanqi.core.admin import ReadOnlyAdmin

from . import services
from .models import Agency, ApiKey, Circle, Department, Region, RoleGrant, User


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind", "level", "parent"]
    list_filter = ["level", "kind"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "level", "region", "is_standard", "is_active"]
    list_filter = ["type", "level", "is_standard", "is_active"]
    search_fields = ["name", "short_name", "region__name"]
    autocomplete_fields = ["region", "parent"]
    filter_horizontal = ["jurisdiction"]
    list_select_related = ["region"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        fields = {k: v for k, v in form.cleaned_data.items() if k != "jurisdiction"}
        if change:
            current = Agency.objects.get(pk=obj.pk)
            services.update_agency(acting_user=request.user, agency=current, **fields)
        else:
            created = services.create_agency(
                acting_user=request.user,
                **{k: fields[k] for k in ("name", "type", "level", "region", "parent", "short_name", "specialty")},
            )
            obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        form.instance = Agency.objects.get(pk=form.instance.pk)
        super().save_related(request, form, formsets, change)


@admin.register(Circle)
class CircleAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "coordinating_agency"]
    search_fields = ["name"]
    autocomplete_fields = ["regions", "member_agencies", "coordinating_agency"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.update_circle(
                acting_user=request.user,
                circle=Circle.objects.get(pk=obj.pk),
                **{k: data[k] for k in ("name", "short_name", "description", "coordinating_agency")},
                regions=data["regions"],
                member_agencies=data["member_agencies"],
            )
        else:
            created = services.create_circle(
                acting_user=request.user,
                **{
                    k: data[k]
                    for k in (
                        "name",
                        "slug",
                        "short_name",
                        "description",
                        "regions",
                        "member_agencies",
                        "coordinating_agency",
                    )
                },
            )
            obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        """Memberships were set by the service."""


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    extra = 0
    readonly_fields = ["role", "circle", "granted_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["username", "full_name", "agency", "department", "is_active"]
    list_filter = ["is_active", "agency__type"]
    search_fields = ["username", "full_name", "agency__name"]
    autocomplete_fields = ["agency", "department"]
    fields = ["username", "full_name", "agency", "department", "title", "email", "phone", "is_active", "last_login"]
    readonly_fields = ["username", "last_login"]
    inlines = [RoleGrantInline]

    def has_add_permission(self, request):
        return False  # people are created with their roles through `yipanqi` commands or by liaisons

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        changes = {
            k: form.cleaned_data[k] for k in form.changed_data if k in self.fields and k not in self.readonly_fields
        }
        services.update_user(acting_user=request.user, user=User.objects.get(pk=obj.pk), **changes)


@admin.register(Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "agency"]
    search_fields = ["name", "agency__name"]


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ["name", "agency", "prefix", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "prefix", "agency__name"]
