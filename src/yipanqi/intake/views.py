"""Document-intake pages (文件导入): the documents a person took in, the upload of one document, the review page (the
source text with every proposed item highlighted beside the proposed structure, edited in small steps), the commit
and its result, and the import of a folder or zip with its progress.

Reads start from ``visible_to(request.user)`` (not visible → 404). Writes call ``yipanqi.intake.services``: a
``ValidationError`` becomes a form error (nothing written), a ``PermissionError`` a 403 and a ``Conflict`` a page with
HTTP 409 that says why. The review page's edits are pure functions of ``yipanqi.intake.review`` applied to the
reviewed draft, which ``services.save_review`` stores; under htmx an edit answers with the structure column, which
replaces the old one, otherwise with the whole page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models.functions import Length
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yipanqi.core.conflicts import conflict_page
from yipanqi.core.errors import Conflict
from yipanqi.directory.forms import style_form
from yipanqi.directory.models import Agency
from yipanqi.ledger.models import Agreement, AgreementKind, AgreementStatus, Measure
from yipanqi.meetings.models import Decision, Meeting, MeetingSeries, MeetingStatus, MinutesStatus, Topic

from . import review, services
from .forms import (
    AGENCY_INPUT_NAMES,
    AddNodeForm,
    AgreementForm,
    BatchForm,
    CircleForm,
    DecisionForm,
    MeasuresTargetForm,
    MeetingRecordForm,
    MentionForm,
    MoveForm,
    NodeForm,
    OwnersForm,
    SignatoryForm,
    SplitForm,
    TopicForm,
    TopicMeetingForm,
    UploadForm,
)
from .models import BatchStatus, DocumentStatus, IntakeBatch, IntakeDocument
from .reading import MAX_BYTES
from .review import ReviewError

PAGE_SIZE = 20
AUTOCOMPLETE_LIMIT = 15
MEETING_CHOICES = 50
SERIES_CHOICES = 100
AGREEMENT_CHOICES = 100
MAX_DEPTH_CLASS = 5  # deeper items are indented as this deep (yq-depth-5)
LIST_FIELDS = (
    "id",
    "name",
    "status",
    "error",
    "size",
    "created_at",
    "committed_at",
    "published",
    "batch__id",
    "batch__name",
    "circle__id",
    "circle__name",
    "uploaded_by__id",
    "uploaded_by__username",
    "uploaded_by__full_name",
)

DOCUMENT_STATUS_CSS = {
    DocumentStatus.ANALYSED: "bg-blue-lt",
    DocumentStatus.COMMITTED: "bg-green-lt",
    DocumentStatus.FAILED: "bg-red-lt",
    DocumentStatus.DISCARDED: "bg-secondary-lt",
}
BATCH_STATUS_CSS = {
    BatchStatus.QUEUED: "bg-secondary-lt",
    BatchStatus.RUNNING: "bg-blue-lt",
    BatchStatus.DONE: "bg-green-lt",
    BatchStatus.FAILED: "bg-red-lt",
}
EVENT_KINDS = {
    "签约": gettext_lazy("Signing (签约)"),
    "会议": gettext_lazy("Meeting (会议)"),
    "考察": gettext_lazy("Visit (考察)"),
    "发布": gettext_lazy("Release (发布)"),
}
CREATED_KINDS = {
    "ledger.agreement": gettext_lazy("Agreement"),
    "ledger.measure": gettext_lazy("Measure"),
    "meetings.meeting": gettext_lazy("Meeting (recorded as held)"),
    "meetings.topic": gettext_lazy("Agenda topic"),
    "meetings.decision": gettext_lazy("Decision"),
}


# --------------------------------------------------------------------------- helpers


def _back_to_document(request):
    document = getattr(request, "intake_document", None)
    return (reverse("intake:review", args=[document.pk]), _("Back to the document")) if document else None


_conflict_page = conflict_page(_back_to_document)  # a Conflict (committed or discarded meanwhile …) → 409


def _denied(exc: PermissionError) -> PermissionDenied:
    return PermissionDenied(str(exc))


def _is_htmx(request) -> bool:
    return bool(getattr(request, "htmx", False)) and not request.htmx.history_restore_request


def _visible_document(request, pk: int) -> IntakeDocument:
    document = get_object_or_404(
        IntakeDocument.objects.visible_to(request.user).select_related("circle", "agency", "uploaded_by", "batch"),
        pk=pk,
    )
    request.intake_document = document  # the way back from a 409 page
    return document


def _require_open(document: IntakeDocument) -> None:
    if document.status != DocumentStatus.ANALYSED:
        raise Conflict(
            _("The document is %(status)s: its review cannot be changed any more.")
            % {"status": document.get_status_display()}
        )


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _form_error_text(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.extend(f"{label}: {error}" if label else str(error) for error in errors)
    return " ".join(parts)


def _apply_service_error(form, exc: ValidationError, field: str) -> None:
    """A service's refusal on the form: on the field it names (if the form has it), else on ``field``."""
    if hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            form.add_error(key if key in form.fields else field, errors)
    else:
        form.add_error(field, exc.messages)


