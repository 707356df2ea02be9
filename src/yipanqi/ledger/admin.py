"""Django admin of the ledger: read-only. Ledger writes go through ``yipanqi.ledger.services`` (web UI, API, import),
which check the roles and write the audit trail; the admin only lets platform admins look."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yipanqi.core.admin import ReadOnlyAdmin

from .models import (
    Agreement,
    BoardSnapshot,
    Bulletin,
    BulletinSchedule,
    Measure,
    MeasureOwner,
    ProgressReport,
    Supervision,
)
from .selectors import light_for

# The same wording as the ledger pages.
LIGHT_LABELS = {
    "red": _("Red light"),
    "yellow": _("Yellow light"),
    "blue": _("Blue light"),
    "green": _("Green light"),
    "done": _("Closed (销号)"),
}


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "circle", "status", "signed_on", "closure_rule", "reporting_cycle"]
    list_filter = ["kind", "status", "circle", "closure_rule"]
    search_fields = ["title", "signatories__name", "signed_place"]
    list_select_related = ["circle"]
    date_hierarchy = "signed_on"
    filter_horizontal = ["signatories"]


class MeasureOwnerInline(ReadOnlyInline):
    model = MeasureOwner
    fields = ["agency", "role", "department", "person", "status", "progress", "last_report_at", "report_due_on"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agency", "department", "person")


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "agreement", "category", "status", "progress", "start_on", "due_on", "light"]
    list_filter = ["status", "category", "is_leaf", "agreement__circle", "agreement"]
    search_fields = ["number", "title", "text", "agreement__title", "owners__agency__name"]
    list_select_related = ["agreement"]
    ordering = ["agreement_id", "path"]
    inlines = [MeasureOwnerInline]

    @admin.display(description=_("Light"))
    def light(self, obj):
        return LIGHT_LABELS[light_for(obj)]


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnlyAdmin):
    list_display = ["measure", "owner_agency", "progress", "filed_by", "filed_at"]
    list_filter = ["measure__agreement__circle", "measure__agreement"]
    search_fields = ["measure__number", "measure__title", "owner__agency__name", "text", "problems"]
    list_select_related = ["measure", "owner__agency", "filed_by"]
    date_hierarchy = "filed_at"

    @admin.display(description=_("agency"), ordering="owner__agency__name")
    def owner_agency(self, obj):
        return obj.owner.agency


@admin.register(Supervision)
class SupervisionAdmin(ReadOnlyAdmin):
    list_display = [
        "measure",
        "owner_agency",
        "light_when_issued",
        "status",
        "reply_due_on",
        "issued_by",
        "issued_at",
        "replied_at",
    ]
    list_filter = ["status", "light", "measure__agreement__circle"]
    search_fields = ["measure__number", "measure__title", "owner__agency__name", "message", "reply"]
    list_select_related = ["measure", "owner__agency", "issued_by"]
    date_hierarchy = "issued_at"

    @admin.display(description=_("agency"), ordering="owner__agency__name")
    def owner_agency(self, obj):
        return obj.owner.agency

    @admin.display(description=_("light when issued"), ordering="light")
    def light_when_issued(self, obj):
        return LIGHT_LABELS.get(obj.light, obj.light)


@admin.register(Bulletin)
class BulletinAdmin(ReadOnlyAdmin):
    list_display = ["doc_number", "title", "circle", "period_start", "period_end", "status", "issued_on"]
    list_filter = ["status", "circle"]
    search_fields = ["title", "doc_number"]
    list_select_related = ["circle"]


@admin.register(BulletinSchedule)
class BulletinScheduleAdmin(ReadOnlyAdmin):
    list_display = ["circle", "agreement", "frequency", "day_of_month", "next_run_on", "is_active"]
    list_filter = ["frequency", "is_active"]
    list_select_related = ["circle", "agreement"]


@admin.register(BoardSnapshot)
class BoardSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["day", "circle", "agreement", "measures", "progress", "red", "yellow", "done", "reports"]
    list_filter = ["circle"]
    date_hierarchy = "day"
    list_select_related = ["circle", "agreement"]
