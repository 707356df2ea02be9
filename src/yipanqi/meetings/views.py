"""Meeting pages (联席会议): the series with their rotation, each meeting on one page (status, agenda, decisions,
minutes), and the forms that run a meeting through its cycle.

Reads start from ``visible_to(request.user)`` (not visible → 404). Writes call ``yipanqi.meetings.services``: a
``ValidationError`` becomes form errors (the ledger's ``_run_service``), a ``PermissionError`` a 403 and a
``Conflict`` (e.g. approved minutes are frozen) a page with HTTP 409 that says why. The meeting page reads a fixed
number of queries whatever the size of its agenda: topics come 50 to a page with their measures and decisions
prefetched, and lights and decision states are computed in Python from those rows.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yipanqi.core.conflicts import conflict_page
from yipanqi.core.errors import Conflict
from yipanqi.core.files import serve_stored_file
from yipanqi.directory.forms import style_form
from yipanqi.directory.models import Agency, Circle, Role, User
from yipanqi.ledger import selectors as ledger_selectors
from yipanqi.ledger.forms import signatory_candidates
from yipanqi.ledger.models import Agreement, Measure
from yipanqi.ledger.views import Light, _creatable_circles, _next_url, _posted, _run_service

from . import selectors, services
from .forms import CommentForm, DecisionForm, MeetingForm, MinutesForm, SeriesForm, TopicForm
from .models import (
    Decision,
    DecisionKind,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    MinutesApproval,
    MinutesStatus,
    SeriesMember,
    Topic,
    TopicOutcome,
)

SERIES_PER_PAGE = 20
MEETINGS_PER_PAGE = 20
TOPICS_PER_PAGE = 50
EARLIER_PER_PAGE = 30
BEFORE_HELD = (MeetingStatus.PLANNED, MeetingStatus.AGENDA_OPEN, MeetingStatus.AGENDA_CLOSED)
AFTER_AGENDA = (MeetingStatus.AGENDA_CLOSED, MeetingStatus.HELD)
MEASURE_ROW = ("id", "number", "title", "status", "agreement_id", "path", *selectors.LIGHT_FIELDS)
DECISION_ROW = (
    "id",
    "meeting_id",
    "topic_id",
    "position",
    "kind",
    "title",
    "text",
    "target",
    "lead_id",
    "due_on",
    "new_due_on",
    "created_measure_id",
    "applied_at",
)
TOPIC_ROW = (
    "id",
    "meeting_id",
    "position",
    "title",
    "description",
    "outcome",
    "proposed_by_agency__id",
    "proposed_by_agency__name",
    "proposed_by__id",
    "proposed_by__username",
    "proposed_by__full_name",
    "carried_from__id",
    "carried_from__meeting__id",
    "carried_from__meeting__number",
)

STATE_LABELS = {
    "noted": gettext_lazy("For information"),
    "awaiting_minutes": gettext_lazy("Awaiting the minutes"),
    "applied": gettext_lazy("Entered in the ledger"),
    "in_progress": gettext_lazy("In progress"),
    "done": gettext_lazy("Done"),
}
# Words repeated on every agenda row: translated once per page, not once per row.
ROW_LABELS = {
    "edit": gettext_lazy("Edit"),
    "lead": gettext_lazy("Lead agency (主办)"),
    "co_owners": gettext_lazy("Co-owners (协办)"),
    "deadline": gettext_lazy("Deadline"),
    "updates": gettext_lazy("Measures to update"),
    "proposed_by": gettext_lazy("Proposed by"),
    "coordination_office": gettext_lazy("the coordination office"),
}
KIND_CSS = {"info": "bg-secondary-lt", "new": "bg-primary-lt", "update": "bg-azure-lt"}
# meeting-step slugs → (service, the status it starts from, button label, message)
STEPS = {
    "open-agenda": (
        services.open_agenda,
        MeetingStatus.PLANNED,
        gettext_lazy("Open the agenda"),
        gettext_lazy("The agenda is open: members may propose topics."),
    ),
    "close-agenda": (
        services.close_agenda,
        MeetingStatus.AGENDA_OPEN,
        gettext_lazy("Close the agenda"),
        gettext_lazy("The agenda is closed."),
    ),
    "held": (
        services.mark_held,
        MeetingStatus.AGENDA_CLOSED,
        gettext_lazy("Record the meeting as held"),
        gettext_lazy("The meeting is recorded as held. Record the outcomes and decisions, then draft the minutes."),
    ),
}


# --------------------------------------------------------------------------- helpers


def _back_to_meeting(request):
    meeting = getattr(request, "meetings_meeting", None)
    if meeting is None:
        return None
    return reverse("meetings:meeting", args=[meeting.pk]), _("Back to the meeting")


_conflict_page = conflict_page(_back_to_meeting)  # a Conflict (the meeting's state forbids the change) → 409


def _style(form):
    """``style_form``, keeping the forms' own empty choices (“— none —”) where it would write “All”."""
    empty = {}
    for name, field in form.fields.items():
        if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.MultipleChoiceField):
            choices = list(field.choices)
            if choices and choices[0][0] == "":
                empty[name] = choices
    style_form(form)
    for name, choices in empty.items():
        form.fields[name].choices = choices
    return form


def _denied(exc: PermissionError):
    return PermissionDenied(str(exc))


