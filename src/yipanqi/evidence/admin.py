"""Django admin of the evidence log. Deposits, checkpoints and cosignatures are read-only: the log changes only through
``yipanqi.evidence.services`` (and nothing in it is ever changed or removed). Witnesses are reference data that
platform admins register here — another agency's node and the verifier key it cosigns with — each change audited."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from yipanqi.core.admin import ReadOnlyAdmin
from yipanqi.core.services import record_event, snapshot

from . import notes
from .models import Checkpoint, Cosignature, Deposit, Witness


@admin.register(Deposit)
class DepositAdmin(ReadOnlyAdmin):
    list_display = ["index", "algorithm", "content_hash", "media_type", "agency", "case_ref", "deposited_at", "source"]
    list_filter = ["algorithm", "source"]
    search_fields = ["content_hash", "case_ref"]
    list_select_related = ["agency"]
    show_full_result_count = False  # the log grows large: no COUNT(*) on every page
    exclude = ["leaf_hash"]


class CosignatureInline(admin.TabularInline):
    model = Cosignature
    fields = ["witness", "timestamp", "line", "received_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["size", "key_name", "signed_at"]
    exclude = ["root"]
    show_full_result_count = False
    inlines = [CosignatureInline]


class WitnessForm(forms.ModelForm):
    class Meta:
        model = Witness
        fields = ["agency", "name", "verifier_key", "active"]

    def clean_verifier_key(self):
        key = self.cleaned_data["verifier_key"].strip()
        try:
            verifier = notes.Verifier.from_key(key)
        except notes.NoteError as exc:
            raise forms.ValidationError(_("Not a note verifier key: %(reason)s") % {"reason": exc}) from exc
        name = self.cleaned_data.get("name")
        if name and verifier.name != name:
            message = _("The key is named %(key)s, not %(name)s.")
            raise forms.ValidationError(message % {"key": verifier.name, "name": name})
        return key


@admin.register(Witness)
class WitnessAdmin(admin.ModelAdmin):
    form = WitnessForm
    list_display = ["name", "agency", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "agency__name"]
    list_select_related = ["agency"]
    autocomplete_fields = ["agency"]

    def has_delete_permission(self, request, obj=None):
        return False  # cosignatures refer to it: retire a witness instead (active off)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = snapshot(Witness.objects.select_for_update().get(pk=obj.pk)) if change else None
            if not change:
                obj.created_by = request.user
            obj.save()
            record_event(
                acting_user=request.user, action="evidence.witness.save", obj=obj, before=before, after=snapshot(obj)
            )
