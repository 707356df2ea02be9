"""Assistance-request pages (协作请求): the inbox (收文) and outbox (发文) of an agency, the request form, the request
page with its routing chain, clocks, timeline, thread (一案一议), attachments and receipts, and the step pages that
run a request through its lifecycle.

Reads start from ``visible_to(request.user)`` (not visible → 404; a case handler without the liaison role sees only
what is his or his department's). Writes call ``yipanqi.assistance.services``: a ``ValidationError`` becomes form
errors (nothing written), a ``PermissionError`` a 403 and a ``Conflict`` (the request's state forbids the step) a
page with HTTP 409 that says why. Lists cost the same number of queries whatever their length: the light is computed
in SQL (``selectors.light_case``), the related rows are joined, and the links are made from one ``reverse`` each.

Files are never served from a media URL: an attachment or a receipt goes out only through the views below, after the
permission check.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yipanqi.core.conflicts import conflict_page
from yipanqi.core.errors import Conflict
from yipanqi.directory.forms import style_form
from yipanqi.directory.models import Department, Role, User
from yipanqi.directory.selectors import Counterpart
from yipanqi.ledger.bulletin_views import UNSAFE_IN_FILE_NAMES
from yipanqi.ledger.views import _mark_invalid, _next_url, _posted

from . import deadlines, excel, receipts, routing, selectors, services
from .forms import (
    AnswerForm,
    AssignForm,
    AttachmentForm,
    BoxFilterForm,
    ExtensionForm,
    ForwardForm,
    MessageForm,
    ReasonForm,
    RequestForm,
    RequestStartForm,
    apply_errors,
    detail_initial,
)
from .models import (
    AssistanceRequest,
    Attachment,
    EventKind,
    Receipt,
    RequestEvent,
    RequestHop,
    RequestKind,
    RequestMessage,
    RequestStatus,
    Urgency,
)

PAGE_SIZES = (20, 50, 100)  # rows per page of a box (每页条数); the first is the default, as in most OA systems
EXPORT_LIMIT = 20_000  # rows in one .xlsx; a bigger selection is cut, and the file says so
TIMELINE_LIMIT = 200  # the latest events shown on the request page
THREAD_LIMIT = 200  # the latest messages shown on the request page
CANDIDATES = 10  # receivers proposed by routing

LIGHT_LABELS = {
    "red": gettext_lazy("Overdue"),
    "yellow": gettext_lazy("Near the deadline"),
    "green": gettext_lazy("In time"),
    "paused": gettext_lazy("Paused"),
}
LIGHT_HINTS = {
    "red": gettext_lazy("Past the running deadline"),
    "yellow": gettext_lazy("Little of the running clock is left"),
    "green": gettext_lazy("The running clock has time left"),
    "paused": gettext_lazy("The clock stands still while the sender supplies material (补充材料)"),
}
LIGHT_CSS = {"red": "red", "yellow": "yellow", "green": "green", "paused": "blue"}
STATUS_CSS = {
    RequestStatus.DRAFT: "bg-secondary-lt",
    RequestStatus.SENT: "bg-blue-lt",
    RequestStatus.RECEIVED: "bg-azure-lt",
    RequestStatus.ACCEPTED: "bg-indigo-lt",
    RequestStatus.IN_PROGRESS: "bg-purple-lt",
    RequestStatus.PAUSED: "bg-orange-lt",
    RequestStatus.RETURNED: "bg-red-lt",
    RequestStatus.ANSWERED: "bg-teal-lt",
    RequestStatus.CLOSED: "bg-green-lt",
    RequestStatus.WITHDRAWN: "bg-secondary-lt",
}
CLOCK_LABELS = {
    "sign": gettext_lazy("Sign for (签收) by"),
    "accept": gettext_lazy("Accept (受理) by"),
    "finish": gettext_lazy("Finish (办结) by"),
}
BOX_TITLES = {
    "inbox": gettext_lazy("Inbox (收文)"),
    "outbox": gettext_lazy("Outbox (发文)"),
    "escalated": gettext_lazy("Escalated to us (督办)"),
}
BOXES = {"inbox": selectors.inbox, "outbox": selectors.outbox, "escalated": selectors.escalated}
ROW_FIELDS = (
    "id",
    "number",
    "title",
    "case_number",
    "parties",
    "urgency",
    "status",
    "created_at",
    "sent_at",
    "due_at",
    "warn_at",
    "extension_asked_days",
    "sender_id",
    "receiver_id",
    "escalated_to_id",
    "kind__id",
    "kind__name",
    "sender__id",
    "sender__name",
    "sender__region__id",
    "sender__region__name",
    "receiver__id",
    "receiver__name",
    "receiver__region__id",
    "receiver__region__name",
    "assignee__id",
    "assignee__username",
    "assignee__full_name",
)
# The request page's relations: those every request has are joined, the optional ones (mostly empty) fetched by one
# small query each. PostgreSQL plans a query of ten joins in longer than it takes to run it.
DETAIL_JOINED = ("kind", "sender__region", "receiver__region")
DETAIL_PREFETCHED = (
    "target_region",
    "sender_department",
    "receiver_department",
    "created_by",
    "assignee",
    "escalated_to",
    "circle",
)


class Light:
    """A request's light for a template: ``code`` (red / yellow / green / paused, or "" when no clock runs)."""

    __slots__ = ("code", "css", "hint", "label")

    def __init__(self, code: str):
        self.code = code if code in LIGHT_LABELS else ""
        self.label = LIGHT_LABELS.get(code, "")
        self.hint = LIGHT_HINTS.get(code, "")
        self.css = LIGHT_CSS.get(code, "")

    def __bool__(self) -> bool:
        return bool(self.code)


# --------------------------------------------------------------------------- steps


SENDER, RECEIVER = "sender", "receiver"
ALL_STATUSES = tuple(RequestStatus.values)