def _act(request, service, success: str, **kwargs):
    """A button's service call: refusals of input become an error message (nothing written), PermissionError a 403,
    Conflict the 409 page."""
    try:
        result = service(acting_user=request.user, **kwargs)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return None
    except PermissionError as exc:
        raise _denied(exc) from exc
    messages.success(request, success)
    return result


def _frozen_message() -> str:
    return _("The minutes of this meeting are approved by every member: it can no longer be changed.")


def _refuse_frozen(meeting: Meeting) -> None:
    if meeting.is_frozen:
        raise Conflict(_frozen_message())


def _visible_series(request, pk: int) -> MeetingSeries:
    return get_object_or_404(
        MeetingSeries.objects.visible_to(request.user).select_related("circle", "standing_agreement", "next_host"),
        pk=pk,
    )


def _visible_meeting(request, pk: int) -> Meeting:
    meeting = get_object_or_404(
        Meeting.objects.visible_to(request.user).select_related("series__circle", "host"), pk=pk
    )
    request.meetings_meeting = meeting  # the way back from a 409 page
    return meeting


def _visible_topic(request, pk: int) -> Topic:
    topic = get_object_or_404(
        Topic.objects.visible_to(request.user).select_related(
            "meeting__series__circle", "meeting__host", "proposed_by_agency"
        ),
        pk=pk,
    )
    request.meetings_meeting = topic.meeting
    return topic


def _visible_decision(request, pk: int) -> Decision:
    decision = get_object_or_404(
        Decision.objects.visible_to(request.user).select_related(
            "meeting__series__circle", "meeting__host", "topic", "lead"
        ),
        pk=pk,
    )
    decision.topic.meeting = decision.meeting
    request.meetings_meeting = decision.meeting
    return decision


def _meeting_url(meeting: Meeting, anchor: str = "") -> str:
    url = reverse("meetings:meeting", args=[meeting.pk])
    return f"{url}#{anchor}" if anchor else url


def _member_agencies(series: MeetingSeries) -> list[Agency]:
    return [seat.agency for seat in selectors.seats(series)]


def _is_member_liaison(user, member_ids) -> bool:
    return bool(user.agency_id) and user.agency_id in member_ids and user.has_role(Role.LIAISON)


def _ordered_seats(series: MeetingSeries, seats: list[SeriesMember]) -> list[SeriesMember]:
    return selectors.order_seats(series.rotation_rule, seats)


def proposed_host_from(series: MeetingSeries, seats: list[SeriesMember], meetings: list[Meeting]) -> Agency | None:
    """``selectors.proposed_host`` from rows already loaded: the series list shows it for a page of series at once."""
    ordered = [seat.agency for seat in _ordered_seats(series, seats)]
    hosted = [(m.number, m.host_id) for m in meetings]
    return selectors.next_host(series.rotation_rule, ordered, hosted, series.next_host_id)


class _Rows:
    """What every row of the agenda repeats, prepared once per page: translated words, and the ledger's light and
    progress snippets (ledger/_light.html, ledger/_progress.html) rendered once per distinct value. A page shows
    hundreds of decisions; rendering two includes for each was most of its time."""

    def __init__(self, today: date):
        self.today = today
        self.labels = {key: str(label) for key, label in ROW_LABELS.items()}
        self.states = {key: str(label) for key, label in STATE_LABELS.items()}
        self.kinds = {key: str(label) for key, label in DecisionKind.choices}
        self._snippets: dict[tuple, str] = {}

    def light(self, code: str) -> str:
        """The rendered light badge (safe HTML; empty without a light)."""
        if not code:
            return ""
        key = ("light", code)
        if key not in self._snippets:
            self._snippets[key] = render_to_string("ledger/_light.html", {"light": Light(code)})
        return self._snippets[key]

    def progress(self, value: int | None) -> str:
        if value is None:
            return ""
        key = ("progress", value)
        if key not in self._snippets:
            self._snippets[key] = render_to_string("ledger/_progress.html", {"value": value})
        return self._snippets[key]

    def state(self, decision: Decision) -> dict:
        state = selectors.decision_state(decision, self.today)
        return {
            **state,
            "label": self.states.get(state["code"], ""),
            "light_html": self.light(state["light"]),
            "progress_html": self.progress(state["progress"]),
        }

    def details(self, decision: Decision) -> str:
        """主办 · 协办 · deadline · the measures it updates, as one line of HTML."""
        labels, parts = self.labels, []
        if decision.lead_id:
            parts.append(format_html('<span class="decision-lead">{}: {}</span>', labels["lead"], decision.lead.name))
        if decision.co_owner_names:
            parts.append(
                format_html(
                    '<span class="decision-co-owners">{}: {}</span>', labels["co_owners"], decision.co_owner_names
                )
            )
        if decision.due_on:
            parts.append(format_html("{} {}", labels["deadline"], decision.due_on.isoformat()))
        if decision.updated:
            links = format_html_join("、", '<a href="{}">{}</a>', ((m.url, m.number) for m in decision.updated))
            text = format_html("{}: {}", labels["updates"], links)
            if decision.new_due_on:
                text = format_html("{} → {}", text, decision.new_due_on.isoformat())
            parts.append(text)
        return format_html_join(" · ", "{}", ((part,) for part in parts))


def _stepper(meeting: Meeting) -> list[dict]:
    current = list(MeetingStatus).index(MeetingStatus(meeting.status))
    return [
        {
            "code": status.value,
            "label": status.label,
            "done": i < current,
            "current": i == current,
        }
        for i, status in enumerate(MeetingStatus)
    ]


