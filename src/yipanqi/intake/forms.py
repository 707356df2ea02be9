"""Document-intake web forms. They read and check input only; the writes go through ``yipanqi.intake.services`` and
the edits of a reviewed draft through the pure functions of ``yipanqi.intake.review``.

An agency is entered by its name (the page proposes names as one types, from the directory): ``AgencyField`` turns
the name into the agency, among the cooperation circle's agencies where the page asks for those.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yipanqi.core.forms import MultipleFileField, MultipleFileInput
from yipanqi.directory.models import Agency, Circle
from yipanqi.directory.text import normalise_chinese
from yipanqi.ledger.models import AgreementKind, AgreementStatus

DATE_INPUT = {"type": "date"}
ACCEPTED_FILES = ".txt,.md,.html,.htm,.docx,.pdf"
AGENCY_INPUT_NAMES = ("agency", "lead", "co_owner", "host", "q")  # the autocomplete reads the value under any of these
_ID_SUFFIX = re.compile(r"\s*#(\d{1,9})$")  # "重庆市第一中级人民法院 #812": a name the list made unique


def _date_field(label, **kwargs):
    return forms.DateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a valid date (YYYY-MM-DD).")},
        **kwargs,
    )


def user_circles(user):
    """The circles a person may take documents in for: those they coordinate and those their agency belongs to."""
    return Circle.objects.visible_to(user).only("id", "name", "short_name").order_by("name")


class CircleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


# --------------------------------------------------------------------------- taking documents in


class _IntakeOptions(forms.Form):
    """The publication date (resolves "近日", "去年11月") and the circle, shared by both upload forms."""

    published = _date_field(
        _("Published on"),
        help_text=_("The date printed on the article (China Standard Time); relative dates in the text count from it."),
    )
    circle = CircleChoiceField(
        label=_("Cooperation circle"),
        queryset=Circle.objects.none(),
        required=False,
        empty_label=_("— none —"),
        help_text=_("The circle whose ledger and meetings the document belongs to."),
        error_messages={"invalid_choice": _("You may not take documents in for this circle.")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        circles = user_circles(user)
        self.fields["circle"].queryset = circles
        coordinated = sorted(getattr(user, "coordinated_circle_ids", ()) or ())
        if coordinated and "circle" not in self.initial:
            self.initial["circle"] = coordinated[0]


class UploadForm(_IntakeOptions):
    """One document: a file, or text pasted from a web page."""

    field_order = ["file", "text", "name", "published", "circle"]

    file = forms.FileField(
        label=_("File"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPTED_FILES}),
        help_text=_("Plain text, a saved web page (.html), Word (.docx) or a PDF with a text layer; up to 5 MB."),
        error_messages={"empty": _("The file is empty: there is no text to read.")},
    )
    text = forms.CharField(
        label=_("Or paste the text"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": _("Paste the article, minutes or agreement here")}),
    )
    name = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=200,
        help_text=_("For pasted text: a name to find it by (the headline, if left empty)."),
    )

    def clean(self):
        data = super().clean()
        has_file, has_text = bool(data.get("file")), bool((data.get("text") or "").strip())
        if "file" in self.errors:
            return data
        if not has_file and not has_text:
            raise ValidationError(_("Choose a file or paste the text."), code="missing")
        if has_file and has_text:
            raise ValidationError(_("Either a file or pasted text, not both."), code="both")
        return data


class BatchForm(_IntakeOptions):
    """Several documents: files, a folder or a zip; the worker reads them one after another."""

    field_order = ["files", "folder", "name", "published", "circle"]

    files = MultipleFileField(
        label=_("Files or a zip"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": ACCEPTED_FILES + ",.zip"}),
        help_text=_("Choose several documents, or one .zip holding them."),
    )
    folder = MultipleFileField(
        label=_("Or a folder"),
        required=False,
        widget=MultipleFileInput(attrs={"webkitdirectory": "", "directory": ""}),
        help_text=_("Every document in the folder is read; other files are reported and skipped."),
    )
    name = forms.CharField(
        label=_("Name of the import"),
        required=False,
        max_length=200,
        help_text=_("To find the import by later (the first file's name, if left empty)."),
    )

    def clean(self):
        data = super().clean()
        # Hidden files of a folder (.DS_Store, desktop.ini's kin) are nobody's documents.
        chosen = [f for f in (data.get("files") or []) + (data.get("folder") or []) if not f.name.startswith(".")]
        if not chosen and not self.errors:
            raise ValidationError(_("Choose the files, a folder or a zip to import."), code="missing")
        data["uploads"] = chosen
        return data


# --------------------------------------------------------------------------- agencies


class AgencyField(forms.CharField):
    """An agency by its name (or short name, 简体 or 繁體) among ``queryset``; "name #id" picks one of several
    namesakes. Cleans to the Agency, or None when empty and not required."""

    default_error_messages = {
        "unknown": _("No agency called “%(name)s” was found here; pick one from the list as you type."),
        "ambiguous": _("Several agencies are called “%(name)s”; pick one from the list as you type."),
    }

    def __init__(self, *args, queryset=None, **kwargs):
        kwargs.setdefault("max_length", 120)
        super().__init__(*args, **kwargs)
        self.queryset = queryset if queryset is not None else Agency.objects.all()
        self.widget.attrs.update({"autocomplete": "off", "list": "agency-options"})

    def clean(self, value):
        name = super().clean(value)
        if not name:
            return None
        return find_agency(self.queryset, name, self.error_messages)


def find_agency(queryset, name: str, messages=None) -> Agency:
    messages = messages or AgencyField.default_error_messages
    name = name.strip()
    if match := _ID_SUFFIX.search(name):
        found = queryset.filter(pk=int(match.group(1))).first()
        if found is None:
            raise ValidationError(messages["unknown"], code="unknown", params={"name": name})
        return found
    simple = normalise_chinese(name).strip()
    for lookup in ({"name": name}, {"name": simple}, {"short_name": simple}):
        found = list(queryset.filter(**lookup).only("id", "name", "short_name")[:2])
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ValidationError(messages["ambiguous"], code="ambiguous", params={"name": name})
    raise ValidationError(messages["unknown"], code="unknown", params={"name": name})


# --------------------------------------------------------------------------- editing the reviewed draft


class CircleForm(forms.Form):
    circle = CircleChoiceField(
        label=_("Cooperation circle"),
        queryset=Circle.objects.none(),
        required=False,
        empty_label=_("— none —"),
        error_messages={"invalid_choice": _("You may not take documents in for this circle.")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["circle"].queryset = user_circles(user)


class MentionForm(forms.Form):
    """Which directory agency a name the text uses means, wherever the reviewed draft uses it."""

    text = forms.CharField(max_length=200, widget=forms.HiddenInput)
    agency = AgencyField(label=_("Directory agency"))


class AgreementForm(forms.Form):
    include = forms.BooleanField(label=_("Include"), required=False)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=AgreementKind.choices)
    status = forms.ChoiceField(label=_("Status"), choices=AgreementStatus.choices, required=False)
    signed_on = _date_field(_("Signed on"))
    signed_place = forms.CharField(label=_("Signed at"), max_length=100, required=False)


class SignatoryForm(forms.Form):
    agency = AgencyField(label=_("Signatory"))


class MeasuresTargetForm(forms.Form):
    """The agreement the measure tree goes under: one of this document ("new:<key>") or of the ledger
    ("existing:<id>")."""

    target = forms.ChoiceField(label=_("Put the measures under"), choices=())

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = choices

    def clean_target(self):
        kind, _sep, value = self.cleaned_data["target"].partition(":")
        return {"existing": int(value)} if kind == "existing" else value


class NodeForm(forms.Form):
    number = forms.CharField(label=_("Number"), max_length=20, required=False)
    title = forms.CharField(label=_("Title"), max_length=1000)


class AddNodeForm(forms.Form):
    """A new item of the measure tree: after the item (``where`` = after) or as its last child (under)."""

    WHERE = (("after", _("after this item")), ("under", _("under this item")))

    number = forms.CharField(label=_("Number"), max_length=30, required=False)
    title = forms.CharField(label=_("Title"), max_length=1000)
    where = forms.ChoiceField(label=_("Where"), choices=WHERE, initial="after")


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=(("up", _("Up")), ("down", _("Down"))))


class SplitForm(forms.Form):
    """Where to cut an item: the title with one "|" put in, or a character position."""

    marked = forms.CharField(
        label=_("Title with “|” where it is to be split"), max_length=1000, required=False, strip=False
    )
    position = forms.IntegerField(label=_("Or at character"), min_value=1, required=False)

    def clean(self):
        data = super().clean()
        if not (data.get("marked") or "").strip() and data.get("position") is None:
            raise ValidationError(_("Put a “|” in the title where the item is to be split."), code="missing")
        if "|" not in (data.get("marked") or ""):
            data["marked"] = None
        return data


class OwnersForm(forms.Form):
    """The lead agency (主办), the co-owners (协办, one input each: ``co_owner``) and the deadline of one item."""

    lead = AgencyField(label=_("Lead agency (主办)"), required=False)
    due_on = _date_field(_("Deadline"))

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.queryset = queryset
        self.fields["lead"].queryset = queryset

    def clean(self):
        data = super().clean()
        co_owners, errors = [], []
        names = self.data.getlist("co_owner") if hasattr(self.data, "getlist") else []
        for name in names:
            if not (name or "").strip():
                continue
            try:
                co_owners.append(find_agency(self.queryset, name))
            except ValidationError as exc:
                errors.append(exc)
        if errors:
            self.add_error(None, errors)
        data["co_owners"] = co_owners
        return data


class TopicForm(forms.Form):
    include = forms.BooleanField(label=_("Include"), required=False)
    title = forms.CharField(label=_("Title"), max_length=300, required=False)


class TopicMeetingForm(forms.Form):
    meeting = forms.TypedChoiceField(label=_("Meeting"), coerce=int, choices=(), required=False, empty_value=None)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].choices = [("", _("— none —")), *choices]


class DecisionForm(forms.Form):
    include = forms.BooleanField(label=_("Include"), required=False)
    title = forms.CharField(label=_("Decision"), max_length=300, required=False)
    topic = forms.TypedChoiceField(label=_("Topic"), coerce=int, choices=(), required=False, empty_value=None)

    def __init__(self, *args, topic_count: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = [
            ("", _("Decisions of the meeting")),
            *((n, n) for n in range(1, topic_count + 1)),
        ]


class MeetingRecordForm(forms.Form):
    """The meeting the document reports, to be recorded as held: its series, day, place and host."""

    series = forms.TypedChoiceField(label=_("Series"), coerce=int, choices=())
    date = _date_field(_("Date"))
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    host = AgencyField(label=_("Host (承办)"))

    def __init__(self, *args, series_choices, hosts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["series"].choices = series_choices
        self.fields["host"].queryset = hosts

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day is None:
            raise ValidationError(_("Give the date of the meeting to record."), code="required")
        if day > timezone.localdate():
            raise ValidationError(_("A meeting recorded as held must have taken place already."), code="future")
        return day
