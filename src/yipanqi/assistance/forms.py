"""Assistance-request web forms. They only read and check input (choices limited to what the page may offer); every
write goes through ``yipanqi.assistance.services``, whose refusals land on these forms' fields.

A request's details (``AssistanceRequest.fields``) are described per kind by a JSON Schema kept as data
(``RequestKind.fields_schema``): ``schema_fields`` turns it into form fields — a string into a text input, or a text
area when it may be long; an ``enum`` into a select; ``format: date`` into a date input — labelled with the schema's
Chinese titles, so an admin who edits a kind changes the form without a deploy.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yipanqi.core.forms import MultipleFileField
from yipanqi.directory.forms import CounterpartForm
from yipanqi.directory.models import Region, RegionLevel
from yipanqi.ledger.board_views import FastSelect

from .models import RequestKind, RequestStatus, Urgency

DATE_INPUT = {"type": "date"}
LONG_TEXT = 200  # a string field allowing more characters than this is a text area
FIELD_PREFIX = "f_"  # form field name of a detail: "f_" + its key in the kind's schema
DOCUMENT_PREFIX = "doc_"  # upload field of the n-th required document
LIGHT_CHOICES = [
    ("red", _("Red: past the deadline")),
    ("yellow", _("Yellow: near the deadline")),
    ("green", _("Green: in time")),
    ("paused", _("Paused: awaiting material")),
]
SCOPE_CHOICES = [("", ""), ("department", _("My department")), ("mine", _("Mine"))]


def _date_field(label, *, required=False, **kwargs):
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a valid date (YYYY-MM-DD).")},
        **kwargs,
    )


def _text_area(rows=3, **attrs):
    return forms.Textarea(attrs={"rows": rows, **attrs})


def apply_errors(form: forms.Form, exc, aliases: dict[str, str] | None = None) -> None:
    """A service's ValidationError on the form: on the field it names (through ``aliases``: the service's name →
    the form's), else above the form. The details' errors ("fields.debtor") go to their inputs ("f_debtor")."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        target = aliases.get(key, key)
        if target.startswith("fields.") and FIELD_PREFIX + target[len("fields.") :] in form.fields:
            target = FIELD_PREFIX + target[len("fields.") :]
        if target not in form.fields or target == NON_FIELD_ERRORS:
            target = None
        for error in errors:
            form.add_error(target, error)


# --------------------------------------------------------------------------- inbox and outbox