# --------------------------------------------------------------------------- series


@login_required
@require_GET
def series_list(request):
    user = request.user
    series = (
        MeetingSeries.objects.visible_to(user)
        .select_related("circle")
        .prefetch_related(
            Prefetch(
                "seats",
                queryset=SeriesMember.objects.select_related("agency").only(
                    "id", "series_id", "position", "joined_at", "agency__id", "agency__name", "agency__short_name"
                ),
            ),
            Prefetch(
                "meetings",
                queryset=Meeting.objects.only(
                    "id", "series_id", "number", "title", "starts_at", "place", "host_id", "status"
                ).order_by("number"),
            ),
        )
        .order_by("title", "id")
    )
    page = Paginator(series, SERIES_PER_PAGE).get_page(request.GET.get("page"))
    for item in page.object_list:
        seats = list(item.seats.all())
        meetings = list(item.meetings.all())
        item.member_list = [seat.agency for seat in _ordered_seats(item, seats)]
        item.proposed = proposed_host_from(item, seats, meetings)
        upcoming = [m for m in meetings if m.status in BEFORE_HELD]  # the next one to be held, even if late
        item.next_meeting = min(upcoming, key=lambda m: m.starts_at) if upcoming else None
        if item.next_meeting is not None:
            item.next_meeting.series = item
        item.meeting_count = len(meetings)
    return render(
        request,
        "meetings/series_list.html",
        {
            "page": page,
            "can_create": bool(user.coordinated_circle_ids) or user.is_platform_admin,
            "title": _("Joint meetings"),
        },
    )


def _series_form(request, circle: Circle | None, *, series: MeetingSeries | None = None):
    current = _member_agencies(series) if series is not None else []
    candidates = list(signatory_candidates(circle)) if circle is not None else []
    known = {a.pk for a in candidates}
    candidates += [a for a in current if a.pk not in known]  # a series outside any circle: its own members
    agreements = Agreement.objects.visible_to(request.user).only("id", "title").order_by("-signed_on", "-id")
    agreements = list(agreements.filter(circle=circle) if circle is not None else agreements.none())
    if series is not None and series.standing_agreement_id and series.standing_agreement not in agreements:
        agreements.append(series.standing_agreement)
    initial = {}
    if series is not None:
        initial = {
            "title": series.title,
            "kind": series.kind,
            "members": [a.pk for a in current],
            "rotation_rule": series.rotation_rule,
            "next_host": series.next_host_id or "",
            "standing_agreement": series.standing_agreement_id or "",
            "description": series.description,
        }
    return _style(SeriesForm(_posted(request), initial=initial, candidates=candidates, agreements=agreements))


