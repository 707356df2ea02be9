"""Meeting web forms. They only read and check input (choices limited to what the page may offer); every write goes
through ``yipanqi.meetings.services``, whose refusals land on these forms' fields."""

from __future__ import annotations

import uuid

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from yipanqi.directory.models import Agency
from yipanqi.ledger.board_views import FastSelect
from yipanqi.ledger.forms import grouped_choices

from .models import DecisionKind, DecisionTarget, RotationRule, SeriesKind

DATE_INPUT = {"type": "date"}
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _date_field(label, *, required=False, **kwargs):
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a valid date (YYYY-MM-DD).")},
        **kwargs,
    )


def _datetime_field(label, *, required=False, **kwargs):
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
        **kwargs,
    )


def _text_area(rows=3, **attrs):
    return forms.Textarea(attrs={"rows": rows, **attrs})


class FastSelectMultiple(FastSelect):
    """``FastSelect`` for several values: measure pickers offer hundreds of options on the meeting page."""

    allow_multiple_selected = True

    def render(self, name, value, attrs=None, renderer=None):
        return super().render(name, value, {**(attrs or {}), "multiple": True}, renderer)

    def value_from_datadict(self, data, files, name):
        getter = getattr(data, "getlist", None)
        return getter(name) if getter else data.get(name)

    def value_omitted_from_data(self, data, files, name):
        return False  # an empty multiple select is not sent at all: that means "none chosen"


class AgencyRowsWidget(forms.SelectMultiple):
    """One select per place in the rotation, all named alike: the order of the rows is the order of the members.

    A multiple select cannot say an order (the browser sends options in document order), and the fixed rotation is
    exactly that order. Rows beyond the members are left empty for additions."""

    spare_rows = 2
    min_rows = 6

    def value_from_datadict(self, data, files, name):
        getter = getattr(data, "getlist", None)
        values = getter(name) if getter else data.get(name) or []
        return [v for v in values if v not in ("", None)]

    def format_value(self, value):
        if value is None:
            return []
        return [str(v) for v in (value if isinstance(value, list | tuple) else [value])]

    def render(self, name, value, attrs=None, renderer=None):
        values = self.format_value(value)
        final = self.build_attrs(self.attrs, attrs)
        base_id = final.pop("id", f"id_{name}")
        rows = max(len(values) + self.spare_rows, self.min_rows)
        empty = format_html('<option value="">{}</option>', _("— none —"))
        parts = []
        for i in range(rows):
            chosen = values[i] if i < len(values) else ""

            def options(choices, chosen=chosen):
                return format_html_join(
                    "",
                    '<option value="{}"{}>{}</option>',
                    ((v, mark_safe(" selected") if str(v) == chosen else "", label) for v, label in choices),
                )

            groups = []
            for key, label in self.choices:
                if isinstance(label, list | tuple):
                    groups.append(format_html('<optgroup label="{}">{}</optgroup>', key, options(label)))
                else:
                    groups.append(options([(key, label)]))
            row_attrs = {**final, "id": f"{base_id}_{i}", "name": name, "data-place": i + 1}
            row_attrs["aria-label"] = _("Place %(n)s in the rotation") % {"n": i + 1}
            parts.append(
                format_html(
                    '<div class="input-group mb-1 yq-member-row"><span class="input-group-text">{}</span>'
                    "<select{}>{}{}</select></div>",
                    i + 1,
                    flatatt(row_attrs),
                    empty,
                    mark_safe("".join(groups)),  # noqa: S308  (built by format_html)
                )
            )
        return format_html('<div id="{}" class="yq-member-rows">{}</div>', base_id, mark_safe("".join(parts)))  # noqa: S308

    def id_for_label(self, id_):
        return f"{id_}_0" if id_ else id_


def _agency_choice(label, *, required=False, multiple=False, **kwargs):
    field = forms.TypedMultipleChoiceField if multiple else forms.TypedChoiceField
    widget = FastSelectMultiple if multiple else FastSelect
    return field(label=label, required=required, coerce=int, widget=widget, **kwargs)