@dataclass(frozen=True)
class Step:
    """A lifecycle button. ``form`` steps open a page that asks for input (a reason, a result, an agency …); the
    others are one POST."""

    slug: str
    label: object
    side: str
    statuses: tuple
    form: bool = False
    css: str = "btn-outline-primary"
    confirm: object = ""


STEPS = {
    step.slug: step
    for step in (
        Step("send", gettext_lazy("Send"), SENDER, (RequestStatus.DRAFT, RequestStatus.RETURNED), css="btn-primary"),
        Step("sign", gettext_lazy("Sign for (签收)"), RECEIVER, (RequestStatus.SENT,), css="btn-primary"),
        Step(
            "accept",
            gettext_lazy("Accept (受理)"),
            RECEIVER,
            (RequestStatus.SENT, RequestStatus.RECEIVED),
            css="btn-success",
        ),
        Step(
            "return",
            gettext_lazy("Return (退回)"),
            RECEIVER,
            (RequestStatus.SENT, RequestStatus.RECEIVED),
            form=True,
            css="btn-outline-warning",
        ),
        Step(
            "forward", gettext_lazy("Forward (转办)"), RECEIVER, (RequestStatus.SENT, RequestStatus.RECEIVED), form=True
        ),
        Step("start", gettext_lazy("Start work"), RECEIVER, (RequestStatus.ACCEPTED,)),
        Step(
            "answer",
            gettext_lazy("Answer (答复)"),
            RECEIVER,
            (RequestStatus.ACCEPTED, RequestStatus.IN_PROGRESS),
            form=True,
            css="btn-primary",
        ),
        Step(
            "pause",
            gettext_lazy("Ask for more material"),
            RECEIVER,
            (RequestStatus.RECEIVED, RequestStatus.ACCEPTED, RequestStatus.IN_PROGRESS),
            form=True,
        ),
        Step(
            "extension",
            gettext_lazy("Ask for more time"),
            RECEIVER,
            (RequestStatus.ACCEPTED, RequestStatus.IN_PROGRESS),
            form=True,
        ),
        Step(
            "assign",
            gettext_lazy("Assign a handler"),
            RECEIVER,
            (RequestStatus.RECEIVED, RequestStatus.ACCEPTED, RequestStatus.IN_PROGRESS, RequestStatus.PAUSED),
            form=True,
        ),
        Step("resume", gettext_lazy("Material supplied"), SENDER, (RequestStatus.PAUSED,), css="btn-primary"),
        Step("extension-grant", gettext_lazy("Grant the extension"), SENDER, ALL_STATUSES, css="btn-success"),
        Step("extension-refuse", gettext_lazy("Refuse the extension"), SENDER, ALL_STATUSES, css="btn-outline-danger"),
        Step("close", gettext_lazy("Close (办结)"), SENDER, (RequestStatus.ANSWERED,), css="btn-success"),
        Step("reopen", gettext_lazy("Reopen"), SENDER, (RequestStatus.ANSWERED, RequestStatus.CLOSED), form=True),
        Step(
            "withdraw",
            gettext_lazy("Withdraw"),
            SENDER,
            (RequestStatus.DRAFT, RequestStatus.RETURNED, RequestStatus.SENT, RequestStatus.RECEIVED),
            form=True,
            css="btn-outline-danger",
        ),
    )
}
STEP_TITLES = {
    "return": gettext_lazy("Return the request"),
    "forward": gettext_lazy("Forward the request (转办)"),
    "answer": gettext_lazy("Answer the request"),
    "pause": gettext_lazy("Ask the sender for more material"),
    "extension": gettext_lazy("Ask for more time"),
    "assign": gettext_lazy("Assign the request"),
    "reopen": gettext_lazy("Reopen the request"),
    "withdraw": gettext_lazy("Withdraw the request"),
}


def _sides(user, obj: AssistanceRequest) -> dict[str, bool]:
    """Whether the user acts for the sending and for the receiving agency (liaison or case handler there)."""
    return {
        SENDER: services.acts_for(user, obj.sender_id),
        RECEIVER: bool(obj.receiver_id) and services.acts_for(user, obj.receiver_id),
    }


def _can(step: Step, obj: AssistanceRequest, sides: dict[str, bool]) -> bool:
    if not sides[step.side] or obj.status not in step.statuses:
        return False
    if step.slug == "extension":
        return not obj.extension_asked_days
    if step.slug in ("extension-grant", "extension-refuse"):
        return bool(obj.extension_asked_days)
    return True


def available_steps(user, obj: AssistanceRequest) -> list[Step]:
    """The buttons the user may press on the request now, in lifecycle order."""
    sides = _sides(user, obj)
    return [step for step in STEPS.values() if _can(step, obj, sides)]


# --------------------------------------------------------------------------- helpers


def _back_to_request(request):
    obj = getattr(request, "assistance_request", None)
    return (reverse("assistance:request", args=[obj.pk]), _("Back to the request")) if obj is not None else None


_conflict_page = conflict_page(_back_to_request)  # a Conflict (the request's state forbids the step) → 409


def _style(form):
    """``style_form``, keeping the forms' own empty choices ("— none —") where it would write "All"."""
    empty = {}
    for name, field in form.fields.items():
        if isinstance(field, forms.ChoiceField) and not isinstance(
            field, forms.MultipleChoiceField | forms.ModelChoiceField
        ):
            choices = list(field.choices)
            if choices and choices[0][0] == "" and choices[0][1]:
                empty[name] = choices
    style_form(form)
    for name, choices in empty.items():
        form.fields[name].choices = choices
    return form


def _choose(form, *names):
    """An empty first option that asks to choose."""
    for name in names:
        field = form.fields[name]
        field.choices = [("", _("— choose —")), *list(field.choices)[1:]]


def _denied(exc: PermissionError) -> PermissionDenied:
    return PermissionDenied(str(exc))


