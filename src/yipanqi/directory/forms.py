from __future__ import annotations

from django import forms
from django.db.models import Q
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import ApiKeyScope, Region
from .text import normalise_chinese


def style_form(form):
    """Give the widgets of ``form`` (also a filterset's form) the CSS classes of the UI kit; returns the form.

    Optional selects offer "All" instead of a row of dashes.
    """
    for field in form.fields.values():
        if getattr(field, "empty_label", None) is not None:  # model choices, django-filter's choices
            field.empty_label = _("All")
            if not isinstance(field, forms.ModelChoiceField):
                # django-filter's widget iterates a copy bound to the class-level field: give it ours.
                field.widget.choices = list(field.choices)
        elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.MultipleChoiceField):
            choices = list(field.choices)
            if choices and choices[0][0] == "":
                field.choices = [("", _("All")), *choices[1:]]
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
    for name in form.errors if form.is_bound else ():
        if name in form.fields:
            form.fields[name].widget.attrs["class"] += " is-invalid"
    return form


class CounterpartForm(forms.Form):
    region = forms.CharField(
        label=_("Target region (name or code)"),
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 重庆市 or 500000"), "autocomplete": "off"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_region(self):
        """An exact code or name first; otherwise the highest-level region whose name contains the text."""
        value = self.cleaned_data["region"].strip()
        regions = Region.objects.visible_to(self.user).order_by(Length("path"), "code")
        name = normalise_chinese(value)
        region = regions.filter(Q(code=value) | Q(name=name) | Q(short_name=name)).first()
        region = region or regions.search(value).first()
        if region is None:
            raise forms.ValidationError(_("No such region: %(value)s"), params={"value": value})
        return region


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("purpose"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. case management system sync")}),
    )
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=ApiKeyScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiKeyScope.DIRECTORY_READ],
    )
    expires_at = forms.DateTimeField(
        label=_("expires at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for a key that does not expire."),
    )

    def clean_expires_at(self):
        value = self.cleaned_data.get("expires_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError(_("The expiry time must be in the future."))
        return value