class BoxFilterForm(forms.Form):
    """What the inbox (收文) or outbox (发文) shows; every filter is optional and the same query string exports."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=80,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Number, case number (案号) or party"), "autocomplete": "off"}
        ),
    )
    kind = forms.ModelChoiceField(
        label=_("Kind"),
        queryset=RequestKind.objects.none(),
        required=False,
        widget=FastSelect,
        error_messages={"invalid_choice": _("Unknown kind of request.")},
    )
    status = forms.ChoiceField(label=_("Status"), choices=[("", "")], required=False, widget=FastSelect)
    region = forms.ModelChoiceField(
        label=_("Counterpart region"),
        queryset=Region.objects.none(),
        required=False,
        widget=FastSelect,
        error_messages={"invalid_choice": _("Unknown region.")},
    )
    light = forms.ChoiceField(label=_("Light"), choices=[("", ""), *LIGHT_CHOICES], required=False, widget=FastSelect)
    sent_from = _date_field(_("Sent from"))
    sent_to = _date_field(_("Sent until"))
    scope = forms.ChoiceField(label=_("Whose"), choices=SCOPE_CHOICES, required=False, widget=FastSelect)

    def __init__(self, *args, box: str, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.box, self.user = box, user
        self.fields["kind"].queryset = RequestKind.objects.only("id", "name").order_by("position", "id")
        self.fields["region"].queryset = Region.objects.filter(level=RegionLevel.PROVINCE).only("id", "name", "path")
        statuses = RequestStatus.choices if box == "outbox" else [c for c in RequestStatus.choices if c[0] != "draft"]
        self.fields["status"].choices = [("", ""), *statuses]
        if box == "outbox":
            self.fields["scope"].choices = [SCOPE_CHOICES[0], SCOPE_CHOICES[1], ("mine", _("Written by me"))]
        elif box == "inbox":
            self.fields["scope"].choices = [SCOPE_CHOICES[0], SCOPE_CHOICES[1], ("mine", _("Assigned to me"))]
        else:  # escalated: the superior supervises; none of its departments or people handle these
            del self.fields["scope"]

    def clean(self):
        data = super().clean()
        start, end = data.get("sent_from"), data.get("sent_to")
        if start and end and end < start:
            self.add_error("sent_to", _("The end is before the start."))
        return data

    @property
    def filtered(self) -> bool:
        return self.is_bound and self.is_valid() and any(v not in (None, "") for v in self.cleaned_data.values())

    def filter(self, queryset, now: datetime.datetime):
        """``queryset`` narrowed by the valid filters (an invalid form filters nothing: its errors are shown)."""
        from . import selectors

        if not self.is_bound or not self.is_valid():
            return queryset
        data = self.cleaned_data
        counterpart = "receiver" if self.box == "outbox" else "sender"
        if data["q"]:
            queryset = selectors.search(queryset, data["q"])
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["region"]:
            queryset = queryset.filter(**{f"{counterpart}__region__path__startswith": data["region"].path})
        if data["light"]:
            queryset = queryset.filter(selectors.light_filter(data["light"], now))
        if data["sent_from"]:
            queryset = queryset.filter(sent_at__gte=_start_of(data["sent_from"]))
        if data["sent_to"]:
            queryset = queryset.filter(sent_at__lt=_start_of(data["sent_to"] + datetime.timedelta(days=1)))
        if data.get("scope") == "department":
            own = "receiver" if self.box == "inbox" else "sender"
            queryset = queryset.filter(**{f"{own}_department_id": self.user.department_id or 0})
        elif data.get("scope") == "mine":
            queryset = (
                queryset.filter(assignee=self.user) if self.box == "inbox" else queryset.filter(created_by=self.user)
            )
        return queryset


def _start_of(day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in Asia/Shanghai: the dates a user types are Chinese dates."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --------------------------------------------------------------------------- writing a request


class RequestStartForm(CounterpartForm):
    """Step one of a new request (a GET form): the kind, and the target region whose competent agencies are proposed
    as receivers. The region is a name or a code, as in the directory's counterpart lookup."""

    field_order = ["kind", "region"]

    def __init__(self, *args, kinds, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.kinds = {str(k.pk): k for k in kinds}
        self.fields["kind"] = forms.ChoiceField(
            label=_("Kind of request"),
            choices=[("", "")] + [(str(k.pk), k.name) for k in kinds],
            widget=FastSelect,
            error_messages={"invalid_choice": _("Your agency may not send this kind of request.")},
        )
        self.order_fields(self.field_order)

    def clean_kind(self):
        return self.kinds[self.cleaned_data["kind"]]


def schema_fields(schema: dict) -> list[tuple[str, forms.Field]]:
    """Form fields for a kind's JSON Schema, in the schema's order: (key, field)."""
    properties = (schema or {}).get("properties") or {}
    required = set((schema or {}).get("required") or ())
    result = []
    for key, spec in properties.items():
        spec = spec if isinstance(spec, dict) else {}
        label = spec.get("title") or key
        options = {"label": label, "required": key in required, "help_text": spec.get("description", "")}
        kind = spec.get("type")
        if spec.get("enum"):
            choices = [("", "—"), *((str(v), str(v)) for v in spec["enum"])]
            field = forms.ChoiceField(choices=choices, widget=FastSelect, **options)
        elif kind == "string" and spec.get("format") == "date":
            field = _date_field(**options)
        elif kind == "integer":
            field = forms.IntegerField(min_value=spec.get("minimum"), max_value=spec.get("maximum"), **options)
        elif kind == "number":
            field = forms.DecimalField(min_value=spec.get("minimum"), max_value=spec.get("maximum"), **options)
        elif kind == "boolean":
            field = forms.BooleanField(**{**options, "required": False})
        else:
            max_length = spec.get("maxLength")
            widget = _text_area(4) if max_length is None or max_length > LONG_TEXT else forms.TextInput
            field = forms.CharField(max_length=max_length, widget=widget, **options)
        field.schema_key = key
        result.append((key, field))
    return result


def detail_value(value):
    """A cleaned detail as the JSON the schema expects (dates as ISO strings)."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value.strip() if isinstance(value, str) else value


def detail_initial(spec: dict, value):
    if isinstance(value, str) and spec.get("format") == "date":
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return value
    return value


class RequestForm(forms.Form):
    """The request itself: the receiver among the proposed agencies, subject, 案号, parties, urgency, the kind's
    details and the documents it must carry. Saving writes a draft; sending is a step of the request page."""

    receiver = forms.TypedChoiceField(label=_("Receiving agency"), coerce=int, choices=[], widget=FastSelect)
    title = forms.CharField(
        label=_("Subject"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 委托执行：重庆某建材有限公司")}),
    )
    case_number = forms.CharField(
        label=_("Case number (案号)"),
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. （2026）川01执123号")}),
    )
    parties = forms.CharField(
        label=_("Parties"),
        max_length=300,
        required=False,
        help_text=_("Names of the parties, separated by ；, so that both sides can find the request."),
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    extra_file = forms.FileField(label=_("Another document"), required=False)
    extra_label = forms.CharField(label=_("Its name"), max_length=100, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, kind: RequestKind, candidates, have_labels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.agencies = {c.agency.pk: c.agency for c in candidates}
        self.fields["receiver"].choices = [("", "")] + [
            (c.agency.pk, f"{c.agency.name}（{'、'.join(c.reasons)}）" if c.reasons else c.agency.name)
            for c in candidates
        ]
        if not candidates:
            self.fields["receiver"].help_text = _("No competent agency was found in this region: choose another one.")
        if kind.urgent_finish_hours:
            self.fields["urgency"].help_text = _("An urgent request must be finished within %(hours)s hours.") % {
                "hours": kind.urgent_finish_hours
            }
        if not self.initial.get("idempotency_key"):
            self.initial["idempotency_key"] = uuid.uuid4().hex
        self.detail_names = []
        for key, field in schema_fields(kind.fields_schema):
            self.fields[FIELD_PREFIX + key] = field
            self.detail_names.append(FIELD_PREFIX + key)
        self.documents = []  # (field name, label, already attached)
        for index, label in enumerate(kind.required_attachments):
            name = f"{DOCUMENT_PREFIX}{index}"
            attached = label in have_labels
            self.fields[name] = forms.FileField(
                label=label,
                required=False,
                help_text=_("Attached already; a new file is added beside it.")
                if attached
                else _("Required before sending."),
            )
            self.documents.append((name, label, attached))

    def detail_fields(self):
        return [self[name] for name in self.detail_names]

    def document_fields(self):
        return [(self[name], label, attached) for name, label, attached in self.documents]

    def details(self) -> dict:
        """The kind's details from the cleaned data; empty optional ones are left out (the schema wants a value or
        nothing)."""
        values = {}
        for name in self.detail_names:
            value = self.cleaned_data.get(name)
            if value in (None, "") or value is False:
                continue
            values[name[len(FIELD_PREFIX) :]] = detail_value(value)
        return values

    def draft_values(self) -> dict:
        data = self.cleaned_data
        return {
            "receiver": self.agencies[data["receiver"]],
            "title": data["title"],
            "case_number": data["case_number"],
            "parties": data["parties"],
            "urgency": data["urgency"],
            "fields": self.details(),
        }

    def uploads(self) -> list[tuple[str, str, object]]:
        """(form field name, label, file) of every file chosen."""
        files = [(name, label, self.cleaned_data.get(name)) for name, label, _attached in self.documents]
        files.append(
            ("extra_file", (self.cleaned_data.get("extra_label") or "").strip(), self.cleaned_data.get("extra_file"))
        )
        return [(name, label, upload) for name, label, upload in files if upload]


# --------------------------------------------------------------------------- steps that need input


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=_text_area(4), max_length=2000)

    def __init__(self, *args, label=None, required=True, help_text="", **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        field.required = required
        if label:
            field.label = label
        field.help_text = help_text


class ForwardForm(forms.Form):
    """转办: to one of the agencies competent in the region (the region may be changed on the page)."""

    to = forms.TypedChoiceField(label=_("Forward to"), coerce=int, choices=[], widget=FastSelect)
    reason = forms.CharField(label=_("Reason for forwarding"), widget=_text_area(4), max_length=2000)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.agencies = {c.agency.pk: c.agency for c in candidates}
        self.fields["to"].choices = [("", "")] + [
            (c.agency.pk, f"{c.agency.name}（{'、'.join(c.reasons)}）" if c.reasons else c.agency.name)
            for c in candidates
        ]

    def clean_to(self):
        return self.agencies[self.cleaned_data["to"]]


class AnswerForm(forms.Form):
    result = forms.CharField(label=_("Answer"), widget=_text_area(8), max_length=20000)
    file = forms.FileField(label=_("Document of the answer"), required=False)
    label = forms.CharField(label=_("Its name"), max_length=100, required=False)


class ExtensionForm(forms.Form):
    days = forms.IntegerField(label=_("More days"), min_value=1)
    reason = forms.CharField(label=_("Why more time is needed"), widget=_text_area(4), max_length=2000)

    def __init__(self, *args, limit: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].max_value = limit
        self.fields["days"].widget.attrs.update({"min": 1, "max": limit})
        self.fields["days"].validators.append(MaxValueValidator(limit))
        self.fields["days"].help_text = _("At most %(limit)s days.") % {"limit": limit}


class AssignForm(forms.Form):
    """The receiving agency gives the request to one of its departments and/or case handlers."""

    department = forms.TypedChoiceField(
        label=_("Department"), coerce=int, choices=[], required=False, empty_value=None, widget=FastSelect
    )
    assignee = forms.TypedChoiceField(
        label=_("Case handler"), coerce=int, choices=[], required=False, empty_value=None, widget=FastSelect
    )

    def __init__(self, *args, departments, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.departments = {d.pk: d for d in departments}
        self.people = {p.pk: p for p in people}
        none = [("", _("— none —"))]
        self.fields["department"].choices = none + [(d.pk, d.name) for d in departments]
        self.fields["assignee"].choices = none + [(p.pk, _person_label(p)) for p in people]

    def clean(self):
        data = super().clean()
        data["department"] = self.departments.get(data.get("department"))
        data["assignee"] = self.people.get(data.get("assignee"))
        if not self.errors and data["department"] is None and data["assignee"] is None:
            raise forms.ValidationError(_("Choose a department or a case handler."))
        return data


def _person_label(person) -> str:
    name = person.full_name or person.username
    return f"{name}（{person.department.name}）" if person.department_id and person.department else name


# --------------------------------------------------------------------------- thread and attachments


class MessageForm(forms.Form):
    """一案一议: a message in the request's thread, with files."""

    text = forms.CharField(
        label=_("Message"),
        widget=_text_area(3, placeholder=_("Write to the other agency about this request")),
        max_length=5000,
    )
    files = MultipleFileField(label=_("Files"), required=False)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))
    label = forms.CharField(
        label=_("Document"),
        max_length=100,
        required=False,
        help_text=_("Name the document as the kind asks for it (e.g. 执行依据文书) so that it counts as attached."),
    )

    def __init__(self, *args, labels=(), **kwargs):
        super().__init__(*args, **kwargs)
        if labels:
            self.fields["label"].widget.attrs["list"] = "attachment-labels"
        self.labels = list(labels)