def _visible_request(request, pk: int) -> AssistanceRequest:
    """The request if the user may see it (else 404; a draft is its sender's alone, see RequestQuerySet)."""
    user = request.user
    requests = AssistanceRequest.objects.visible_to(user).select_related(*DETAIL_JOINED)
    obj = get_object_or_404(requests.prefetch_related(*DETAIL_PREFETCHED), pk=pk)
    request.assistance_request = obj  # the way back from a 409 page
    return obj


def _detail_url(obj, anchor: str = "") -> str:
    url = reverse("assistance:request", args=[obj.pk])
    return f"{url}#{anchor}" if anchor else url


_PLACEHOLDER = "2147483647"


def _url_maker(name: str, *extra):
    """``pk → URL`` from one ``reverse``: lists link every row, and reversing each costs."""
    pattern = reverse(name, args=[int(_PLACEHOLDER), *extra])
    return lambda pk: pattern.replace(_PLACEHOLDER, str(pk), 1)


def _remaining(due: datetime.datetime | None, now: datetime.datetime) -> str:
    """ "3 days left" / "2 hours overdue": the running deadline in words."""
    if due is None:
        return ""
    delta = due - now
    late = delta.total_seconds() < 0
    seconds = abs(delta.total_seconds())
    if seconds >= 86400:
        days = int(seconds // 86400)
        if late:
            return ngettext("%(count)s day overdue", "%(count)s days overdue", days) % {"count": days}
        return ngettext("%(count)s day left", "%(count)s days left", days) % {"count": days}
    hours = max(1, int(seconds // 3600))
    if late:
        return ngettext("%(count)s hour overdue", "%(count)s hours overdue", hours) % {"count": hours}
    return ngettext("%(count)s hour left", "%(count)s hours left", hours) % {"count": hours}


def _file_name(text: str, extension: str, fallback: str) -> str:
    stem = UNSAFE_IN_FILE_NAMES.sub("_", text).strip(" ._") or fallback
    return f"{stem[:150]}.{extension}"


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --------------------------------------------------------------------------- inbox and outbox


def _box_rows(user, box: str, form: BoxFilterForm, now: datetime.datetime):
    """The box's requests (``base``), the filtered ones (``chosen``) and those with what the rows show."""
    base = BOXES[box](user)
    chosen = form.filter(base, now)
    rows = (
        chosen.select_related("kind", "sender__region", "receiver__region", "assignee")
        .only(*ROW_FIELDS)
        .annotate(light=selectors.light_case(now))
        .order_by("-id")
    )
    return base, chosen, rows


def _local_minute(moment: datetime.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _box_rows_html(requests, box: str, user, now: datetime.datetime, can_sign: bool) -> tuple[SafeString, bool]:
    """The table rows of a box, as HTML, and whether any of them can be signed for.

    A box page lists 50 requests; printing each row's twenty values through the template language cost more than
    all the page's queries (bench/README.md, bench_assistance), so the rows are formatted here, every value
    escaped by ``format_html``. The row's markup is ``ROW_HTML``; box.html holds the rest of the table."""
    detail_url = _url_maker("assistance:request")
    statuses = {value: str(label) for value, label in RequestStatus.choices}
    lights = {code: Light(code) for code in LIGHT_LABELS}
    draft, urgent, extension, not_sent = _("Draft"), _("Urgent"), _("Extension asked"), _("not sent")
    html, any_to_sign = [], False
    for row in requests:
        url = detail_url(row.pk)
        light = lights.get(row.light)
        counterpart = row.receiver if box == "outbox" else row.sender
        signable = can_sign and row.status == RequestStatus.SENT and row.receiver_id == user.agency_id
        any_to_sign = any_to_sign or signable
        check = ""
        if can_sign:
            check = format_html(
                "<td>{}</td>",
                format_html(
                    '<input class="form-check-input m-0 bulk-check" type="checkbox" name="ids" value="{}" '
                    'aria-label="{}">',
                    row.pk,
                    _("Sign for %(number)s") % {"number": row.number},
                )
                if signable
                else "",
            )
        details = [format_html('<span class="badge bg-secondary-lt me-1">{}</span>{}', row.kind.name, row.case_number)]
        if row.parties:
            details.append(format_html(" · {}", Truncator(row.parties).chars(40)))
        if counterpart:
            side = format_html(
                '{}<div class="small text-secondary">{}</div>', counterpart.name, counterpart.region.name
            )
        else:
            side = mark_safe('<span class="text-secondary">—</span>')
        if box == "escalated" and row.receiver_id:
            side += format_html('<div class="small">{}</div>', _("to %(agency)s") % {"agency": row.receiver.name})
        state = [
            format_html(
                '<span class="badge {} request-status" data-status="{}">{}</span>',
                STATUS_CSS.get(row.status, "bg-secondary-lt"),
                row.status,
                statuses.get(row.status, row.status),
            )
        ]
        if row.extension_asked_days:
            state.append(format_html('<div class="small text-secondary">{}</div>', extension))
        if row.assignee_id:
            name = row.assignee.full_name or row.assignee.username
            state.append(format_html('<div class="small text-secondary">{}</div>', name))
        if light:
            clock = format_html(
                '<span class="badge yq-light yq-light-{} request-light" title="{}" data-light="{}">{}</span>'
                '<div class="small">{}</div><div class="small text-secondary">{}</div>',
                light.css,
                light.hint,
                light.code,
                light.label,
                _local_minute(row.due_at),
                _remaining(row.due_at, now),
            )
        else:
            clock = mark_safe('<span class="text-secondary">—</span>')
        sent = _local_minute(row.sent_at) or format_html('<span class="text-secondary">{}</span>', not_sent)
        html.append(
            format_html(
                ROW_HTML,
                number=row.number,
                pk=row.pk,
                status=row.status,
                light=light.code if light else "",
                check=check,
                url=url,
                label=row.number or draft,
                urgent=format_html('<span class="badge bg-red-lt ms-1">{}</span>', urgent)
                if row.urgency == Urgency.URGENT
                else "",
                title=row.title,
                details=mark_safe("".join(details)),  # noqa: S308 - each part escaped by format_html
                side=side,
                state=mark_safe("".join(state)),  # noqa: S308 - each part escaped by format_html
                clock=clock,
                sent=sent,
            )
        )
    return mark_safe("\n".join(html)), any_to_sign  # noqa: S308 - each row escaped by format_html


ROW_HTML = (
    '<tr class="request-row" data-number="{number}" data-id="{pk}" data-status="{status}" data-light="{light}">'
    "{check}"
    '<td class="text-nowrap"><a href="{url}" class="request-link">{label}</a>{urgent}</td>'
    '<td><a href="{url}" class="fw-bold text-reset">{title}</a><div class="small text-secondary">{details}</div></td>'
    "<td>{side}</td>"
    "<td>{state}</td>"
    '<td class="text-nowrap">{clock}</td>'
    '<td class="text-nowrap small">{sent}</td>'
    "</tr>"
)


def _page_size(request) -> int:
    """``?per_page=`` if it is one of ``PAGE_SIZES``, else the default (an odd value is not an error worth a 400)."""
    value = request.GET.get("per_page", "")
    return int(value) if value.isdigit() and int(value) in PAGE_SIZES else PAGE_SIZES[0]


def _box_page(request, box: str, *, status: int = 200):
    user = request.user
    now = timezone.now()
    form = _style(BoxFilterForm(request.GET or None, box=box, user=user))
    base, chosen, rows = _box_rows(user, box, form, now)
    per_page = _page_size(request)
    # The page's ids first, then their rows: two simple queries plan and compile faster than one that both filters
    # (visible_to, the box, the filters) and joins (kind, agencies, regions, assignee).
    paginator = Paginator(chosen.order_by("-id").values_list("pk", flat=True), per_page)
    if user.agency_id and not (form.is_valid() and form.cleaned_data.get("light")):  # a light's count moves with time
        paginator.count = selectors.box_count(chosen, user.agency_id)
    page = paginator.get_page(request.GET.get("page"))
    # Only open requests carry a light: counting over them alone keeps the count on the box's covering index.
    counts = base.filter(status__in=selectors.OPEN).aggregate(
        **{code: Count("pk", filter=selectors.light_filter(code, now)) for code in LIGHT_LABELS},
    )
    can_sign = box == "inbox" and bool(user.agency_id) and services.acts_for(user, user.agency_id)
    can_write = bool(user.agency_id) and services.acts_for(user, user.agency_id)
    rows, any_to_sign = _box_rows_html(rows.filter(pk__in=list(page.object_list)), box, user, now, can_sign)
    query = request.GET.copy()
    query.pop("page", None)
    query["box"] = box
    return render(
        request,
        "assistance/box.html",
        {
            "box": box,
            "form": form,
            "page": page,
            "light_counts": [
                {"code": code, "label": label, "count": counts[code], "css": LIGHT_CSS[code]}
                for code, label in LIGHT_LABELS.items()
            ],
            "can_sign": can_sign,
            "rows": rows,
            "per_page": per_page,
            "page_sizes": PAGE_SIZES,
            "any_to_sign": any_to_sign,
            "can_write": can_write,
            "export_query": query.urlencode(),
            "title": BOX_TITLES[box],
            "escalated_open": selectors.escalated(user).filter(status__in=selectors.OPEN).count(),
        },
        status=status,
    )


@login_required
@require_GET
def inbox(request):
    """收文: what the user's agency receives (or what was escalated to it), as far as the user may see it."""
    return _box_page(request, "inbox")


@login_required
@require_GET
def outbox(request):
    """发文: what the user's agency sends, drafts included."""
    return _box_page(request, "outbox")


@login_required
@require_GET
def escalated(request):
    """督办: overdue requests escalated to the user's agency as a superior of their receiver."""
    return _box_page(request, "escalated")


@login_required
@require_GET
def export(request):
    """The filtered inbox, outbox or escalated box (same query string, ``box=outbox`` or ``box=escalated``) as an
    .xlsx workbook."""
    box = request.GET.get("box") if request.GET.get("box") in BOXES else "inbox"
    user = request.user
    now = timezone.now()
    form = BoxFilterForm(request.GET or None, box=box, user=user)
    if form.is_bound and not form.is_valid():
        return _box_page(request, box, status=400)
    _base, _chosen, rows = _box_rows(user, box, form, now)
    content = excel.export_requests(
        rows,
        box=box,
        now=now,
        limit=EXPORT_LIMIT,
        filters=excel.describe_filters(form),
        user=user,
    )
    name = _("%(box)s %(date)s") % {"box": BOX_TITLES[box], "date": timezone.localdate(now).isoformat()}
    response = HttpResponse(content, content_type=excel.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, _file_name(name, "xlsx", box))
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def bulk_sign(request):
    """签收所选: each chosen request of the inbox on its own; one refusal does not stop the others."""
    user = request.user
    if not user.agency_id or not services.acts_for(user, user.agency_id):
        raise PermissionDenied(_("Only the receiving agency's liaisons and case handlers may do this."))
    back = _next_url(request, reverse("assistance:inbox"))
    wanted = {int(value) for value in request.POST.getlist("ids") if value.isdigit()}
    if not wanted:
        messages.warning(request, _("Choose the requests to sign for."))
        return redirect(back)
    found = list(
        selectors.inbox(user).filter(pk__in=wanted).select_related("kind", "sender", "receiver").order_by("id")
    )
    signed, refused = services.sign_many(acting_user=user, requests=found)
    for obj in signed:
        messages.success(request, _("%(number)s signed for.") % {"number": obj.number})
    for obj, problem in refused:
        messages.error(request, _("%(number)s: %(problem)s") % {"number": obj.number, "problem": problem})
    missing = len(wanted) - len(found)
    if missing:
        messages.error(
            request,
            ngettext(
                "%(count)s of the chosen requests was not found.",
                "%(count)s of the chosen requests were not found.",
                missing,
            )
            % {"count": missing},
        )
    return redirect(back)


# --------------------------------------------------------------------------- writing a request


def _sendable_kinds(agency) -> list[RequestKind]:
    """The kinds the agency's type may send (kinds are a dozen rows: filtered in Python, the same on every DB)."""
    kinds = RequestKind.objects.filter(is_active=True).order_by("position", "id")
    return [kind for kind in kinds if agency.type in (kind.sender_types or [])]


def _require_writer(user):
    if not user.agency_id or not services.acts_for(user, user.agency_id):
        raise PermissionDenied(_("Only the liaisons and case handlers of an agency write its requests."))


def _save_draft(request, form: RequestForm, write):
    """``write()`` (create or update the draft) and the chosen files, all or nothing: a refused file leaves no
    draft behind. Returns the request, or None with the refusals on the form."""
    try:
        with transaction.atomic():
            obj = write()
            for name, label, upload in form.uploads():
                try:
                    services.attach(acting_user=request.user, request=obj, uploaded=upload, label=label)
                except ValidationError as exc:
                    raise ValidationError({name: exc.messages}) from exc
            return obj
    except ValidationError as exc:
        apply_errors(form, exc)
        _mark_invalid(form)
        return None
    except PermissionError as exc:
        raise _denied(exc) from exc


def _request_form_page(request, *, start, form, obj=None, kind=None, region=None, status=200):
    return render(
        request,
        "assistance/request_form.html",
        {
            "start": start,
            "form": form,
            "obj": obj,
            "kind": kind,
            "region": region,
            "title": _("Edit the draft") if obj is not None else _("New request"),
        },
        status=status,
    )


def _start_source(request):
    source = request.POST if request.method == "POST" else request.GET
    return source if ("kind" in source or "region" in source) else None


@login_required
@require_http_methods(["GET", "POST"])
@_conflict_page
def request_new(request):
    """Step one: the kind and the target region (a GET form). Step two: the receiver among the agencies routing
    proposes there, and the rest; saving writes a draft, sent from the request page."""
    user = request.user
    _require_writer(user)
    sender = user.agency
    kinds = _sendable_kinds(sender)
    if not kinds:
        raise PermissionDenied(_("Your agency may not send any kind of request."))
    start = _style(RequestStartForm(_start_source(request), kinds=kinds, user=user, auto_id="start-%s"))
    _choose(start, "kind")
    form = kind = region = None
    if start.is_bound and start.is_valid():
        kind, region = start.cleaned_data["kind"], start.cleaned_data["region"]
        candidates = routing.propose(user, kind, sender, region, limit=CANDIDATES)
        initial = {"receiver": candidates[0].agency.pk} if candidates else {}  # the best proposal, chosen
        form = _style(
            RequestForm(
                _posted(request),
                request.FILES or None,
                initial=initial,
                kind=kind,
                candidates=candidates,
                auto_id="request-%s",
            )
        )
        _choose(form, "receiver")
        if request.method == "POST" and form.is_valid():
            key = form.cleaned_data["idempotency_key"]
            existing = AssistanceRequest.objects.filter(sender=sender, idempotency_key=key).first() if key else None
            if existing is not None:  # the same form sent twice: the draft it wrote
                return redirect(_detail_url(existing))
            obj = _save_draft(
                request,
                form,
                lambda: services.create_request(
                    acting_user=user,
                    kind=kind,
                    sender=sender,
                    target_region=region,
                    idempotency_key=key,
                    **form.draft_values(),
                ),
            )
            if obj is not None:
                messages.success(request, _("Draft saved. Check it, then send it from this page."))
                return redirect(_detail_url(obj))
    status = 400 if request.method == "POST" else 200
    return _request_form_page(request, start=start, form=form, kind=kind, region=region, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@_conflict_page
def request_edit(request, pk: int):
    """A draft's (or a returned request's) sender changes it (the kind stays; a new target region proposes other
    receivers)."""
    obj = _visible_request(request, pk)
    user = request.user
    if not services.acts_for(user, obj.sender_id):
        raise PermissionDenied(_("Only the sending agency's liaisons and case handlers may do this."))
    if obj.status not in (RequestStatus.DRAFT, RequestStatus.RETURNED):
        raise Conflict(
            _("The request is %(status)s; only a draft can be edited.") % {"status": obj.get_status_display()}
        )
    kind = obj.kind
    region = obj.target_region or (obj.receiver.region if obj.receiver_id else None)
    source = _start_source(request)
    if source is None and region is not None:
        source = {"kind": str(kind.pk), "region": region.code}
    start = _style(RequestStartForm(source, kinds=[kind], user=user, auto_id="start-%s"))
    form = None
    if start.is_bound and start.is_valid():
        region = start.cleaned_data["region"]
        candidates = routing.propose(user, kind, obj.sender, region, limit=CANDIDATES)
        if obj.receiver_id and obj.receiver_id not in {c.agency.pk for c in candidates}:
            candidates.append(Counterpart(obj.receiver, 0, [_("chosen before")]))
        have = set(obj.attachments.exclude(label="").values_list("label", flat=True))
        properties = (kind.fields_schema or {}).get("properties") or {}
        initial = {
            "receiver": obj.receiver_id,
            "title": obj.title,
            "case_number": obj.case_number,
            "parties": obj.parties,
            "urgency": obj.urgency,
            "idempotency_key": obj.idempotency_key,
            **{
                f"f_{key}": detail_initial(properties.get(key) or {}, value)
                for key, value in (obj.fields or {}).items()
            },
        }
        form = _style(
            RequestForm(
                _posted(request),
                request.FILES or None,
                initial=initial,
                kind=kind,
                candidates=candidates,
                have_labels=have,
                auto_id="request-%s",
            )
        )
        _choose(form, "receiver")
        if request.method == "POST" and form.is_valid():
            saved = _save_draft(
                request,
                form,
                lambda: services.update_draft(
                    acting_user=user, request=obj, target_region=region, **form.draft_values()
                ),
            )
            if saved is not None:
                messages.success(request, _("Draft saved."))
                return redirect(_detail_url(saved))
    status = 400 if request.method == "POST" else 200
    return _request_form_page(request, start=start, form=form, obj=obj, kind=kind, region=region, status=status)


# --------------------------------------------------------------------------- the request page


def _fields_rows(obj: AssistanceRequest) -> list[dict]:
    """The details under the schema's titles, in its order; keys the schema no longer knows come last."""
    properties = (obj.kind.fields_schema or {}).get("properties") or {}
    values = obj.fields or {}
    rows = [
        {"key": key, "label": (spec or {}).get("title") or key, "value": values[key]}
        for key, spec in properties.items()
        if values.get(key) not in (None, "")
    ]
    rows += [{"key": key, "label": key, "value": value} for key, value in values.items() if key not in properties]
    return rows


def _clocks(obj: AssistanceRequest, now: datetime.datetime) -> list[dict]:
    running = deadlines.running_clock(obj.kind, obj) if obj.status != RequestStatus.DRAFT else None
    rows = []
    for name, due, done in (
        ("sign", obj.sign_due_at, obj.received_at),
        ("accept", obj.accept_due_at, obj.accepted_at),
        ("finish", obj.finish_due_at, obj.answered_at),
    ):
        if due is None and done is None:
            continue
        is_running = running is not None and running.name == name
        rows.append(
            {
                "name": name,
                "label": CLOCK_LABELS[name],
                "due": due,
                "done": done if not is_running else None,
                "late": bool(due and done and done > due and not is_running),
                "running": is_running,
                "remaining": _remaining(due, now) if is_running and obj.status != RequestStatus.PAUSED else "",
            }
        )
    return rows


def _event_text(event: RequestEvent, names: dict[int, str]) -> str:
    data = event.data or {}
    if event.kind == EventKind.FORWARDED:
        return _("%(from)s → %(to)s: %(reason)s") % {
            "from": names.get(data.get("from"), "—"),
            "to": names.get(data.get("to"), "—"),
            "reason": data.get("reason", ""),
        }
    if event.kind == EventKind.ESCALATED:
        return _("To %(agency)s (level %(level)s)") % {
            "agency": names.get(data.get("to"), "—"),
            "level": data.get("level", ""),
        }
    if event.kind in (EventKind.EXTENSION_REQUESTED, EventKind.EXTENSION_GRANTED, EventKind.EXTENSION_REFUSED):
        text = ngettext("%(count)s day", "%(count)s days", data.get("days") or 0) % {"count": data.get("days") or 0}
        extra = data.get("reason") or data.get("note") or ""
        return f"{text} · {extra}" if extra else text
    return data.get("reason") or data.get("note") or ""


def _detail_page(request, obj: AssistanceRequest, *, message_form=None, attachment_form=None, status=200):
    """The whole request on one page, in a fixed number of queries."""
    user = request.user
    now = timezone.now()
    sides = _sides(user, obj)
    party = sides[SENDER] or sides[RECEIVER]
    hops = list(RequestHop.objects.filter(request=obj).select_related("from_agency", "to_agency", "by"))
    names = {a.pk: a.name for a in (obj.sender, obj.receiver, obj.escalated_to) if a is not None}
    for hop in hops:
        names[hop.from_agency_id] = hop.from_agency.name
        names[hop.to_agency_id] = hop.to_agency.name
    events = list(
        RequestEvent.objects.filter(request=obj)
        .exclude(kind=EventKind.MESSAGE)
        .select_related("actor", "actor_agency")
        .order_by("-id")[:TIMELINE_LIMIT]
    )
    events.reverse()
    for event in events:
        event.text = _event_text(event, names)
    thread = list(
        RequestMessage.objects.filter(request=obj)
        .select_related("author", "agency")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("-id")[:THREAD_LIMIT]
    )
    thread.reverse()
    for message in thread:
        message.is_ours = bool(user.agency_id) and message.agency_id == user.agency_id
    attachments = list(Attachment.objects.filter(request=obj).select_related("agency", "uploaded_by").order_by("id"))
    have_labels = {a.label for a in attachments if a.label}
    required = [{"label": label, "attached": label in have_labels} for label in obj.kind.required_attachments]
    receipt_rows = list(Receipt.objects.filter(request=obj).select_related("issued_by", "issued_to").order_by("id"))
    for receipt in receipt_rows:
        receipt.downloadable = bool(user.agency_id) and user.agency_id in (receipt.issued_by_id, receipt.issued_to_id)
    can_message = party and obj.status != RequestStatus.DRAFT
    can_attach = party and obj.status not in (RequestStatus.CLOSED, RequestStatus.WITHDRAWN)
    if can_message and message_form is None:
        message_form = MessageForm(auto_id="message-%s")
    if can_attach and attachment_form is None:
        attachment_form = AttachmentForm(labels=obj.kind.required_attachments, auto_id="attachment-%s")
    light = Light(deadlines.light(obj, now))
    steps = available_steps(user, obj)
    return render(
        request,
        "assistance/request_detail.html",
        {
            "obj": obj,
            "light": light,
            "status_css": STATUS_CSS.get(obj.status, "bg-secondary-lt"),
            "remaining": _remaining(obj.due_at, now) if light.code in ("red", "yellow", "green") else "",
            "clocks": _clocks(obj, now),
            "hops": hops,
            "fields_rows": _fields_rows(obj),
            "events": events,
            "thread": thread,
            "attachments": attachments,
            "required": required,
            "receipts": receipt_rows,
            "steps": [{"slug": s.slug, "label": s.label, "form": s.form, "css": s.css} for s in steps],
            "can_edit": sides[SENDER] and obj.status in (RequestStatus.DRAFT, RequestStatus.RETURNED),
            "sides": sides,
            "message_form": _style(message_form) if can_message else None,
            "attachment_form": _style(attachment_form) if can_attach else None,
            "title": obj.title,
        },
        status=status,
    )


@login_required
@require_GET
def request_detail(request, pk: int):
    return _detail_page(request, _visible_request(request, pk))


@login_required
@require_POST
@_conflict_page
def message_new(request, pk: int):
    """一案一议: a message (with files) in the request's thread."""
    obj = _visible_request(request, pk)
    sides = _sides(request.user, obj)
    if not (sides[SENDER] or sides[RECEIVER]):
        raise PermissionDenied(_("Only the two agencies' liaisons and case handlers write in the request's thread."))
    form = MessageForm(request.POST, request.FILES, auto_id="message-%s")
    if form.is_valid():
        try:
            services.post_message(
                acting_user=request.user, request=obj, text=form.cleaned_data["text"], files=form.cleaned_data["files"]
            )
        except ValidationError as exc:
            apply_errors(form, exc, {"file": "files"})
        except PermissionError as exc:
            raise _denied(exc) from exc
        else:
            messages.success(request, _("Message sent."))
            return redirect(_detail_url(obj, "thread"))
    return _detail_page(request, obj, message_form=form, status=400)


@login_required
@require_POST
@_conflict_page
def attachment_new(request, pk: int):
    obj = _visible_request(request, pk)
    sides = _sides(request.user, obj)
    if not (sides[SENDER] or sides[RECEIVER]):
        raise PermissionDenied(_("Only the two agencies' liaisons and case handlers add files to a request."))
    form = AttachmentForm(request.POST, request.FILES, labels=obj.kind.required_attachments, auto_id="attachment-%s")
    if form.is_valid():
        try:
            attachment = services.attach(
                acting_user=request.user,
                request=obj,
                uploaded=form.cleaned_data["file"],
                label=form.cleaned_data["label"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionError as exc:
            raise _denied(exc) from exc
        else:
            messages.success(request, _("%(name)s attached.") % {"name": attachment.name})
            return redirect(_detail_url(obj, "attachments"))
    return _detail_page(request, obj, attachment_form=form, status=400)


# --------------------------------------------------------------------------- steps


def _step_form(step: str, request, obj: AssistanceRequest):
    """The form a step asks for (bound on POST)."""
    data, files = _posted(request), request.FILES if request.method == "POST" else None
    if step == "return":
        return ReasonForm(data, label=_("Why is it returned?"), auto_id="step-%s")
    if step == "pause":
        return ReasonForm(data, label=_("What material is missing?"), auto_id="step-%s")
    if step == "reopen":
        return ReasonForm(data, label=_("Why is it reopened?"), auto_id="step-%s")
    if step == "withdraw":
        return ReasonForm(data, label=_("Why is it withdrawn?"), required=False, auto_id="step-%s")
    if step == "answer":
        return AnswerForm(data, files, auto_id="step-%s")
    if step == "extension":
        return ExtensionForm(data, limit=obj.kind.max_extension_days, auto_id="step-%s")
    if step == "forward":
        return ForwardForm(data, candidates=_forward_candidates(request, obj), auto_id="step-%s")
    if step == "assign":
        departments = list(Department.objects.filter(agency_id=obj.receiver_id).order_by("name"))
        people = list(
            User.objects.filter(
                agency_id=obj.receiver_id, is_active=True, role_grants__role__in=[Role.LIAISON, Role.HANDLER]
            )
            .select_related("department")
            .distinct()
            .order_by("department__name", "username")
        )
        initial = {"department": obj.receiver_department_id, "assignee": obj.assignee_id}
        return AssignForm(data, initial=initial, departments=departments, people=people, auto_id="step-%s")
    raise Http404


def _forward_region(request, obj: AssistanceRequest):
    """The region whose agencies are offered for 转办: ``?region=`` (a name or code), else the target region, else
    the receiver's."""
    from yipanqi.directory.forms import CounterpartForm

    wanted = request.GET.get("region") or request.POST.get("region") or ""
    if wanted:
        form = CounterpartForm({"region": wanted}, user=request.user)
        if form.is_valid():
            return form.cleaned_data["region"]
    return obj.target_region or obj.receiver.region


def _forward_candidates(request, obj: AssistanceRequest) -> list[Counterpart]:
    region = _forward_region(request, obj)
    request.assistance_forward_region = region
    candidates = routing.propose(request.user, obj.kind, obj.sender, region, limit=CANDIDATES + 2)
    return [c for c in candidates if c.agency.pk not in (obj.sender_id, obj.receiver_id)][:CANDIDATES]


def _run_step(step: str, request, obj: AssistanceRequest, form) -> AssistanceRequest:
    """Call the step's service (a form step with its cleaned data)."""
    user = request.user
    note = (request.POST.get("note") or "").strip()
    if step == "send":
        return services.send(acting_user=user, request=obj)
    if step == "sign":
        return services.sign(acting_user=user, request=obj)
    if step == "accept":
        return services.accept(acting_user=user, request=obj)
    if step == "start":
        return services.start(acting_user=user, request=obj)
    if step == "close":
        return services.close(acting_user=user, request=obj)
    if step == "resume":
        return services.resume(acting_user=user, request=obj, note=note)
    if step in ("extension-grant", "extension-refuse"):
        return services.decide_extension(acting_user=user, request=obj, grant=step == "extension-grant", note=note)
    data = form.cleaned_data
    if step == "return":
        return services.return_request(acting_user=user, request=obj, reason=data["reason"])
    if step == "pause":
        return services.pause(acting_user=user, request=obj, reason=data["reason"])
    if step == "reopen":
        return services.reopen(acting_user=user, request=obj, reason=data["reason"])
    if step == "withdraw":
        return services.withdraw(acting_user=user, request=obj, reason=data["reason"])
    if step == "forward":
        return services.forward(acting_user=user, request=obj, to=data["to"], reason=data["reason"])
    if step == "extension":
        return services.request_extension(acting_user=user, request=obj, days=data["days"], reason=data["reason"])
    if step == "assign":
        return services.assign(acting_user=user, request=obj, department=data["department"], assignee=data["assignee"])
    if step == "answer":
        with transaction.atomic():  # the answer and its document, or neither
            if data.get("file"):
                try:
                    services.attach(
                        acting_user=user, request=obj, uploaded=data["file"], label=data.get("label") or _("Answer")
                    )
                except ValidationError as exc:
                    raise ValidationError({"file": exc.messages}) from exc
            return services.answer(acting_user=user, request=obj, result=data["result"])
    raise Http404


def _success(step: str, obj: AssistanceRequest) -> str:
    number = obj.number or _("the draft")
    texts = {
        "send": _("Sent as %(number)s: the receiver is told, the signing clock runs."),
        "sign": _("%(number)s signed for: the sender gets a receipt."),
        "accept": _("%(number)s accepted (受理): the finishing clock runs."),
        "start": _("Work on %(number)s started."),
        "close": _("%(number)s closed."),
        "resume": _("Material supplied: the clock of %(number)s runs again."),
        "extension-grant": _("Extension of %(number)s granted."),
        "extension-refuse": _("Extension of %(number)s refused."),
        "return": _("%(number)s returned to the sender."),
        "pause": _("The sender of %(number)s is asked for more material; the clock stands still."),
        "reopen": _("%(number)s reopened."),
        "withdraw": _("%(number)s withdrawn."),
        "forward": _("%(number)s forwarded."),
        "extension": _("More time for %(number)s asked for."),
        "assign": _("%(number)s assigned."),
        "answer": _("%(number)s answered: the sender gets a receipt."),
    }
    return texts[step] % {"number": number}


@login_required
@require_http_methods(["GET", "POST"])
@_conflict_page
def request_step(request, pk: int, step: str):
    """One lifecycle step. Steps without input are a POST from the request page; the others show a small form."""
    spec = STEPS.get(step)
    if spec is None:
        raise Http404
    obj = _visible_request(request, pk)
    sides = _sides(request.user, obj)
    if not sides[spec.side]:
        if spec.side == SENDER:
            raise PermissionDenied(_("Only the sending agency's liaisons and case handlers may do this."))
        raise PermissionDenied(_("Only the receiving agency's liaisons and case handlers may do this."))
    if not spec.form:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            done = _run_step(step, request, obj, None)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        except PermissionError as exc:
            raise _denied(exc) from exc
        else:
            messages.success(request, _success(step, done))
        return redirect(_detail_url(obj))
    if request.method == "GET" and not _can(spec, obj, sides):
        raise Conflict(
            _("The request is %(status)s: “%(step)s” cannot be done now.")
            % {"status": obj.get_status_display(), "step": spec.label}
        )
    form = _style(_step_form(step, request, obj))
    if step == "forward":
        _choose(form, "to")
    if request.method == "POST" and form.is_valid():
        try:
            done = _run_step(step, request, obj, form)
        except ValidationError as exc:
            apply_errors(form, exc)
            _mark_invalid(form)
        except PermissionError as exc:
            raise _denied(exc) from exc
        else:
            messages.success(request, _success(step, done))
            return redirect(_detail_url(obj))
    return render(
        request,
        "assistance/step_form.html",
        {
            "obj": obj,
            "form": form,
            "step": spec,
            "light": Light(deadlines.light(obj, timezone.now())),
            "status_css": STATUS_CSS.get(obj.status, "bg-secondary-lt"),
            "forward_region": getattr(request, "assistance_forward_region", None),
            "title": STEP_TITLES.get(step, spec.label),
        },
        status=400 if request.method == "POST" else 200,
    )


# --------------------------------------------------------------------------- files


@login_required
@require_GET
def attachment_download(request, pk: int):
    """An attachment, after the permission check; never from a public media URL."""
    user = request.user
    attachment = get_object_or_404(
        Attachment.objects.visible_to(user)
        .select_related("request")
        .only(
            "id",
            "name",
            "content_type",
            "size",
            "sha256",
            "file",
            "request__id",
            "request__status",
            "request__sender_id",
        ),
        pk=pk,
    )
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404(_("The file is missing from the file store.")) from exc
    response = FileResponse(handle, as_attachment=True, filename=attachment.name, content_type=attachment.content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # RFC 9530: the SHA-256 the platform recorded, so that the client can check what it received.
    response["Repr-Digest"] = "sha-256=:{}:".format(base64.b64encode(bytes.fromhex(attachment.sha256)).decode("ascii"))
    return response


@login_required
@require_GET
def receipt_download(request, pk: int, fmt: str):
    """A receipt (回执) as JSON (the signed-over payload and its digest) or as a printable PDF: for the two agencies
    it passed between only."""
    if fmt not in receipts.FORMATS:
        raise Http404
    user = request.user
    receipt = get_object_or_404(
        Receipt.objects.visible_to(user).select_related("request__kind", "issued_by", "issued_to"), pk=pk
    )
    if not user.agency_id or user.agency_id not in (receipt.issued_by_id, receipt.issued_to_id):
        raise PermissionDenied(_("Only the two agencies of a receipt may download it."))
    content = receipts.render_json(receipt) if fmt == "json" else receipts.render_pdf(receipt)
    response = HttpResponse(content, content_type=receipts.FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(
        True, _file_name(receipts.file_stem(receipt), fmt, f"receipt-{receipt.pk}")
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --------------------------------------------------------------------------- analytics


@login_required
def analytics(request, **kwargs):
    """The circle's analytics page lives in ``analytics.py``."""
    from .analytics import analytics_page

    return analytics_page(request)
