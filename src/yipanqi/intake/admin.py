"""Django admin of the intake: documents and batches are shown, never changed here (they change only through
``yipanqi.intake.services``, which check permissions and write the audit trail)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yipanqi.core.admin import ReadOnlyAdmin
from yipanqi.ledger.admin import ReadOnlyInline

from .models import IntakeBatch, IntakeDocument


class DocumentInline(ReadOnlyInline):
    model = IntakeDocument
    fields = readonly_fields = ["name", "status", "size", "error", "created_at"]
    show_change_link = True


@admin.register(IntakeBatch)
class IntakeBatchAdmin(ReadOnlyAdmin):
    list_display = ["name", "status", "done", "total", "uploaded_by", "agency", "circle", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["name"]
    list_select_related = ["uploaded_by", "agency", "circle"]
    date_hierarchy = "created_at"
    inlines = [DocumentInline]


@admin.register(IntakeDocument)
class IntakeDocumentAdmin(ReadOnlyAdmin):
    list_display = ["name", "status", "size", "uploaded_by", "agency", "circle", "batch", "created_at", "committed_at"]
    list_filter = ["status"]
    search_fields = ["name", "sha256"]
    list_select_related = ["uploaded_by", "agency", "circle", "batch"]
    date_hierarchy = "created_at"
    exclude = ["text"]
    readonly_fields = ["text_preview"]

    @admin.display(description=_("text"))
    def text_preview(self, obj):
        return obj.text[:2000]
