"""Django admin of assistance requests. Request kinds are reference data that platform admins edit here (validated
by ``RequestKind.clean``: agency types, JSON Schema, documents). Requests, their events and receipts are read-only:
they change only through ``yipanqi.assistance.services``, which check roles, run the clocks and write the trail."""

from __future__ import annotations

from django.contrib import admin

from yipanqi.core.admin import ReadOnlyAdmin
from yipanqi.ledger.admin import ReadOnlyInline

from .models import AssistanceRequest, Receipt, RequestEvent, RequestHop, RequestKind


@admin.register(RequestKind)
class RequestKindAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "routing", "finish_within", "finish_unit", "escalate_overdue", "is_active"]
    list_filter = ["routing", "is_active", "escalate_overdue"]
    search_fields = ["name", "code"]
    ordering = ["position", "id"]


class HopInline(ReadOnlyInline):
    model = RequestHop
    fields = ["from_agency", "to_agency", "reason", "by", "at"]


class EventInline(ReadOnlyInline):
    model = RequestEvent
    fields = ["kind", "at", "actor", "actor_agency", "data"]


@admin.register(AssistanceRequest)
class AssistanceRequestAdmin(ReadOnlyAdmin):
    list_display = ["number", "kind", "title", "sender", "receiver", "status", "due_at", "escalated_to"]
    list_filter = ["status", "kind", "urgency"]
    search_fields = ["number", "case_number", "parties", "title"]
    list_select_related = ["kind", "sender", "receiver", "escalated_to"]
    date_hierarchy = "sent_at"
    inlines = [HopInline, EventInline]


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["request", "kind", "issued_by", "issued_to", "digest", "created_at"]
    list_select_related = ["request", "issued_by", "issued_to"]
