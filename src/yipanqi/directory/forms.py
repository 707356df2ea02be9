from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ApiKeyScope, Region


class CounterpartForm(forms.Form):
    region = forms.CharField(label=_("Target region (name or code)"), max_length=60)

    def clean_region(self):
        value = self.cleaned_data["region"].strip()
        matches = list(Region.objects.search(value).order_by("level", "code")[:2])
        exact = [r for r in matches if r.code == value or r.name == value]
        if exact:
            return exact[0]
        if not matches:
            raise forms.ValidationError(_("No such region: %(value)s"), params={"value": value})
        return matches[0]


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("purpose"), max_length=100)
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=ApiKeyScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiKeyScope.DIRECTORY_READ],
    )
    expires_at = forms.DateTimeField(label=_("expires at"), required=False)
