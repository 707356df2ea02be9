"""Ledger web forms. They only read and check input; every write goes through ``yipanqi.ledger.services``."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yipanqi.core.workdays import add_workdays
from yipanqi.directory.models import Agency, Circle
from yipanqi.directory.text import normalise_chinese

from .models import (
    AgreementKind,
    AgreementStatus,
    ClosureRule,
    Measure,
    MeasureCategory,
    MeasureOwner,
    OwnerRole,
    ReportingCycle,
)

DATE_WIDGET = {"type": "date"}
SUPERVISION_REPLY_WORKDAYS = 5  # the default reply deadline of a 督办单


def _date_field(label, *, required=False, **kwargs):
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
        **kwargs,
    )


def _text_area(rows=3, **attrs):
    return forms.Textarea(attrs={"rows": rows, **attrs})


def apply_service_errors(form: forms.Form, exc: DjangoValidationError) -> None:
    """Show a service's ValidationError on the form: on the field it names, else above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields and field != NON_FIELD_ERRORS else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


# --------------------------------------------------------------------------- agreements


class AgreementFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Title"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("e.g. 执行协作"), "autocomplete": "off"}),
    )
    circle = forms.ModelChoiceField(label=_("Cooperation circle"), queryset=Circle.objects.none(), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=[("", ""), *AgreementStatus.choices], required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", ""), *AgreementKind.choices], required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only circles the user may see are offered: the choices must not reveal other circles' names.
        self.fields["circle"].queryset = Circle.objects.visible_to(user).only("pk", "name")

    def filter(self, queryset):
        if not self.is_bound or not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["q"]:
            queryset = queryset.filter(title__contains=normalise_chinese(data["q"].strip()))
        if data["circle"]:
            queryset = queryset.filter(circle=data["circle"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        return queryset


def signatory_candidates(circle: Circle):
    """Agencies offered as signatories: the circle's province- and city-level agencies and its single members.

    County-level agencies of a whole province would make the list unusable; they rarely sign circle agreements and
    can be given shares of measures (by name) instead.
    """
    return (
        circle.agencies()
        .filter(Q(level__in=["province", "city"]) | Q(member_of_circles=circle), is_active=True)
        .select_related("region")
        .order_by(Length("region__path"), "region__path", "type", "rank", "id")
        .distinct()
    )


def grouped_choices(agencies):
    """[(region name, [(pk, agency name), …]), …] in the order given."""
    groups: dict[str, list] = {}
    for agency in agencies:
        groups.setdefault(agency.region.name, []).append((agency.pk, agency.name))
    return list(groups.items())


class AgreementForm(forms.Form):
    circle = forms.ModelChoiceField(label=_("Cooperation circle"), queryset=Circle.objects.none())
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 《川渝法院执行协作框架协议》")}),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=AgreementKind.choices, initial=AgreementKind.COOPERATION)
    status = forms.ChoiceField(label=_("Status"), choices=AgreementStatus.choices, initial=AgreementStatus.IN_FORCE)
    signatories = forms.MultipleChoiceField(
        label=_("Signatory agencies"),
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several. At least two."),
        widget=forms.SelectMultiple(attrs={"size": 12}),
    )
    signed_on = _date_field(_("Signed on"))
    signed_place = forms.CharField(label=_("Signed at"), max_length=100, required=False)
    valid_from = _date_field(_("Valid from"))
    valid_until = _date_field(_("Valid until"))
    closure_rule = forms.ChoiceField(
        label=_("Closure (销号) confirmed by"), choices=ClosureRule.choices, initial=ClosureRule.COORDINATOR
    )
    reporting_cycle = forms.ChoiceField(
        label=_("Reporting cycle"), choices=ReportingCycle.choices, initial=ReportingCycle.MONTHLY
    )
    reporting_every_days = forms.IntegerField(
        label=_("Report every N days"),
        required=False,
        min_value=1,
        max_value=366,
        help_text=_("Only for the cycle “every N days”."),
    )

    def __init__(self, *args, circles, circle: Circle | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["circle"].queryset = circles
        self.fields["circle"].widget = forms.HiddenInput()
        self.candidates = {}
        if circle is not None:
            self.fields["circle"].initial = circle.pk
            agencies = list(signatory_candidates(circle))
            self.candidates = {agency.pk: agency for agency in agencies}
            self.fields["signatories"].choices = grouped_choices(agencies)

    def clean_signatories(self):
        chosen = []
        for value in self.cleaned_data["signatories"]:
            agency = self.candidates.get(int(value)) if str(value).isdigit() else None
            if agency is None:
                raise forms.ValidationError(_("Choose signatories from the list."))
            chosen.append(agency)
        return chosen

    def clean(self):
        data = super().clean()
        if data.get("reporting_cycle") == ReportingCycle.CUSTOM and not data.get("reporting_every_days"):
            self.add_error("reporting_every_days", _("Say every how many days the owners report."))
        return data


# --------------------------------------------------------------------------- measures and owners


class MeasureForm(forms.Form):
    parent = forms.ModelChoiceField(
        label=_("Under"),
        queryset=Measure.objects.none(),
        required=False,
        empty_label=_("Top level (an area, 方面)"),
        help_text=_("Items that already have owners cannot get sub-items."),
    )
    number = forms.CharField(
        label=_("Number"), max_length=30, widget=forms.TextInput(attrs={"placeholder": _("e.g. 三、5")})
    )
    title = forms.CharField(label=_("Title"), max_length=300)
    category = forms.ChoiceField(label=_("Category"), choices=MeasureCategory.choices, initial=MeasureCategory.REGULAR)
    start_on = _date_field(_("Start"))
    due_on = _date_field(_("Deadline"))
    text = forms.CharField(label=_("Text"), required=False, widget=_text_area(4))
    expected_outcome = forms.CharField(label=_("Expected outcome"), required=False, widget=_text_area(2))

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["parent"]
        field.queryset = (
            Measure.objects.filter(agreement=agreement)
            .exclude(pk__in=MeasureOwner.objects.filter(measure__agreement=agreement).values("measure_id"))
            .only("pk", "number", "title", "depth", "path")
            .order_by("path")
        )
        field.label_from_instance = lambda m: f"{'　' * m.depth}{m.number} {m.title[:40]}"

    def clean(self):
        data = super().clean()
        start, due = data.get("start_on"), data.get("due_on")
        if start and due and due < start:
            self.add_error("due_on", _("The deadline is before the start."))
        return data


class AgencyByNameField(forms.CharField):
    """An agency typed by name (traditional characters are accepted), resolved in ``OwnerForm.clean_agency``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"placeholder": _("e.g. 重庆市高级人民法院"), "autocomplete": "off", "list": "agency-suggestions"}
            ),
        )
        super().__init__(**kwargs)


class OwnerForm(forms.Form):
    agency = AgencyByNameField(label=_("Agency"), help_text=_("Type the agency's name; agencies of any region."))
    role = forms.ChoiceField(label=_("Role"), choices=OwnerRole.choices, initial=OwnerRole.CO)

    def __init__(self, *args, user, circle: Circle | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.circle = circle

    def clean_agency(self):
        """The exact name first (the circle's agency when the name repeats), else the one agency whose name holds it."""
        value = normalise_chinese(self.cleaned_data["agency"]).strip()
        agencies = Agency.objects.visible_to(self.user).filter(is_active=True).select_related("region")
        in_circle = self.circle.agencies() if self.circle else Agency.objects.none()
        for candidates in (agencies.filter(Q(name=value) | Q(short_name=value)), agencies.search(value)):
            found = list(candidates.order_by(Length("region__path"), "region__path", "rank", "id")[:6])
            if len(found) > 1:
                members = set(in_circle.filter(pk__in=[a.pk for a in found]).values_list("pk", flat=True))
                preferred = [a for a in found if a.pk in members]
                found = preferred if len(preferred) == 1 else found
            if len(found) == 1:
                return found[0]
            if found:
                names = "、".join(a.name for a in found[:5])
                raise forms.ValidationError(
                    _("Several agencies match “%(value)s”: %(names)s … Type the full name."),
                    params={"value": value, "names": names},
                )
        raise forms.ValidationError(_("No agency is called “%(value)s”."), params={"value": value})


# --------------------------------------------------------------------------- owners' work


class ReportForm(forms.Form):
    text = forms.CharField(
        label=_("Progress"), widget=_text_area(3), help_text=_("What was done since the last report.")
    )
    progress = forms.IntegerField(
        label=_("Progress %"),
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": 1, "inputmode": "numeric"}),
    )
    problems = forms.CharField(label=_("Problems (困难)"), required=False, widget=_text_area(2))
    next_steps = forms.CharField(label=_("Next steps"), required=False, widget=_text_area(2))
    # A new key per rendered form: a double click or a resent POST files the report once.
    idempotency_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)


class CloseShareForm(forms.Form):
    results = forms.CharField(
        label=_("Results (成效)"), widget=_text_area(3), help_text=_("What the share achieved, for the closure (销号).")
    )
    evidence = forms.CharField(
        label=_("Evidence"),
        required=False,
        widget=_text_area(2),
        help_text=_("Documents, case numbers, links that prove the results."),
    )


class ConfirmClosureForm(forms.Form):
    results = forms.CharField(
        label=_("Results of the measure (成效)"),
        required=False,
        widget=_text_area(3),
        help_text=_("Optional: a summary of the owners' results for the ledger."),
    )


class SupervisionForm(forms.Form):
    message = forms.CharField(
        label=_("What is urged"),
        widget=_text_area(3, placeholder=_("e.g. 请于答复期限前报送进展并说明滞后原因")),
    )
    reply_due_on = _date_field(_("Reply due"), required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("reply_due_on", add_workdays(timezone.localdate(), SUPERVISION_REPLY_WORKDAYS))

    def clean_reply_due_on(self):
        value = self.cleaned_data["reply_due_on"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("The reply deadline is in the past."))
        return value


class ReplyForm(forms.Form):
    reply = forms.CharField(label=_("Reply"), widget=_text_area(3))
