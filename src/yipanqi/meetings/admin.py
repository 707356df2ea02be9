"""Django admin of the meetings: read-only. Writes go through ``yipanqi.meetings.services`` (web UI, API), which
check the roles, keep approved minutes frozen and write the audit trail; the admin only lets platform admins look."""

from __future__ import annotations

from django.contrib import admin

from yipanqi.core.admin import ReadOnlyAdmin
from yipanqi.ledger.admin import ReadOnlyInline

from .models import Decision, Meeting, MeetingSeries, MinutesApproval, SeriesMember, Topic


class SeriesMemberInline(ReadOnlyInline):
    model = SeriesMember
    fields = ["agency", "position", "joined_at"]


@admin.register(MeetingSeries)
class MeetingSeriesAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "circle", "rotation_rule", "standing_agreement", "next_host"]
    list_filter = ["kind", "rotation_rule", "circle"]
    search_fields = ["title", "members__name"]
    list_select_related = ["circle", "standing_agreement", "next_host"]
    inlines = [SeriesMemberInline]


class TopicInline(ReadOnlyInline):
    model = Topic
    fields = ["position", "title", "proposed_by_agency", "outcome", "carried_from"]


class ApprovalInline(ReadOnlyInline):
    model = MinutesApproval
    fields = ["agency", "approved_by", "approved_at", "text_digest"]


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ["series", "number", "starts_at", "place", "host", "status", "minutes_status"]
    list_filter = ["status", "minutes_status", "series__circle"]
    search_fields = ["title", "series__title", "place", "host__name"]
    list_select_related = ["series", "host"]
    date_hierarchy = "starts_at"
    inlines = [TopicInline, ApprovalInline]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["title", "meeting", "kind", "lead", "due_on", "created_measure", "applied_at"]
    list_filter = ["kind", "target"]
    search_fields = ["title", "text", "meeting__series__title"]
    list_select_related = ["meeting__series", "lead", "created_measure"]