@login_required
@require_http_methods(["GET", "POST"])
def series_new(request):
    """A coordination office sets up a series of its circle: members in rotation order, the standing agreement."""
    choices = list(_creatable_circles(request.user).only("pk", "name", "short_name"))
    if not choices:
        raise PermissionDenied(_("Only the coordination office of a cooperation circle sets up meeting series."))
    wanted = request.POST.get("circle") or request.GET.get("circle") or ""
    circle = next((c for c in choices if str(c.pk) == wanted), None)
    if circle is None and len(choices) == 1:
        circle = choices[0]
    form = None
    if circle is not None:
        form = _series_form(request, circle)
        if request.method == "POST" and form.is_valid():
            series = _run_service(
                form, services.create_series, acting_user=request.user, circle=circle, **form.cleaned_data
            )
            if series is not None:
                messages.success(request, _("Meeting series created. Schedule its first meeting."))
                return redirect("meetings:series", pk=series.pk)
    return render(
        request,
        "meetings/series_form.html",
        {"form": form, "circle": circle, "circles": choices, "title": _("New meeting series")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def series_edit(request, pk: int):
    series = _visible_series(request, pk)
    if not services.manages_series(request.user, series):
        raise PermissionDenied(_("Only the coordinators of the series' circle may change this series."))
    form = _series_form(request, series.circle, series=series)
    if request.method == "POST" and form.is_valid():
        done = _run_service(form, services.update_series, acting_user=request.user, series=series, **form.cleaned_data)
        if done is not None:
            messages.success(request, _("Meeting series saved."))
            return redirect("meetings:series", pk=series.pk)
    return render(
        request,
        "meetings/series_form.html",
        {"form": form, "series": series, "circle": series.circle, "title": _("Edit the meeting series")},
    )


def _meeting_form(request, series: MeetingSeries, members: list[Agency], *, meeting: Meeting | None, hosts, data):
    """The schedule / edit form: ``hosts`` are the agencies the user may name as host."""
    member_ids = {a.pk for a in members}
    current_agencies = list(meeting.participant_agencies.all()) if meeting is not None else []
    others = list(signatory_candidates(series.circle).exclude(pk__in=member_ids)) if series.circle_id else []
    known = {a.pk for a in others}
    others += [a for a in current_agencies if a.pk not in known and a.pk not in member_ids]
    current_people = list(meeting.participant_people.select_related("agency")) if meeting is not None else []
    people = list(
        User.objects.visible_to(request.user)
        .filter(agency_id__in=member_ids | {a.pk for a in current_agencies}, is_active=True)
        .select_related("agency")
        .order_by("agency_id", "id")
    )
    seen = {p.pk for p in people}
    people += [p for p in current_people if p.pk not in seen]
    if meeting is not None:
        initial = {
            "title": meeting.title,
            "starts_at": timezone.localtime(meeting.starts_at),
            "ends_at": timezone.localtime(meeting.ends_at) if meeting.ends_at else None,
            "place": meeting.place,
            "host": meeting.host_id,
            "agenda_deadline": meeting.agenda_deadline,
            "participant_agencies": [a.pk for a in current_agencies],
            "participant_people": [p.pk for p in current_people],
            "minutes_as_agreement": meeting.minutes_as_agreement,
        }
    else:
        proposed = selectors.proposed_host(series)
        default = proposed if proposed in hosts else (hosts[0] if len(hosts) == 1 else None)
        initial = {"host": default.pk if default else "", "participant_agencies": sorted(member_ids)}
    form = MeetingForm(
        data,
        initial=initial,
        members=members,
        others=others,
        people=people,
        host_required=meeting is not None or len(hosts) == 1,
    )
    allowed = {a.pk for a in hosts}
    host = form.fields["host"]
    host.choices = [(k, v) for k, v in host.choices if k == "" or k in allowed]
    return _style(form)


def _schedulers(user, series: MeetingSeries, members: list[Agency]) -> list[Agency]:
    """The agencies the user may schedule a meeting for: any member (the series' managers), else their own agency
    when they are its liaison."""
    if services.manages_series(user, series):
        return members
    return [a for a in members if a.pk == user.agency_id and user.has_role(Role.LIAISON)]


@login_required
@require_GET
def series_detail(request, pk: int):
    user = request.user
    series = _visible_series(request, pk)
    rotation = selectors.rotation(series)
    proposed = selectors.proposed_host(series)
    member_ids = {a.pk for a in rotation}
    meetings = Paginator(
        Meeting.objects.filter(series=series).select_related("host").order_by("-number"), MEETINGS_PER_PAGE
    ).get_page(request.GET.get("page"))
    for meeting in meetings.object_list:
        meeting.series = series
    can_manage = services.manages_series(user, series)
    hosts = _schedulers(user, series, rotation)
    form = None
    if hosts:
        form = _meeting_form(request, series, rotation, meeting=None, hosts=hosts, data=None)
    sees_agreement = bool(
        series.standing_agreement_id
        and Agreement.objects.visible_to(user).filter(pk=series.standing_agreement_id).exists()
    )
    return render(
        request,
        "meetings/series_detail.html",
        {
            "series": series,
            "rotation": rotation,
            "proposed": proposed,
            "is_member": user.agency_id in member_ids,
            "meetings": meetings,
            "can_manage": can_manage,
            "schedule_form": form,
            "sees_agreement": sees_agreement,
            "title": series.title,
        },
    )


# --------------------------------------------------------------------------- meetings


@login_required
@require_http_methods(["GET", "POST"])
@_conflict_page
def meeting_new(request, pk: int):
    """Schedule the series' next meeting (the series' managers, or a member's liaison hosting it)."""
    series = _visible_series(request, pk)
    members = _member_agencies(series)
    hosts = _schedulers(request.user, series, members)
    if not hosts:
        raise PermissionDenied(_("Only the series' coordinators and the host agency may schedule a meeting."))
    form = _meeting_form(request, series, members, meeting=None, hosts=hosts, data=_posted(request))
    if request.method == "POST" and form.is_valid():
        meeting = _run_service(
            form, services.schedule_meeting, acting_user=request.user, series=series, **form.cleaned_data
        )
        if meeting is not None:
            messages.success(
                request,
                _("Meeting No. %(number)s scheduled, hosted by %(host)s.")
                % {"number": meeting.number, "host": meeting.host.name},
            )
            return redirect("meetings:meeting", pk=meeting.pk)
    return _form_page(
        request,
        form,
        series=series,
        form_kind="meeting",
        submit_label=_("Schedule"),
        cancel_url=reverse("meetings:series", args=[series.pk]),
        title=_("Schedule a meeting"),
    )


@login_required
@require_http_methods(["GET", "POST"])
@_conflict_page
def meeting_edit(request, pk: int):
    meeting = _visible_meeting(request, pk)
    if not services.runs(request.user, meeting):
        raise PermissionDenied(_("Only the host agency and the series' coordinators may do this."))
    _refuse_frozen(meeting)
    series = meeting.series
    members = _member_agencies(series)
    form = _meeting_form(request, series, members, meeting=meeting, hosts=members, data=_posted(request))
    if request.method == "POST" and form.is_valid():
        done = _run_service(
            form, services.update_meeting, acting_user=request.user, meeting=meeting, **form.cleaned_data
        )
        if done is not None:
            messages.success(request, _("Meeting saved."))
            return redirect("meetings:meeting", pk=meeting.pk)
    return _form_page(
        request,
        form,
        meeting=meeting,
        series=series,
        form_kind="meeting",
        submit_label=_("Save"),
        cancel_url=_meeting_url(meeting),
        title=_("Edit the meeting"),
    )


def _form_page(request, form, *, title, submit_label, cancel_url, form_kind, **context):
    return render(
        request,
        "meetings/form_page.html",
        {
            "form": form,
            "title": title,
            "submit_label": submit_label,
            "cancel_url": cancel_url,
            "form_kind": form_kind,
            **context,
        },
    )


@login_required
@require_POST
@_conflict_page
def meeting_step(request, pk: int, step: str):
    """The status buttons: open the agenda, close it, record the meeting as held."""
    if step not in STEPS:
        raise Http404
    meeting = _visible_meeting(request, pk)
    service, _from, _label, success = STEPS[step]
    _act(request, service, str(success), meeting=meeting)
    return redirect(_meeting_url(meeting))


def _measure_choices(series: MeetingSeries, today: date):
    """(offered, all): the red and overdue measures of the series first, then every measure of its agreements."""
    offered = selectors.offered_measures(series, today)
    measures = list(
        Measure.objects.filter(agreement_id__in=selectors.series_agreement_ids(series))
        .select_related("agreement")
        .only("id", "number", "title", "path", "agreement__id", "agreement__title")
        .order_by("agreement_id", "path")
    )
    return offered, measures


def _topic_rows(meeting: Meeting):
    """The agenda's rows with only the columns the page shows (a page holds hundreds of decisions). The related rows
    land in plain lists (``to_attr``): a related manager per row and relation costs more than the rows themselves.
    A decision's ``measures`` stay behind their manager, which ``selectors.decision_state`` reads."""
    measures = Measure.objects.only(*MEASURE_ROW).order_by("path")
    decisions = (
        Decision.objects.select_related("lead", "created_measure")
        .only(*DECISION_ROW, "lead__id", "lead__name", *(f"created_measure__{f}" for f in MEASURE_ROW))
        .prefetch_related(
            Prefetch("co_owners", queryset=Agency.objects.only("id", "name").order_by("id"), to_attr="co_owner_list"),
            Prefetch("measures", queryset=measures),
        )
        .order_by("position", "id")
    )
    return (
        Topic.objects.filter(meeting=meeting)
        .select_related("proposed_by_agency", "proposed_by", "carried_from__meeting")
        .only(*TOPIC_ROW)
        .prefetch_related(
            Prefetch("measures", queryset=measures, to_attr="linked"),
            Prefetch("decisions", queryset=decisions, to_attr="decision_list"),
        )
        .order_by("position", "id")
    )


_PLACEHOLDER = "2147483647"


def _url_maker(name: str):
    """``pk → URL`` from one ``reverse``: the agenda page links hundreds of rows, and reversing each costs."""
    pattern = reverse(name, args=[int(_PLACEHOLDER)])
    return lambda pk: pattern.replace(_PLACEHOLDER, str(pk))


@login_required
@require_GET
def meeting_source(request, pk: int):
    """The minutes or report the meeting was entered from."""
    meeting = get_object_or_404(Meeting.objects.visible_to(request.user).only("id", "source_document"), pk=pk)
    return serve_stored_file(meeting.source_document)


@login_required
@require_GET
def meeting_detail(request, pk: int):
    """The whole meeting on one page: status and steps, participants, the open decisions of earlier meetings, the
    agenda (50 topics a page) with measures and decisions, and the minutes."""
    user = request.user
    meeting = get_object_or_404(
        Meeting.objects.visible_to(user).select_related(
            "series__circle", "series__standing_agreement", "host", "minutes_agreement"
        ),
        pk=pk,
    )
    series = meeting.series
    today = timezone.localdate()
    members = _member_agencies(series)
    member_ids = {a.pk for a in members}
    status = meeting.status
    frozen = meeting.is_frozen
    can_manage = services.manages_series(user, series)
    can_host = services.hosts(user, meeting)
    can_run = can_host or can_manage
    member_liaison = _is_member_liaison(user, member_ids)
    member_worker = bool(user.agency_id in member_ids and services.acts_for(user, user.agency_id))
    can_propose = not frozen and (
        (status == MeetingStatus.AGENDA_OPEN and (member_worker or can_manage)) or (can_run and status in BEFORE_HELD)
    )
    can_order = not frozen and can_host and status in BEFORE_HELD
    can_outcome = not frozen and can_run and status in AFTER_AGENDA
    can_decide = can_outcome and meeting.minutes_status != MinutesStatus.PENDING

    # A series may carry hundreds of open decisions: they come a page at a time too (?earlier=N).
    rows = _Rows(today)
    earlier = Paginator(selectors.open_decisions(meeting), EARLIER_PER_PAGE).get_page(request.GET.get("earlier"))
    for decision in earlier.object_list:
        decision.state = rows.state(decision)
        decision.co_owner_names = "、".join(a.name for a in decision.co_owners.all())

    page = Paginator(_topic_rows(meeting), TOPICS_PER_PAGE).get_page(request.GET.get("page"))
    link = {
        name: _url_maker(f"meetings:{name}")
        for name in ("topic-edit", "topic-withdraw", "topic-outcome", "decision-new", "decision-edit")
    }
    measure_url = _url_maker("ledger:measure")
    for topic in page.object_list:
        topic.meeting = meeting
        active = topic.outcome != TopicOutcome.WITHDRAWN
        own = bool(topic.proposed_by_agency_id) and services.acts_for(user, topic.proposed_by_agency_id)
        for measure in topic.linked:
            measure.light_code = ledger_selectors.light_for(measure, today)
            measure.light_html = rows.light(measure.light_code)
            measure.url = measure_url(measure.pk)
        topic.is_active = active
        topic.can_edit = active and not frozen and status in BEFORE_HELD and (own or can_run)
        topic.can_withdraw = topic.can_edit and not topic.decision_list
        topic.can_outcome = active and can_outcome
        topic.can_decide = active and can_decide
        topic.urls = {
            "edit": link["topic-edit"](topic.pk),
            "withdraw": link["topic-withdraw"](topic.pk),
            "outcome": link["topic-outcome"](topic.pk),
            "decide": link["decision-new"](topic.pk),
        }
        for decision in topic.decision_list:
            decision.meeting = meeting
            decision.state = rows.state(decision)
            decision.kind_css = KIND_CSS.get(decision.kind, "bg-secondary-lt")
            decision.kind_label = rows.kinds.get(decision.kind, decision.kind)
            decision.co_owner_names = "、".join(a.name for a in decision.co_owner_list)
            updates = decision.kind == DecisionKind.UPDATE_MEASURES
            decision.updated = list(decision.measures.all()) if updates else []
            for measure in decision.updated:
                measure.url = measure_url(measure.pk)
            decision.details = rows.details(decision)
            if decision.created_measure_id:
                decision.created_measure.url = measure_url(decision.created_measure_id)
            decision.edit_url = link["decision-edit"](decision.pk) if topic.can_decide else ""

    topic_form = None
    if can_propose:
        offered, measures = _measure_choices(series, today)
        topic_form = _style(TopicForm(offered=offered, measures=measures, auto_id="topic-%s"))

    approvals = {a.agency_id: a for a in MinutesApproval.objects.filter(meeting=meeting).select_related("approved_by")}
    approval_rows = [{"agency": agency, "approval": approvals.get(agency.pk)} for agency in members]
    approved = sum(1 for agency in members if agency.pk in approvals)
    minutes_status = meeting.minutes_status
    can_write_minutes = not frozen and can_run and status == MeetingStatus.HELD
    minutes = {
        "approved": approved,
        "total": len(members),
        "percent": round(100 * approved / len(members)) if members else 0,
        "rows": approval_rows,
        "can_draft": can_write_minutes and minutes_status in (MinutesStatus.NONE, MinutesStatus.DRAFT),
        "can_submit": can_write_minutes and minutes_status == MinutesStatus.DRAFT,
        "can_approve": (member_liaison and minutes_status == MinutesStatus.PENDING and user.agency_id not in approvals),
        "can_return": (member_liaison or can_run) and minutes_status == MinutesStatus.PENDING,
        "has_text": bool(meeting.minutes_text.strip()),
    }
    steps = [
        {"slug": slug, "label": label}
        for slug, (_service, start, label, _message) in STEPS.items()
        if can_run and not frozen and status == start
    ]
    sees_minutes_agreement = bool(
        meeting.minutes_agreement_id
        and Agreement.objects.visible_to(user).filter(pk=meeting.minutes_agreement_id).exists()
    )
    return render(
        request,
        "meetings/meeting_detail.html",
        {
            "meeting": meeting,
            "series": series,
            "members": members,
            "participant_agencies": list(meeting.participant_agencies.only("id", "name").order_by("id")),
            "participant_people": list(meeting.participant_people.select_related("agency").order_by("agency_id", "id")),
            "stepper": _stepper(meeting),
            "steps": steps,
            "earlier": earlier,
            "page": page,
            "decision_count": Decision.objects.filter(meeting=meeting).count(),
            "topic_form": topic_form,
            "can_run": can_run,
            "can_order": can_order,
            "can_decide": can_decide,
            "minutes": minutes,
            "sees_minutes_agreement": sees_minutes_agreement,
            "frozen": frozen,
            "is_held": status in (MeetingStatus.HELD, MeetingStatus.MINUTES_APPROVED),
            "labels": rows.labels,
            "title": meeting.display_title,
        },
    )


# --------------------------------------------------------------------------- agenda


@login_required
@require_http_methods(["GET", "POST"])
@_conflict_page
def topic_new(request, pk: int):
    """Propose a topic (members while the agenda is open; the host and the coordinators until it is held)."""
    meeting = _visible_meeting(request, pk)
    _refuse_frozen(meeting)
    user = request.user
    member_ids = selectors.member_ids(meeting.series)
    if not (services.runs(user, meeting) or (user.agency_id in member_ids and services.acts_for(user, user.agency_id))):
        raise PermissionDenied(_("Only member agencies propose topics."))
    offered, measures = _measure_choices(meeting.series, timezone.localdate())
    form = _style(TopicForm(_posted(request), offered=offered, measures=measures, auto_id="topic-%s"))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        topic = _run_service(form, services.propose_topic, acting_user=user, meeting=meeting, **data)
        if topic is not None:
            messages.success(request, _("Topic “%(title)s” proposed.") % {"title": topic.title})
            return redirect(_next_url(request, _meeting_url(meeting, "agenda")))
    return _form_page(
        request,
        form,
        meeting=meeting,
        series=meeting.series,
        form_kind="topic",
        submit_label=_("Propose"),
        cancel_url=_meeting_url(meeting, "agenda"),
        title=_("Propose a topic"),
    )


@login_required
@require_http_methods(["GET", "POST"])
@_conflict_page
def topic_edit(request, pk: int):
    topic = _visible_topic(request, pk)
    meeting = topic.meeting
    _refuse_frozen(meeting)
    own = bool(topic.proposed_by_agency_id) and services.acts_for(request.user, topic.proposed_by_agency_id)
    if not (own or services.runs(request.user, meeting)):
        raise PermissionDenied(_("Only the proposing agency and the host may change a topic."))
    offered, measures = _measure_choices(meeting.series, timezone.localdate())
    initial = {
        "title": topic.title,
        "description": topic.description,
        "measures": list(topic.measures.values_list("pk", flat=True)),
    }
    form = _style(TopicForm(_posted(request), initial=initial, offered=offered, measures=measures, auto_id="topic-%s"))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("idempotency_key", None)
        done = _run_service(form, services.update_topic, acting_user=request.user, topic=topic, **data)
        if done is not None:
            messages.success(request, _("Topic saved."))
            return redirect(_next_url(request, _meeting_url(meeting, f"topic-{topic.pk}")))
    return _form_page(
        request,
        form,
        meeting=meeting,
        series=meeting.series,
        topic=topic,
        form_kind="topic",
        submit_label=_("Save"),
        cancel_url=_meeting_url(meeting, f"topic-{topic.pk}"),
        title=_("Edit the topic"),
    )


@login_required
@require_POST
@_conflict_page
def topic_withdraw(request, pk: int):
    topic = _visible_topic(request, pk)
    _act(request, services.withdraw_topic, _("Topic withdrawn."), topic=topic)
    return redirect(_next_url(request, _meeting_url(topic.meeting, "agenda")))


@login_required
@require_POST
@_conflict_page
def topic_outcome(request, pk: int):
    """After the meeting: concluded, or unfinished (carried over to the next meeting)."""
    topic = _visible_topic(request, pk)
    outcome = request.POST.get("outcome", "")
    _act(request, services.set_topic_outcome, _("Outcome recorded."), topic=topic, outcome=outcome)
    return redirect(_next_url(request, _meeting_url(topic.meeting, f"topic-{topic.pk}")))


@login_required
@require_POST
@_conflict_page
def topic_order(request, pk: int):
    """The host's order of the agenda: ``move`` = "<topic id>:up|down" moves one topic; ``topics`` (repeated)
    gives the whole order."""
    meeting = _visible_meeting(request, pk)
    if not services.hosts(request.user, meeting):
        raise PermissionDenied(_("Only the host agency (%(host)s) may order the agenda.") % {"host": meeting.host.name})
    _refuse_frozen(meeting)
    back = _next_url(request, _meeting_url(meeting, "agenda"))
    move = request.POST.get("move", "")
    if move:
        ids = list(
            Topic.objects.filter(meeting=meeting)
            .exclude(outcome=TopicOutcome.WITHDRAWN)
            .order_by("position", "id")
            .values_list("pk", flat=True)
        )
        topic_id, _sep, direction = move.partition(":")
        index = ids.index(int(topic_id)) if topic_id.isdigit() and int(topic_id) in ids else None
        other = {"up": -1, "down": 1}.get(direction)
        if index is None or other is None:
            messages.error(request, _("List every topic of this meeting exactly once."))
            return redirect(back)
        target = index + other
        if 0 <= target < len(ids):
            ids[index], ids[target] = ids[target], ids[index]
    else:
        ids = request.POST.getlist("topics")
    _act(request, services.order_topics, _("Agenda order saved."), meeting=meeting, topic_ids=ids)
    return redirect(back)


# --------------------------------------------------------------------------- decisions


def _decision_form(request, meeting: Meeting, *, initial=None):
    members = _member_agencies(meeting.series)
    offered, measures = _measure_choices(meeting.series, timezone.localdate())
    return _style(
        DecisionForm(
            _posted(request),
            initial=initial or {},
            members=members,
            offered=offered,
            measures=measures,
            auto_id="decision-%s",
        )
    )


def _decision_page(request, form, *, topic, decision=None, title, submit_label):
    meeting = topic.meeting
    return _form_page(
        request,
        form,
        meeting=meeting,
        series=meeting.series,
        topic=topic,
        decision=decision,
        form_kind="decision",
        submit_label=submit_label,
        cancel_url=_meeting_url(meeting, f"topic-{topic.pk}"),
        title=title,
    )


def _require_runner(request, meeting: Meeting) -> None:
    if not services.runs(request.user, meeting):
        raise PermissionDenied(_("Only the host agency and the series' coordinators may do this."))


@login_required
@require_http_methods(["GET", "POST"])
@_conflict_page
def decision_new(request, pk: int):
    topic = _visible_topic(request, pk)
    meeting = topic.meeting
    _require_runner(request, meeting)
    _refuse_frozen(meeting)
    form = _decision_form(request, meeting)
    if request.method == "POST" and form.is_valid():
        data = form.fields_for_service()
        decision = _run_service(
            form,
            services.record_decision,
            acting_user=request.user,
            topic=topic,
            idempotency_key=form.cleaned_data["idempotency_key"],
            **data,
        )
        if decision is not None:
            messages.success(request, _("Decision recorded."))
            if "another" in request.POST:
                return redirect("meetings:decision-new", pk=topic.pk)
            return redirect(_next_url(request, _meeting_url(meeting, f"topic-{topic.pk}")))
    return _decision_page(request, form, topic=topic, title=_("Record a decision"), submit_label=_("Record"))


@login_required
@require_http_methods(["GET", "POST"])
@_conflict_page
def decision_edit(request, pk: int):
    decision = _visible_decision(request, pk)
    meeting = decision.meeting
    _require_runner(request, meeting)
    _refuse_frozen(meeting)
    initial = {
        "kind": decision.kind,
        "title": decision.title,
        "text": decision.text,
        "target": decision.target,
        "lead": decision.lead_id or "",
        "co_owners": list(decision.co_owners.values_list("pk", flat=True)),
        "due_on": decision.due_on,
        "measures": list(decision.measures.values_list("pk", flat=True)),
        "new_due_on": decision.new_due_on,
    }
    form = _decision_form(request, meeting, initial=initial)
    if request.method == "POST" and form.is_valid():
        done = _run_service(
            form, services.update_decision, acting_user=request.user, decision=decision, **form.fields_for_service()
        )
        if done is not None:
            messages.success(request, _("Decision saved."))
            return redirect(_next_url(request, _meeting_url(meeting, f"topic-{decision.topic_id}")))
    return _decision_page(
        request, form, topic=decision.topic, decision=decision, title=_("Edit the decision"), submit_label=_("Save")
    )


@login_required
@require_POST
@_conflict_page
def decision_delete(request, pk: int):
    decision = _visible_decision(request, pk)
    _act(request, services.delete_decision, _("Decision deleted."), decision=decision)
    return redirect(_next_url(request, _meeting_url(decision.meeting, f"topic-{decision.topic_id}")))


# --------------------------------------------------------------------------- minutes


@login_required
@require_http_methods(["GET", "POST"])
@_conflict_page
def minutes_edit(request, pk: int):
    """Edit the minutes' text (a first draft is offered when there is none) and whether they become an agreement."""
    meeting = _visible_meeting(request, pk)
    _require_runner(request, meeting)
    _refuse_frozen(meeting)
    if meeting.minutes_status == MinutesStatus.PENDING:
        raise Conflict(_("The minutes await approval: take them back to draft before editing them."))
    text = meeting.minutes_text
    if not text.strip() and meeting.status == MeetingStatus.HELD:
        from .minutes import draft_text

        text = draft_text(meeting)
    form = _style(MinutesForm(_posted(request), initial={"text": text, "as_agreement": meeting.minutes_as_agreement}))
    if request.method == "POST" and form.is_valid():
        done = _run_service(form, services.edit_minutes, acting_user=request.user, meeting=meeting, **form.cleaned_data)
        if done is not None:
            messages.success(request, _("Minutes saved as a draft."))
            return redirect(_meeting_url(meeting, "minutes-box"))
    return render(
        request,
        "meetings/minutes_form.html",
        {
            "form": form,
            "meeting": meeting,
            "series": meeting.series,
            "can_regenerate": meeting.status == MeetingStatus.HELD and meeting.minutes_status != MinutesStatus.PENDING,
            "title": _("Minutes"),
        },
    )


@login_required
@require_POST
@_conflict_page
def minutes_draft(request, pk: int):
    """Write the first draft from the topics and decisions (``regenerate`` rewrites an existing one)."""
    meeting = _visible_meeting(request, pk)
    regenerate = bool(request.POST.get("regenerate"))
    done = _act(
        request,
        services.draft_minutes,
        _("A new draft was written from the topics and decisions.") if regenerate else _("Minutes drafted."),
        meeting=meeting,
        regenerate=regenerate,
    )
    if done is not None:
        return redirect("meetings:minutes", pk=meeting.pk)
    return redirect(_meeting_url(meeting, "minutes-box"))


@login_required
@require_POST
@_conflict_page
def minutes_submit(request, pk: int):
    meeting = _visible_meeting(request, pk)
    _act(
        request,
        services.submit_minutes,
        _("The minutes were sent to every member agency's liaison for approval."),
        meeting=meeting,
    )
    return redirect(_meeting_url(meeting, "minutes-box"))


@login_required
@require_POST
@_conflict_page
def minutes_approve(request, pk: int):
    meeting = _visible_meeting(request, pk)
    form = CommentForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    _act(request, services.approve_minutes, _("Your agency's approval is recorded."), meeting=meeting, comment=comment)
    if Meeting.objects.filter(pk=meeting.pk, minutes_status=MinutesStatus.APPROVED).exists():
        messages.success(request, _("Every member has approved: the minutes are final."))
    return redirect(_meeting_url(meeting, "minutes-box"))


@login_required
@require_http_methods(["GET", "POST"])
@_conflict_page
def minutes_return(request, pk: int):
    """Send the minutes back to draft with a comment (a member's liaison, or the host taking them back)."""
    meeting = _visible_meeting(request, pk)
    _refuse_frozen(meeting)
    user = request.user
    if not (_is_member_liaison(user, selectors.member_ids(meeting.series)) or services.runs(user, meeting)):
        raise PermissionDenied(_("Only members' liaisons and the host may send the minutes back."))
    form = _style(CommentForm(_posted(request), required=True, auto_id="return-%s"))
    if request.method == "POST" and form.is_valid():
        done = _run_service(form, services.return_minutes, acting_user=user, meeting=meeting, **form.cleaned_data)
        if done is not None:
            messages.success(request, _("The minutes went back to draft; the approvals given are void."))
            return redirect(_meeting_url(meeting, "minutes-box"))
    return _form_page(
        request,
        form,
        meeting=meeting,
        series=meeting.series,
        form_kind="return",
        submit_label=_("Send back"),
        cancel_url=_meeting_url(meeting, "minutes-box"),
        title=_("Send the minutes back"),
    )