def _agencies(ids, known: dict[int, Agency]) -> list[Agency]:
    return [known[pk] for pk in ids]


# --------------------------------------------------------------------------- series


class SeriesForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 川渝高级法院执行协作联席会议")}),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=SeriesKind.choices, initial=SeriesKind.JOINT)
    members = forms.TypedMultipleChoiceField(
        label=_("Member agencies, in rotation order"),
        coerce=int,
        widget=AgencyRowsWidget,
        help_text=_("At least two. Under the fixed rotation the first hosts first, then the second, and so on."),
    )
    rotation_rule = forms.ChoiceField(
        label=_("Host rotation"), choices=RotationRule.choices, initial=RotationRule.FIXED
    )
    next_host = _agency_choice(
        _("Next host (named in advance)"),
        help_text=_("Leave empty to follow the rotation; a named host is used once."),
    )
    standing_agreement = forms.TypedChoiceField(
        label=_("Standing agreement"),
        coerce=int,
        required=False,
        help_text=_("Measures created by the meetings' decisions go under this agreement."),
    )
    description = forms.CharField(label=_("Description"), required=False, widget=_text_area(3))

    def __init__(self, *args, candidates: list[Agency], agreements, **kwargs):
        super().__init__(*args, **kwargs)
        self.known = {a.pk: a for a in candidates}
        choices = grouped_choices(candidates)
        self.fields["members"].choices = choices
        self.fields["members"].widget.choices = choices
        self.fields["next_host"].choices = [("", _("— follow the rotation —")), *choices]
        self.agreements = {a.pk: a for a in agreements}
        self.fields["standing_agreement"].choices = [
            ("", _("— none —")),
            *((a.pk, a.title) for a in agreements),
        ]

    def clean_members(self):
        ids = self.cleaned_data["members"]
        if len(set(ids)) != len(ids):
            raise forms.ValidationError(_("An agency is listed twice."))
        return _agencies(ids, self.known)

    def clean_next_host(self):
        value = self.cleaned_data["next_host"]
        return self.known[value] if value not in ("", None) else None

    def clean_standing_agreement(self):
        value = self.cleaned_data["standing_agreement"]
        return self.agreements[value] if value not in ("", None) else None


# --------------------------------------------------------------------------- meetings


class MeetingForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_("Leave empty for “series · No. N”."),
    )
    starts_at = _datetime_field(_("Starts at"), required=True)
    ends_at = _datetime_field(_("Ends at"))
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    host = _agency_choice(_("Host (承办)"))
    agenda_deadline = _date_field(_("Topics proposed until"))
    participant_agencies = _agency_choice(
        _("Participating agencies"), multiple=True, help_text=_("Hold Ctrl (⌘ on a Mac) to choose several.")
    )
    participant_people = forms.TypedMultipleChoiceField(
        label=_("Participants"),
        coerce=int,
        required=False,
        widget=FastSelectMultiple,
        help_text=_("People of the participating agencies."),
    )
    minutes_as_agreement = forms.BooleanField(
        label=_("The minutes become an agreement (会议纪要) once approved"), required=False
    )

    def __init__(self, *args, members: list[Agency], others: list[Agency], people, host_required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.known = {a.pk: a for a in [*members, *others]}
        self.people = {p.pk: p for p in people}
        member_choices = [(a.pk, a.name) for a in members]
        host = self.fields["host"]
        host.required = host_required
        host.choices = member_choices if host_required else [("", _("— the proposed host —")), *member_choices]
        agency_choices = [(_("Members"), member_choices)]
        if others:
            agency_choices += grouped_choices(others)
        self.fields["participant_agencies"].choices = agency_choices
        self.fields["participant_people"].choices = [(p.pk, f"{p} · {p.agency.name}") for p in people]

    def clean_host(self):
        value = self.cleaned_data["host"]
        return self.known[value] if value not in ("", None) else None

    def clean_participant_agencies(self):
        return _agencies(self.cleaned_data["participant_agencies"], self.known)

    def clean_participant_people(self):
        return [self.people[pk] for pk in self.cleaned_data["participant_people"]]

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends < starts:
            self.add_error("ends_at", _("The meeting ends before it starts."))
        return data


# --------------------------------------------------------------------------- topics and decisions


def measure_choices(offered, measures) -> list:
    """The red and overdue measures first (what the meeting should look at), then the others by agreement."""
    offered_ids = {m.pk for m in offered}
    choices = []
    if offered:
        choices.append((_("Red or overdue: offered"), [(m.pk, f"{m.number} {m.title[:50]}") for m in offered]))
    groups: dict[str, list] = {}
    for m in measures:
        if m.pk not in offered_ids:
            groups.setdefault(m.agreement.title, []).append((m.pk, f"{m.number} {m.title[:50]}"))
    return choices + list(groups.items())


class _MeasuresMixin:
    def _set_measures(self, offered, measures):
        self.measures = {m.pk: m for m in [*offered, *measures]}
        self.fields["measures"].choices = measure_choices(offered, measures)

    def clean_measures(self):
        return [self.measures[pk] for pk in dict.fromkeys(self.cleaned_data["measures"])]


def _key_field():
    return forms.CharField(required=False, max_length=64, widget=forms.HiddenInput())


class TopicForm(_MeasuresMixin, forms.Form):
    title = forms.CharField(
        label=_("Topic"), max_length=300, widget=forms.TextInput(attrs={"placeholder": _("e.g. 异地财产查控提速")})
    )
    description = forms.CharField(label=_("Description"), required=False, widget=_text_area(2))
    measures = forms.TypedMultipleChoiceField(
        label=_("Linked ledger measures"),
        coerce=int,
        required=False,
        widget=FastSelectMultiple(attrs={"size": 6}),
        help_text=_("Red and overdue measures of the series come first."),
    )
    # A new key per rendered form: a double click or a resent POST proposes the topic once.
    idempotency_key = _key_field()

    def __init__(self, *args, offered=(), measures=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._set_measures(list(offered), list(measures))
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)


class DecisionForm(_MeasuresMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=DecisionKind.choices, initial=DecisionKind.INFORMATION, widget=forms.RadioSelect
    )
    title = forms.CharField(label=_("Decision"), max_length=300)
    text = forms.CharField(label=_("Details"), required=False, widget=_text_area(2))
    target = forms.ChoiceField(
        label=_("The new measure goes under"),
        required=False,
        choices=[("", _("— the standing agreement if there is one —")), *DecisionTarget.choices],
    )
    lead = _agency_choice(_("Lead agency (主办)"))
    co_owners = forms.TypedMultipleChoiceField(
        label=_("Co-owners (协办)"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    due_on = _date_field(_("Deadline"))
    measures = forms.TypedMultipleChoiceField(
        label=_("Measures to update"), coerce=int, required=False, widget=FastSelectMultiple(attrs={"size": 6})
    )
    new_due_on = _date_field(_("New deadline of these measures"))
    idempotency_key = _key_field()

    def __init__(self, *args, members: list[Agency], offered=(), measures=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {a.pk: a for a in members}
        choices = [(a.pk, a.name) for a in members]
        self.fields["lead"].choices = [("", _("— none —")), *choices]
        self.fields["co_owners"].choices = choices
        self._set_measures(list(offered), list(measures))
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def clean_lead(self):
        value = self.cleaned_data["lead"]
        return self.members[value] if value not in ("", None) else None

    def clean_co_owners(self):
        return _agencies(self.cleaned_data["co_owners"], self.members)

    def fields_for_service(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("idempotency_key", None)
        return data


# --------------------------------------------------------------------------- minutes


class MinutesForm(forms.Form):
    text = forms.CharField(label=_("Minutes text"), widget=_text_area(24, spellcheck="false"), strip=False)
    as_agreement = forms.BooleanField(
        label=_("The minutes become an agreement (会议纪要) once approved"),
        required=False,
        help_text=_("The member agencies become its signatories; decisions may put their new measures under it."),
    )


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, widget=_text_area(3))

    def __init__(self, *args, required=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comment"].required = required
        if required:
            self.fields["comment"].label = _("What should change")