def _page_title(document: IntakeDocument) -> str:
    return document.name or _("Document %(id)s") % {"id": document.pk}


# --------------------------------------------------------------------------- the list


@login_required
@require_GET
def document_list(request):
    documents = (
        IntakeDocument.objects.visible_to(request.user)
        .select_related("batch", "circle", "uploaded_by")
        .only(*LIST_FIELDS)
        .order_by("-id")
    )
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"document": document, "css": DOCUMENT_STATUS_CSS.get(document.status, "bg-secondary-lt")}
        for document in page.object_list
    ]
    return render(request, "intake/document_list.html", {"page": page, "rows": rows, "title": _("Document intake")})


# --------------------------------------------------------------------------- one document in


def _read_upload(uploaded) -> bytes:
    """The file's bytes; past the intake's limit only one byte more is read (the service refuses it as too big)."""
    return uploaded.read(MAX_BYTES + 1)


@login_required
@require_http_methods(["GET", "POST"])
def document_new(request):
    posted = request.method == "POST"
    form = UploadForm(
        request.POST if posted else None, request.FILES if posted else None, user=request.user, auto_id="upload-%s"
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["file"]:
                    document = services.take_in(
                        acting_user=request.user,
                        name=data["file"].name,
                        data=_read_upload(data["file"]),
                        published=data["published"],
                        circle=data["circle"],
                    )
                else:
                    document = services.take_in_text(
                        acting_user=request.user,
                        text=data["text"],
                        name=data["name"],
                        published=data["published"],
                        circle=data["circle"],
                    )
            except ValidationError as exc:
                _apply_service_error(form, exc, "file" if data["file"] else "text")
            except PermissionError as exc:
                raise _denied(exc) from exc
            else:
                messages.success(request, _("The document was read: check what it proposes, then commit it."))
                return redirect("intake:review", pk=document.pk)
    style_form(form)
    return render(
        request,
        "intake/document_new.html",
        {"form": form, "title": _("Upload a document")},
        status=status,
    )


# --------------------------------------------------------------------------- the review page


@dataclass
class Ref:
    """An agency reference as the page shows it: the text as written and the directory agency it names."""

    text: str
    agency_id: int | None
    name: str = ""
    region: str = ""

    @property
    def resolved(self) -> bool:
        return bool(self.agency_id and self.name)

    @property
    def input_value(self) -> str:
        return self.name or self.text


@dataclass
class NodeRow:
    path: str
    depth: int
    node: dict
    lead: Ref | None
    co_owners: list[Ref]
    first: bool
    has_children: bool
    confidence: float | None = None
    warnings: list[str] = field(default_factory=list)
    is_open: bool = False
    last: bool = False
    next_number: str = ""  # proposed numbers for an item added after this one, or under it (open rows only)
    child_number: str = ""

    @property
    def depth_class(self) -> str:
        return f"yq-depth-{min(self.depth, MAX_DEPTH_CLASS)}"

    @property
    def span_attr(self) -> str:
        return _span_attr(self.node.get("span"))


def _span_attr(span) -> str:
    """``data-span`` of an item: "start end" in the original text, or "" when the item has no span."""
    if isinstance(span, list | tuple) and len(span) == 2 and all(isinstance(v, int) for v in span):
        return f"{span[0]} {span[1]}"
    return ""


def _percent(value) -> int | None:
    return round(100 * value) if isinstance(value, int | float) else None


def _draft_by_span(items) -> dict[tuple, dict]:
    found = {}
    for item in items or ():
        span = item.get("span")
        if isinstance(span, list) and len(span) == 2:
            found.setdefault(tuple(span), item)
    return found


def _draft_measures_by_span(nodes, found=None) -> dict[tuple, dict]:
    found = {} if found is None else found
    for node in nodes or ():
        span = node.get("span")
        if isinstance(span, list) and len(span) == 2:
            found.setdefault(tuple(span), node)
        _draft_measures_by_span(node.get("children"), found)
    return found


def _agencies_named(reviewed: dict, draft: dict) -> dict[int, Agency]:
    ids = {ref.get("agency_id") for ref in review.agency_refs(reviewed)}
    ids |= {ref.get("agency_id") for ref in draft.get("agencies") or ()}
    ids = {i for i in ids if isinstance(i, int)}
    if not ids:
        return {}
    agencies = Agency.objects.filter(pk__in=ids).select_related("region").only("id", "name", "region__name")
    return {agency.pk: agency for agency in agencies}


def _ref(ref: dict | None, agencies: dict[int, Agency]) -> Ref | None:
    if not isinstance(ref, dict):
        return None
    agency = agencies.get(ref.get("agency_id"))
    return Ref(
        text=ref.get("text", ""),
        agency_id=ref.get("agency_id"),
        name=agency.name if agency else "",
        region=agency.region.name if agency else "",
    )


def _mentions(reviewed: dict, draft: dict, agencies: dict[int, Agency]) -> list[dict]:
    """The agency names the text uses, once each: where first, what the analysis matched, what the review says."""
    used: dict[str, list[dict]] = {}
    for ref in review.agency_refs(reviewed):
        used.setdefault(ref.get("text", ""), []).append(ref)
    rows: dict[str, dict] = {}
    for ref in draft.get("agencies") or ():
        text = ref.get("text", "")
        row = rows.get(text)
        if row is None:
            refs = used.get(text) or []
            current = refs[0].get("agency_id") if refs else ref.get("agency_id")
            rows[text] = row = {
                "text": text,
                "span": _span_attr(ref.get("span")),
                "count": 0,
                "used": len(refs),
                "ref": _ref({"text": text, "agency_id": current}, agencies),
                "proposed": _ref(ref, agencies),
                "confidence": _percent(ref.get("confidence")),
                "warnings": list(ref.get("warnings") or ()),
            }
        row["count"] += 1
    # Names the review uses that the analysis did not list (typed in by the reviewer keep their agency's name).
    for text, refs in used.items():
        if text not in rows and not refs[0].get("agency_id"):
            rows[text] = {
                "text": text,
                "span": "",
                "count": 0,
                "used": len(refs),
                "ref": _ref(refs[0], agencies),
                "proposed": None,
                "confidence": None,
                "warnings": [],
            }
    return list(rows.values())


def _node_rows(reviewed: dict, draft: dict, agencies: dict[int, Agency], open_path: str) -> list[NodeRow]:
    by_span = _draft_measures_by_span(draft.get("measures"))
    rows = []

    def visit(nodes, prefix, depth):
        for index, node in enumerate(nodes or ()):
            path = f"{prefix}.{index}" if prefix else str(index)
            proposed = by_span.get(tuple(node.get("span") or ()), {})
            rows.append(
                NodeRow(
                    path=path,
                    depth=depth,
                    node=node,
                    lead=_ref(node.get("lead"), agencies),
                    co_owners=[r for r in (_ref(ref, agencies) for ref in node.get("co_owners") or ()) if r],
                    first=index == 0,
                    has_children=bool(node.get("children")),
                    confidence=_percent(proposed.get("confidence")),
                    warnings=list(proposed.get("warnings") or ()),
                    is_open=path == open_path,
                    last=index == len(nodes) - 1,
                )
            )
            if path == open_path:
                rows[-1].next_number = review.suggest_number(reviewed, path, as_child=False)
                rows[-1].child_number = review.suggest_number(reviewed, path, as_child=True)
            visit(node.get("children"), path, depth + 1)

    visit(review.measure_nodes(reviewed), "", 0)
    return rows


def _agreement_rows(reviewed: dict, draft: dict, agencies: dict[int, Agency]) -> list[dict]:
    by_span = _draft_by_span(draft.get("agreements"))
    kinds = dict(AgreementKind.choices)
    rows = []
    for index, agreement in enumerate(reviewed.get("agreements") or ()):
        proposed = by_span.get(tuple(agreement.get("span") or ()), {})
        rows.append(
            {
                "index": index,
                "agreement": agreement,
                "include": agreement.get("include", True),
                "kind_label": kinds.get(agreement.get("kind"), agreement.get("kind") or ""),
                "kinds": AgreementKind.choices,
                "statuses": AgreementStatus.choices,
                "span": _span_attr(agreement.get("span")),
                "signatories": [r for r in (_ref(ref, agencies) for ref in agreement.get("signatories") or ()) if r],
                "confidence": _percent(proposed.get("confidence")),
                "warnings": list(proposed.get("warnings") or ()),
                "action": proposed.get("action", ""),
            }
        )
    return rows


def _target_choices(request, reviewed: dict) -> list[tuple[str, str]]:
    """Where the measures may go: an included agreement of this document, or one of the circle's in the ledger."""
    choices = [
        (f"new:{agreement.get('key')}", _("《%(title)s》 (from this document)") % {"title": agreement.get("title")})
        for agreement in reviewed.get("agreements") or ()
        if agreement.get("key") and agreement.get("include", True)
    ]
    circle_id = reviewed.get("circle")
    if circle_id:
        existing = (
            Agreement.objects.visible_to(request.user)
            .filter(circle_id=circle_id)
            .only("id", "title", "signed_on")
            .order_by("-signed_on", "-id")[:AGREEMENT_CHOICES]
        )
        choices += [(f"existing:{a.pk}", _("《%(title)s》 (in the ledger)") % {"title": a.title}) for a in existing]
    return choices


def _target_value(reviewed: dict) -> str:
    measures = reviewed.get("measures")
    target = measures.get("agreement") if isinstance(measures, dict) else None
    if isinstance(target, dict):
        return f"existing:{target['existing']}" if target.get("existing") else ""
    return f"new:{target}" if target else ""


def _meeting_choices(request, reviewed: dict) -> list[tuple[int, str]]:
    """Meetings that take topics (planned, agenda open or closed) or were held, minutes not yet submitted, in the
    document's circle: the held ones for minutes, the others for topics proposed."""
    meetings = (
        Meeting.objects.visible_to(request.user)
        .filter(
            status__in=[
                MeetingStatus.PLANNED,
                MeetingStatus.AGENDA_OPEN,
                MeetingStatus.AGENDA_CLOSED,
                MeetingStatus.HELD,
            ]
        )
        .exclude(minutes_status__in=[MinutesStatus.PENDING, MinutesStatus.APPROVED])
        .select_related("series")
        .only("id", "title", "number", "starts_at", "status", "series__title")
        .order_by("-starts_at", "-id")
    )
    if reviewed.get("circle"):
        meetings = meetings.filter(series__circle_id=reviewed["circle"])
    return [
        (m.pk, f"{m.display_title} · {m.starts_at:%Y-%m-%d} · {m.get_status_display()}")
        for m in meetings[:MEETING_CHOICES]
    ]


def _series_choices(request, reviewed: dict) -> list[tuple[int, str]]:
    """The series a meeting may be recorded in: those the person sees, in the document's circle."""
    series = MeetingSeries.objects.visible_to(request.user).only("id", "title").order_by("title", "id")
    if reviewed.get("circle"):
        series = series.filter(circle_id=reviewed["circle"])
    return [(s.pk, s.title) for s in series[:SERIES_CHOICES]]


def _record_form(request, reviewed: dict, draft: dict, agencies: dict[int, Agency]) -> dict:
    """What the "record this meeting" form shows: the stored record, else the event's day and place."""
    topics = reviewed.get("topics") if isinstance(reviewed.get("topics"), dict) else {}
    record = topics.get("record") if isinstance(topics.get("record"), dict) else None
    if record is not None:
        host = agencies.get(record.get("host"))
        return {
            "recorded": True,
            "series": record.get("series"),
            "date": record.get("date") or "",
            "place": record.get("place") or "",
            "host": host.name if host else "",
        }
    event = draft.get("event") or {}
    date = event.get("date") or ""
    return {
        "recorded": False,
        "series": None,
        "date": date if len(date) == 10 else "",
        "place": event.get("place") or "",
        "host": "",
    }


def _decision_rows(reviewed: dict, draft: dict, agencies: dict[int, Agency]) -> list[dict]:
    by_span = _draft_by_span(draft.get("decisions"))
    rows = []
    for index, item in enumerate(review.decision_items(reviewed)):
        proposed = by_span.get(tuple(item.get("span") or ()), {})
        rows.append(
            {
                "index": index,
                "item": item,
                "include": item.get("include", True),
                "span": _span_attr(item.get("span")),
                "lead": _ref(item.get("lead"), agencies),
                "co_owners": [_ref(ref, agencies) for ref in item.get("co_owners") or () if isinstance(ref, dict)],
                "confidence": _percent(proposed.get("confidence")),
                "warnings": list(proposed.get("warnings") or ()),
            }
        )
    return rows


def _topic_rows(reviewed: dict, draft: dict) -> list[dict]:
    by_span = _draft_by_span(draft.get("topics"))
    topics = reviewed.get("topics") if isinstance(reviewed.get("topics"), dict) else {}
    rows = []
    for index, item in enumerate(topics.get("items") or ()):
        proposed = by_span.get(tuple(item.get("span") or ()), {})
        rows.append(
            {
                "index": index,
                "item": item,
                "include": item.get("include", True),
                "span": _span_attr(item.get("span")),
                "confidence": _percent(proposed.get("confidence")),
                "warnings": list(proposed.get("warnings") or ()),
            }
        )
    return rows


def _edit_urls(pk: int) -> dict[str, str]:
    """The URL of every edit (``signatory-remove`` as ``signatory_remove``): reversed once, used by every item."""
    return {op.replace("-", "_"): reverse("intake:edit", args=[pk, op]) for op in EDITS}


def _structure_context(request, document: IntakeDocument, **extra) -> dict[str, Any]:
    """What the structure column (``intake/_structure.html``) shows."""
    reviewed = document.reviewed if isinstance(document.reviewed, dict) else {}
    draft = document.draft if isinstance(document.draft, dict) else {}
    agencies = _agencies_named(reviewed, draft)
    event = dict(draft.get("event") or {})
    event["span_attr"] = _span_attr(event.get("span"))
    event["kind_label"] = EVENT_KINDS.get(event.get("kind", ""), event.get("kind", ""))
    event["confidence_pct"] = _percent(event.get("confidence"))
    next_meeting = event.get("next_meeting")
    if isinstance(next_meeting, dict):
        event["next"] = {**next_meeting, "host_ref": _ref(next_meeting.get("host"), agencies)}
        event["next"]["span_attr"] = _span_attr(next_meeting.get("span"))
    topics = reviewed.get("topics") if isinstance(reviewed.get("topics"), dict) else {}
    circle_form = CircleForm(initial={"circle": reviewed.get("circle")}, user=request.user, auto_id="circle-%s")
    style_form(circle_form)
    return {
        "document": document,
        "editable": document.status == DocumentStatus.ANALYSED,
        "reviewed": reviewed,
        "circle_form": circle_form,
        "circle_id": reviewed.get("circle"),
        "event": event,
        "mentions": _mentions(reviewed, draft, agencies),
        "agreements": _agreement_rows(reviewed, draft, agencies),
        "target_choices": _target_choices(request, reviewed),
        "target_value": _target_value(reviewed),
        "nodes": _node_rows(reviewed, draft, agencies, extra.pop("open_path", "")),
        "topics": _topic_rows(reviewed, draft),
        "meeting_choices": _meeting_choices(request, reviewed),
        "meeting_value": topics.get("meeting"),
        "series_choices": _series_choices(request, reviewed),
        "record": _record_form(request, reviewed, draft, agencies),
        "decisions": _decision_rows(reviewed, draft, agencies),
        "figures": [{**f, "span_attr": _span_attr(f.get("span"))} for f in draft.get("figures") or ()],
        "declared": [
            {**c, "span_attr": _span_attr(c.get("span")), "matches": c.get("found") == c.get("count")}
            for c in draft.get("declared_counts") or ()
        ],
        "warnings": [{**w, "span_attr": _span_attr(w.get("span"))} for w in draft.get("warnings") or ()],
        "unresolved": review.unresolved(reviewed),
        "edit_urls": _edit_urls(document.pk),
        "options_url": reverse("intake:agency-options", args=[document.pk]),
        "node_forms_url": reverse("intake:node-forms", args=[document.pk]),
        "edit_error": "",
        **extra,
    }


def _review_page(request, document: IntakeDocument, *, status: int = 200, **extra):
    draft = document.draft if isinstance(document.draft, dict) else {}
    context = _structure_context(request, document, **extra)
    context.update(
        {
            "title": _page_title(document),
            "status_css": DOCUMENT_STATUS_CSS.get(document.status, "bg-secondary-lt"),
            "text_html": review.highlight_html(document.text, review.draft_highlights(draft)),
            "source": draft.get("source") or {},
        }
    )
    return render(request, "intake/review.html", context, status=status)


@login_required
@require_GET
def document_review(request, pk: int):
    """The review page; ``?open=<path>`` opens the editor of that item of the measure tree (without htmx)."""
    document = _visible_document(request, pk)
    return _review_page(request, document, open_path=request.GET.get("open", ""))


@login_required
@require_GET
@_conflict_page
def node_forms(request, pk: int):
    """The editing forms of one item of the measure tree (``?path=``), for its <details> on the review page."""
    document = _visible_document(request, pk)
    _require_open(document)
    path = request.GET.get("path", "")
    reviewed = document.reviewed if isinstance(document.reviewed, dict) else {}
    draft = document.draft if isinstance(document.draft, dict) else {}
    rows = _node_rows(reviewed, draft, _agencies_named(reviewed, draft), path)
    row = next((row for row in rows if row.path == path), None)
    if row is None:
        raise Http404
    context = {
        "document": document,
        "row": row,
        "edit_urls": _edit_urls(document.pk),
        "options_url": reverse("intake:agency-options", args=[document.pk]),
    }
    response = render(request, "intake/_node_forms.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def agency_options(request, pk: int):
    """``<option>``s of a datalist: agencies whose name contains what was typed (under any of the inputs' names),
    among the document's circle's agencies with ``?scope=circle``."""
    document = _visible_document(request, pk)
    term = next((request.GET[name] for name in AGENCY_INPUT_NAMES if request.GET.get(name, "").strip()), "")
    if not term.strip():
        return HttpResponse("")
    reviewed = document.reviewed if isinstance(document.reviewed, dict) else {}
    agencies = Agency.objects.visible_to(request.user)
    if request.GET.get("scope") == "circle" and reviewed.get("circle"):
        agencies = agencies.in_circles([reviewed["circle"]])
    found = list(
        agencies.search(term.strip())
        .select_related("region")
        .only("id", "name", "region__name")
        .order_by(Length("name"), "name")[:AUTOCOMPLETE_LIMIT]
    )
    names = [agency.name for agency in found]
    options = format_html_join(
        "",
        '<option value="{}">{}</option>',
        ((f"{a.name} #{a.pk}" if names.count(a.name) > 1 else a.name, a.region.name) for a in found),
    )
    response = HttpResponse(options)
    response["Cache-Control"] = "private, no-store"
    return response


# --------------------------------------------------------------------------- edits


class _Invalid(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _valid(form):
    if not form.is_valid():
        raise _Invalid(_form_error_text(form))
    return form.cleaned_data


def _index(request, name: str = "index") -> int:
    value = request.POST.get(name, "")
    if not value.isdigit():
        raise _Invalid(_("The page sent an incomplete edit; reload it and try again."))
    return int(value)


def _owner_agencies(request, reviewed: dict):
    agencies = Agency.objects.visible_to(request.user)
    return agencies.in_circles([reviewed["circle"]]) if reviewed.get("circle") else agencies


def _edit_circle(request, document, reviewed):
    data = _valid(CircleForm(request.POST, user=request.user))
    return review.set_circle(reviewed, data["circle"].pk if data["circle"] else None), ""


def _edit_mention(request, document, reviewed):
    data = _valid(MentionForm(request.POST))
    return review.resolve_mention(reviewed, data["text"], review.agency_ref(data["agency"], data["text"])), ""


def _edit_agreement(request, document, reviewed):
    data = _valid(AgreementForm(request.POST))
    signed_on = data["signed_on"].isoformat() if data["signed_on"] else None
    return (
        review.update_agreement(
            reviewed,
            _index(request),
            include=data["include"],
            title=data["title"],
            kind=data["kind"],
            signed_on=signed_on,
            signed_place=data["signed_place"],
            status=data["status"],
        ),
        "",
    )


def _edit_signatory(request, document, reviewed):
    data = _valid(SignatoryForm(request.POST))
    ref = review.agency_ref(data["agency"])
    return review.set_signatory(reviewed, _index(request), _index(request, "position"), ref), ""


def _edit_signatory_remove(request, document, reviewed):
    return review.remove_signatory(reviewed, _index(request), _index(request, "position")), ""


def _edit_signatory_add(request, document, reviewed):
    data = _valid(SignatoryForm(request.POST))
    return review.add_signatory(reviewed, _index(request), review.agency_ref(data["agency"])), ""


def _edit_measures_target(request, document, reviewed):
    data = _valid(MeasuresTargetForm(request.POST, choices=_target_choices(request, reviewed)))
    return review.set_measures_agreement(reviewed, data["target"]), ""


def _path(request) -> str:
    path = request.POST.get("path", "")
    review.parse_path(path)
    return path


def _edit_node(request, document, reviewed):
    path = _path(request)
    data = _valid(NodeForm(request.POST))
    return review.edit_node(reviewed, path, number=data["number"], title=data["title"]), path


def _edit_merge(request, document, reviewed):
    path = _path(request)
    indexes = path.split(".")
    previous = ".".join([*indexes[:-1], str(max(0, int(indexes[-1]) - 1))])
    return review.merge_with_previous(reviewed, path), previous


def _edit_split(request, document, reviewed):
    path = _path(request)
    data = _valid(SplitForm(request.POST))
    return (
        review.split_node(reviewed, path, at=data["position"], marked=data["marked"], source=document.text),
        path,
    )


def _edit_move(request, document, reviewed):
    data = _valid(MoveForm(request.POST))
    return review.move_node(reviewed, _path(request), up=data["direction"] == "up")


def _edit_add(request, document, reviewed):
    path = request.POST.get("path", "")
    if path:
        review.parse_path(path)
    data = _valid(AddNodeForm(request.POST))
    return review.add_node(
        reviewed, path, number=data["number"], title=data["title"], as_child=data["where"] == "under"
    )


def _edit_delete(request, document, reviewed):
    return review.delete_node(reviewed, _path(request)), ""


def _edit_ungroup(request, document, reviewed):
    return review.delete_node(reviewed, _path(request), keep_children=True), ""


def _edit_owners(request, document, reviewed):
    path = _path(request)
    form = OwnersForm(request.POST, queryset=_owner_agencies(request, reviewed))
    data = _valid(form)
    lead = review.agency_ref(data["lead"]) if data["lead"] else None
    co_owners = [review.agency_ref(agency) for agency in data["co_owners"]]
    due_on = data["due_on"].isoformat() if data["due_on"] else None
    return review.set_owners(reviewed, path, lead=lead, co_owners=co_owners, due_on=due_on), path


def _edit_topic(request, document, reviewed):
    data = _valid(TopicForm(request.POST))
    return review.update_topic(reviewed, _index(request), include=data["include"], title=data["title"]), ""


def _edit_topic_meeting(request, document, reviewed):
    data = _valid(TopicMeetingForm(request.POST, choices=_meeting_choices(request, reviewed)))
    return review.set_topic_meeting(reviewed, data["meeting"]), ""


def _edit_meeting_record(request, document, reviewed):
    agencies = Agency.objects.visible_to(request.user)
    form = MeetingRecordForm(request.POST, series_choices=_series_choices(request, reviewed), hosts=agencies)
    data = _valid(form)
    return (
        review.set_meeting_record(
            reviewed,
            series_id=data["series"],
            date=data["date"].isoformat(),
            place=data["place"],
            host=review.agency_ref(data["host"]),
        ),
        "",
    )


def _edit_decision(request, document, reviewed):
    topics = reviewed.get("topics") if isinstance(reviewed.get("topics"), dict) else {}
    data = _valid(DecisionForm(request.POST, topic_count=len(topics.get("items") or ())))
    return (
        review.update_decision(
            reviewed, _index(request), include=data["include"], title=data["title"], topic=data["topic"]
        ),
        "",
    )


def _edit_decision_owners(request, document, reviewed):
    data = _valid(OwnersForm(request.POST, queryset=_owner_agencies(request, reviewed)))
    lead = review.agency_ref(data["lead"]) if data["lead"] else None
    co_owners = [review.agency_ref(agency) for agency in data["co_owners"]]
    due_on = data["due_on"].isoformat() if data["due_on"] else None
    return review.set_decision_owners(reviewed, _index(request), lead=lead, co_owners=co_owners, due_on=due_on), ""


EDITS = {
    "circle": _edit_circle,
    "mention": _edit_mention,
    "agreement": _edit_agreement,
    "signatory": _edit_signatory,
    "signatory-remove": _edit_signatory_remove,
    "signatory-add": _edit_signatory_add,
    "measures-target": _edit_measures_target,
    "node": _edit_node,
    "merge": _edit_merge,
    "split": _edit_split,
    "delete": _edit_delete,
    "move": _edit_move,
    "add": _edit_add,
    "ungroup": _edit_ungroup,
    "owners": _edit_owners,
    "topic": _edit_topic,
    "topic-meeting": _edit_topic_meeting,
    "meeting-record": _edit_meeting_record,
    "decision": _edit_decision,
    "decision-owners": _edit_decision_owners,
}
EDIT_ANCHORS = {
    "circle": "review-structure",
    "mention": "panel-agencies",
    "agreement": "panel-agreements",
    "signatory": "panel-agreements",
    "signatory-remove": "panel-agreements",
    "signatory-add": "panel-agreements",
    "topic": "panel-topics",
    "topic-meeting": "panel-topics",
    "meeting-record": "panel-topics",
    "decision": "panel-decisions",
    "decision-owners": "panel-decisions",
}


@login_required
@require_POST
@_conflict_page
def review_edit(request, pk: int, op: str):
    """One edit of the reviewed draft (see EDITS), stored by ``services.save_review``. Under htmx the answer is the
    structure column (with the refusal in it, if any), else the page (HTTP 400 when refused) or a redirect."""
    edit = EDITS.get(op)
    if edit is None:
        raise Http404
    document = _visible_document(request, pk)
    _require_open(document)
    reviewed = document.reviewed if isinstance(document.reviewed, dict) else {}
    error, open_path = "", ""
    try:
        changed, open_path = edit(request, document, reviewed)
        document = services.save_review(acting_user=request.user, document=document, reviewed=changed)
    except (ReviewError, _Invalid) as exc:
        error = exc.message
    except ValidationError as exc:
        error = _error_text(exc)
    except PermissionError as exc:
        raise _denied(exc) from exc
    anchor = EDIT_ANCHORS.get(op, "panel-measures")
    if _is_htmx(request):
        context = _structure_context(request, document, open_path=open_path, edit_error=error, edit_panel=anchor)
        response = render(request, "intake/_structure.html", context)
        response["Cache-Control"] = "no-store"
        return response
    if error:
        return _review_page(request, document, status=400, open_path=open_path, edit_error=error, edit_panel=anchor)
    return redirect(reverse("intake:review", args=[document.pk]) + f"#{anchor}")


@login_required
@require_POST
@_conflict_page
def document_commit(request, pk: int):
    document = _visible_document(request, pk)
    _require_open(document)
    try:
        document = services.commit(acting_user=request.user, document=document)
    except ValidationError as exc:
        return _review_page(request, document, status=400, commit_errors=exc.messages)
    except PermissionError as exc:
        raise _denied(exc) from exc
    messages.success(request, _("Committed: the ledger and the meetings now hold what the document proposed."))
    return redirect("intake:result", pk=document.pk)


@login_required
@require_POST
@_conflict_page
def document_discard(request, pk: int):
    document = _visible_document(request, pk)
    _require_open(document)
    try:
        services.discard(acting_user=request.user, document=document)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("intake:review", pk=document.pk)
    except PermissionError as exc:
        raise _denied(exc) from exc
    messages.success(request, _("The document was discarded; nothing was entered in the ledger."))
    return redirect("intake:documents")


def _created_rows(request, document: IntakeDocument) -> list[dict]:
    """What the commit created, with a link each (to what the user may open)."""
    wanted: dict[str, list[int]] = {}
    for entry in document.created or ():
        if isinstance(entry, dict) and isinstance(entry.get("id"), int):
            wanted.setdefault(entry.get("model", ""), []).append(entry["id"])
    user = request.user
    agreements = {
        a.pk: a
        for a in Agreement.objects.visible_to(user)
        .filter(pk__in=wanted.get("ledger.agreement", []))
        .only("id", "title")
    }
    measures = {
        m.pk: m
        for m in Measure.objects.visible_to(user)
        .filter(pk__in=wanted.get("ledger.measure", []))
        .only("id", "number", "title")
    }
    topics = {
        t.pk: t
        for t in Topic.objects.visible_to(user)
        .filter(pk__in=wanted.get("meetings.topic", []))
        .select_related("meeting__series")
        .only("id", "title", "meeting__id", "meeting__title", "meeting__number", "meeting__series__title")
    }
    meetings = {
        m.pk: m
        for m in Meeting.objects.visible_to(user)
        .filter(pk__in=wanted.get("meetings.meeting", []))
        .select_related("series")
        .only("id", "title", "number", "starts_at", "series__title")
    }
    decisions = {
        d.pk: d
        for d in Decision.objects.visible_to(user)
        .filter(pk__in=wanted.get("meetings.decision", []))
        .select_related("meeting__series")
        .only("id", "title", "meeting__id", "meeting__title", "meeting__number", "meeting__series__title")
    }
    rows = []
    for entry in document.created or ():
        if not isinstance(entry, dict):
            continue
        model, pk = entry.get("model", ""), entry.get("id")
        row = {"model": model, "id": pk, "kind": CREATED_KINDS.get(model, model), "title": "", "url": "", "extra": ""}
        if model == "ledger.agreement" and pk in agreements:
            row.update(title=agreements[pk].title, url=reverse("ledger:agreement", args=[pk]))
        elif model == "ledger.measure" and pk in measures:
            measure = measures[pk]
            row.update(title=f"{measure.number} {measure.title}".strip(), url=reverse("ledger:measure", args=[pk]))
        elif model == "meetings.topic" and pk in topics:
            topic = topics[pk]
            row.update(
                title=topic.title,
                url=reverse("meetings:meeting", args=[topic.meeting_id]) + "#agenda",
                extra=topic.meeting.display_title,
            )
        elif model == "meetings.meeting" and pk in meetings:
            meeting = meetings[pk]
            row.update(
                title=meeting.display_title,
                url=reverse("meetings:meeting", args=[pk]),
                extra=f"{timezone.localtime(meeting.starts_at):%Y-%m-%d}",
            )
        elif model == "meetings.decision" and pk in decisions:
            decision = decisions[pk]
            row.update(
                title=decision.title,
                url=reverse("meetings:meeting", args=[decision.meeting_id]) + "#agenda",
                extra=decision.meeting.display_title,
            )
        rows.append(row)
    return rows


@login_required
@require_GET
def document_result(request, pk: int):
    document = _visible_document(request, pk)
    if document.status != DocumentStatus.COMMITTED:
        return redirect("intake:review", pk=document.pk)
    rows = _created_rows(request, document)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["model"]] = counts.get(row["model"], 0) + 1
    return render(
        request,
        "intake/result.html",
        {
            "document": document,
            "rows": rows,
            "agreement_count": counts.get("ledger.agreement", 0),
            "measure_count": counts.get("ledger.measure", 0),
            "topic_count": counts.get("meetings.topic", 0),
            "decision_count": counts.get("meetings.decision", 0),
            "title": _("Committed: %(name)s") % {"name": _page_title(document)},
        },
    )


# --------------------------------------------------------------------------- batches


@login_required
@require_http_methods(["GET", "POST"])
def batch_new(request):
    posted = request.method == "POST"
    form = BatchForm(
        request.POST if posted else None, request.FILES if posted else None, user=request.user, auto_id="batch-%s"
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            uploads = data["uploads"]
            files = [(f.name, f.read() if f.name.lower().endswith(".zip") else _read_upload(f)) for f in uploads]
            name = data["name"] or uploads[0].name
            try:
                batch = services.start_batch(
                    acting_user=request.user,
                    name=name,
                    files=files,
                    published=data["published"],
                    circle=data["circle"],
                )
            except ValidationError as exc:
                _apply_service_error(form, exc, "files")
            except PermissionError as exc:
                raise _denied(exc) from exc
            else:
                messages.success(request, _("The import has started: the documents are read one after another."))
                return redirect("intake:batch", pk=batch.pk)
    style_form(form)
    return render(request, "intake/batch_new.html", {"form": form, "title": _("Import a folder or zip")}, status=status)


def _batch_context(request, batch: IntakeBatch) -> dict[str, Any]:
    documents = (
        IntakeDocument.objects.visible_to(request.user)
        .filter(batch=batch)
        .only("id", "name", "status", "error", "size", "batch_id")
        .order_by("id")
    )
    rows = [{"document": d, "css": DOCUMENT_STATUS_CSS.get(d.status, "bg-secondary-lt")} for d in documents]
    running = batch.status in (BatchStatus.QUEUED, BatchStatus.RUNNING)
    return {
        "batch": batch,
        "rows": rows,
        "running": running,
        "percent": batch.percent,
        "batch_css": BATCH_STATUS_CSS.get(batch.status, "bg-secondary-lt"),
        "failed_count": sum(1 for row in rows if row["document"].status == DocumentStatus.FAILED),
    }


def _visible_batch(request, pk: int) -> IntakeBatch:
    return get_object_or_404(IntakeBatch.objects.visible_to(request.user).select_related("circle"), pk=pk)


@login_required
@require_GET
def batch_detail(request, pk: int):
    batch = _visible_batch(request, pk)
    context = _batch_context(request, batch)
    context["title"] = batch.name
    return render(request, "intake/batch_detail.html", context)


@login_required
@require_GET
def batch_progress(request, pk: int):
    """The progress block (htmx partial): it polls itself every 2 s while the batch is queued or running."""
    batch = _visible_batch(request, pk)
    response = render(request, "intake/_batch_progress.html", _batch_context(request, batch))
    response["Cache-Control"] = "no-store"
    return response
