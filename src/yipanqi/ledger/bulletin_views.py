"""Bulletin pages (定期通报): the list, the form that orders one, its page with figures and downloads, and schedules.

A bulletin is written by ``bulletins.create_bulletin`` and rendered (.docx and .pdf) by the worker; while it waits or
renders, its status block polls ``bulletin_status`` every two seconds (htmx) and stops once it is ready or failed.
Reads start from ``visible_to(request.user)`` (not visible → 404); the services decide who may write (a refusal →
403) and check the input (their ``ValidationError`` → form errors, nothing written).
"""

from __future__ import annotations

import re
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yipanqi.directory.forms import style_form
from yipanqi.directory.models import Circle

from . import bulletins
from .models import Agreement, Bulletin, BulletinFrequency, BulletinSchedule, BulletinStatus
from .views import LIGHT_LABELS, Light, _creatable_circles, _posted, _run_service, _style

PAGE_SIZE = 20
FORMATS = {
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pdf": ("pdf", "application/pdf"),
}
UNSAFE_IN_FILE_NAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
DATE_INPUT = {"type": "date"}


def _date_field(label, **kwargs):
    return forms.DateField(label=label, widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"), **kwargs)


def _can_issue(user) -> bool:
    return bool(user.coordinated_circle_ids) or user.is_platform_admin


def _coordinates(user, circle_id: int) -> bool:
    return user.is_platform_admin or circle_id in user.coordinated_circle_ids


def _circle_choices(user) -> list[Circle]:
    """The circles whose bulletins the user may issue; none → 403."""
    circles = list(_creatable_circles(user).only("pk", "name", "short_name", "coordinating_agency_id"))
    if not circles:
        raise PermissionDenied(_("Only the coordination office of a cooperation circle issues bulletins."))
    return circles


class _ScopeForm(forms.Form):
    """A circle the user coordinates and, optionally, one of its agreements."""

    circle = forms.ModelChoiceField(
        label=gettext_lazy("Cooperation circle"),
        queryset=Circle.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": gettext_lazy("Choose one of the circles you coordinate.")},
    )
    agreement = forms.ModelChoiceField(
        label=gettext_lazy("Agreement"),
        queryset=Agreement.objects.none(),
        required=False,
        empty_label=gettext_lazy("The whole circle"),
        help_text=gettext_lazy("Blank: the ledger of every agreement of the circle."),
        error_messages={"invalid_choice": gettext_lazy("Choose an agreement of the circle.")},
    )

    def __init__(self, *args, circles: list[Circle], **kwargs):
        super().__init__(*args, **kwargs)
        ids = [c.pk for c in circles]
        self.fields["circle"].queryset = Circle.objects.filter(pk__in=ids)
        agreements = (
            Agreement.objects.filter(circle__in=ids).select_related("circle").order_by("circle_id", "-signed_on")
        )
        self.fields["agreement"].queryset = agreements
        if len(circles) == 1:
            self.fields["circle"].initial = circles[0].pk
            self.fields["agreement"].label_from_instance = lambda a: a.title
        else:
            self.fields["agreement"].label_from_instance = lambda a: (
                f"{a.circle.short_name or a.circle.name} · {a.title}"
            )


def _recipients_field():
    return forms.CharField(
        label=gettext_lazy("Addressed to"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Blank: all member agencies."),
    )


def _cc_field():
    return forms.CharField(label=gettext_lazy("Copied to"), max_length=200, required=False)


class BulletinForm(_ScopeForm):
    period_start = _date_field(gettext_lazy("Period from"))
    period_end = _date_field(gettext_lazy("Period to"))
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Blank: the standard title, with the scope and the period."),
    )
    doc_number = forms.CharField(
        label=gettext_lazy("Document number"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("Blank: the circle's next free number of the year."),
    )
    recipients = _recipients_field()
    cc = _cc_field()
    issued_on = _date_field(gettext_lazy("Dated"))
    # A new key per rendered form: a double click or a resent POST orders the bulletin once.
    idempotency_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            today = timezone.localdate()
            start, end = bulletins.period_before(BulletinFrequency.MONTHLY, today)
            self.initial.setdefault("period_start", start)
            self.initial.setdefault("period_end", end)
            self.initial.setdefault("issued_on", today)
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
        self.fields["recipients"].widget.attrs["placeholder"] = _("All member agencies:")


class ScheduleForm(_ScopeForm):
    frequency = forms.ChoiceField(
        label=gettext_lazy("Frequency"), choices=BulletinFrequency.choices, initial=BulletinFrequency.MONTHLY
    )
    day_of_month = forms.IntegerField(
        label=gettext_lazy("Prepared on day"),
        min_value=1,
        max_value=28,
        initial=3,
        help_text=gettext_lazy("Day of the month after the period on which the bulletin is prepared"),
    )
    number_prefix = forms.CharField(
        label=gettext_lazy("Document number prefix"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("Blank: the circle's short name."),
    )
    recipients = _recipients_field()
    cc = _cc_field()

    def __init__(self, *args, circles: list[Circle], **kwargs):
        super().__init__(*args, circles=circles, **kwargs)
        if len(circles) == 1:
            self.fields["number_prefix"].initial = circles[0].short_name or circles[0].name

    def clean(self):
        data = super().clean()
        circle = data.get("circle")
        if circle is not None and not (data.get("number_prefix") or "").strip():
            data["number_prefix"] = circle.short_name or circle.name
        return data


class BulletinFilterForm(forms.Form):
    circle = forms.ModelChoiceField(
        label=gettext_lazy("Cooperation circle"),
        queryset=Circle.objects.none(),
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy("This cooperation circle does not exist or is not open to you.")
        },
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only circles the user may see are offered: the choices must not reveal other circles' names.
        self.fields["circle"].queryset = Circle.objects.visible_to(user).only("pk", "name")

    def filter(self, queryset):
        if self.is_bound and self.is_valid() and self.cleaned_data["circle"]:
            return queryset.filter(circle=self.cleaned_data["circle"])
        return queryset


# --------------------------------------------------------------------------- helpers


def _visible_bulletin(request, pk: int) -> Bulletin:
    return get_object_or_404(
        Bulletin.objects.visible_to(request.user).select_related("circle", "agreement", "issuer", "schedule"), pk=pk
    )


def _is_pending(bulletin: Bulletin) -> bool:
    return bulletin.status in (BulletinStatus.QUEUED, BulletinStatus.RENDERING)


def _download_name(bulletin: Bulletin, extension: str) -> str:
    stem = UNSAFE_IN_FILE_NAMES.sub("_", f"{bulletin.doc_number} {bulletin.title}").strip(" ._") or "bulletin"
    return f"{stem[:150]}.{extension}"


def _figure_cards(figures: dict) -> list[dict]:
    """The stored figures (``render_now``) as labelled cards, in reading order; absent figures are left out."""
    cards = [
        ("measures", _("Items"), ""),
        ("progress", _("Average progress"), "%"),
        ("closed", _("Closed (销号)"), ""),
        ("closing", _("Awaiting closure"), ""),
        ("open", _("Open items"), ""),
        ("overdue", _("Overdue"), ""),
        ("reports", _("Reports in the period"), ""),
        ("missing_reports", _("Reports missing"), ""),
        ("supervisions", _("Supervision notices"), ""),
        ("replied", _("Replied"), ""),
    ]
    return [
        {"key": key, "label": label, "value": figures[key], "unit": unit}
        for key, label, unit in cards
        if key in figures
    ]


def _light_figures(figures: dict) -> list[dict]:
    lights = figures.get("lights") or {}
    return [{"light": Light(code), "count": lights.get(code, 0)} for code in LIGHT_LABELS if code in lights]


# --------------------------------------------------------------------------- pages


@login_required
@require_GET
def bulletin_list(request):
    user = request.user
    form = style_form(BulletinFilterForm(request.GET or None, user=user))
    queryset = form.filter(Bulletin.objects.visible_to(user)).select_related("circle", "agreement", "issuer")
    page = Paginator(queryset.order_by("-issued_on", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    can_issue = _can_issue(user)
    schedules = []
    if can_issue:
        schedules = list(
            BulletinSchedule.objects.visible_to(user)
            .filter(is_active=True)
            .select_related("circle", "agreement")
            .order_by("next_run_on", "id")
        )
    return render(
        request,
        "ledger/bulletin_list.html",
        {
            "form": form,
            "page": page,
            "can_issue": can_issue,
            "schedules": schedules,
            "title": _("Bulletins"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def bulletin_new(request):
    circles = _circle_choices(request.user)
    initial = {}
    wanted = request.GET.get("circle") or ""
    chosen = next((c for c in circles if str(c.pk) == wanted), None)
    if chosen is not None:
        initial["circle"] = chosen.pk
    form = _style(BulletinForm(_posted(request), circles=circles, initial=initial))
    if request.method == "POST" and form.is_valid():
        bulletin = _run_service(form, bulletins.create_bulletin, acting_user=request.user, **form.cleaned_data)
        if bulletin is not None:
            messages.success(
                request,
                _("Bulletin %(number)s ordered: it is being prepared.") % {"number": bulletin.doc_number},
            )
            return redirect("ledger:bulletin", pk=bulletin.pk)
    return render(
        request,
        "ledger/bulletin_form.html",
        {
            "form": form,
            "form_kind": "bulletin",
            "submit_label": _("Prepare the bulletin"),
            "title": _("New bulletin"),
        },
    )


@login_required
@require_GET
def bulletin_detail(request, pk: int):
    bulletin = _visible_bulletin(request, pk)
    can_coordinate = _coordinates(request.user, bulletin.circle_id)
    figures = bulletin.figures or {}
    return render(
        request,
        "ledger/bulletin_detail.html",
        {
            "bulletin": bulletin,
            "period": bulletins.period_label(bulletin.period_start, bulletin.period_end),
            "figure_cards": _figure_cards(figures) if bulletin.status == BulletinStatus.READY else [],
            "light_figures": _light_figures(figures) if bulletin.status == BulletinStatus.READY else [],
            "can_coordinate": can_coordinate,
            "can_rerender": can_coordinate and bulletin.status != BulletinStatus.RENDERING,
            "title": bulletin.title,
        },
    )


@login_required
@require_GET
def bulletin_status(request, pk: int):
    """The status block (htmx partial); it stops polling once the bulletin is ready or failed. On the bulletin's own
    page that moment reloads the page, which then shows the figures or the error."""
    bulletin = get_object_or_404(
        Bulletin.objects.visible_to(request.user).only(
            "pk", "circle_id", "status", "progress", "error", "docx", "pdf", "doc_number", "title"
        ),
        pk=pk,
    )
    compact = request.GET.get("compact") == "1"
    response = render(request, "ledger/_bulletin_status.html", {"bulletin": bulletin, "compact": compact})
    if getattr(request, "htmx", False) and not compact and not _is_pending(bulletin):
        response["HX-Refresh"] = "true"
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def bulletin_download(request, pk: int, fmt: str):
    if fmt not in FORMATS:
        raise Http404
    bulletin = _visible_bulletin(request, pk)
    extension, content_type = FORMATS[fmt]
    document = getattr(bulletin, fmt)
    if not document or not document.storage.exists(document.name):
        raise Http404(_("The document is not prepared yet."))
    response = FileResponse(
        document.open("rb"),
        as_attachment=True,
        filename=_download_name(bulletin, extension),
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
@require_POST
def bulletin_rerender(request, pk: int):
    bulletin = _visible_bulletin(request, pk)
    try:
        bulletins.rerender_bulletin(acting_user=request.user, bulletin=bulletin)
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The bulletin is being prepared again."))
    return redirect("ledger:bulletin", pk=bulletin.pk)


# --------------------------------------------------------------------------- schedules


@login_required
@require_http_methods(["GET", "POST"])
def schedule_new(request):
    circles = _circle_choices(request.user)
    form = _style(ScheduleForm(_posted(request), circles=circles))
    if request.method == "POST" and form.is_valid():
        schedule = _run_service(form, bulletins.create_schedule, acting_user=request.user, **form.cleaned_data)
        if schedule is not None:
            messages.success(
                request,
                _("Schedule created: the next bulletin is prepared on %(date)s.")
                % {"date": schedule.next_run_on.isoformat()},
            )
            return redirect("ledger:bulletins")
    return render(
        request,
        "ledger/bulletin_form.html",
        {
            "form": form,
            "form_kind": "schedule",
            "submit_label": _("Create the schedule"),
            "title": _("New bulletin schedule"),
        },
    )


@login_required
@require_POST
def schedule_stop(request, pk: int):
    schedule = get_object_or_404(BulletinSchedule.objects.visible_to(request.user).select_related("circle"), pk=pk)
    try:
        bulletins.stop_schedule(acting_user=request.user, schedule=schedule)
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("Schedule stopped: no more bulletins are prepared by it."))
    return redirect("ledger:bulletins")
