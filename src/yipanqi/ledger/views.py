"""Ledger pages (台账): the coordinator sets up and supervises, the liaisons report and answer 督办, viewers read.

Reads start from ``visible_to(request.user)`` (not visible → 404). Writes call ``yipanqi.ledger.services``: its
``ValidationError`` becomes form errors, its ``PermissionError`` a 403. Lights are computed in Python from rows
already loaded, so a page costs the same number of queries however many measures it shows.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Avg, Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yipanqi.core.files import serve_stored_file
from yipanqi.directory.forms import style_form
from yipanqi.directory.models import Agency, Circle, Role

from . import selectors, services
from .forms import (
    AgreementFilterForm,
    AgreementForm,
    CloseShareForm,
    ConfirmClosureForm,
    MeasureForm,
    OwnerForm,
    ReplyForm,
    ReportForm,
    SupervisionForm,
    apply_service_errors,
    signatory_candidates,
)
from .lights import URGENCY
from .models import (
    Agreement,
    ClosureConfirmation,
    ClosureRule,
    Measure,
    MeasureOwner,
    MeasureStatus,
    OwnerRole,
    ProgressReport,
    ShareStatus,
    Supervision,
    SupervisionStatus,
)

LIGHT_LABELS = {
    "red": gettext_lazy("Red light"),
    "yellow": gettext_lazy("Yellow light"),
    "blue": gettext_lazy("Blue light"),
    "green": gettext_lazy("Green light"),
    "done": gettext_lazy("Closed (销号)"),
}
LIGHT_HINTS = {
    "red": gettext_lazy("Past the deadline"),
    "yellow": gettext_lazy("Behind plan, or no report within the reporting cycle"),
    "blue": gettext_lazy("The deadline is a few working days away"),
    "green": gettext_lazy("On track"),
    "done": gettext_lazy("Closed with the parties' confirmation"),
}
FAR_FUTURE = date(9999, 12, 31)


class Light:
    """A light for a template: ``code`` (CSS and tests), ``label`` (红灯 …) and ``hint``."""

    __slots__ = ("code", "hint", "label")

    def __init__(self, code: str):
        self.code = code if code in LIGHT_LABELS else ""
        self.label = LIGHT_LABELS.get(code, "")
        self.hint = LIGHT_HINTS.get(code, "")

    def __bool__(self) -> bool:
        return bool(self.code)


def _light(measure: Measure, today: date) -> Light:
    return Light(selectors.light_for(measure, today))


def light_counts(lights) -> list[dict]:
    """[{"code", "label", "count"}] for every light, in the order red → done."""
    counts = dict.fromkeys(selectors.LIGHTS, 0)
    for light in lights:
        counts[light.code] += 1
    return [{"code": code, "label": LIGHT_LABELS[code], "count": n} for code, n in counts.items()]


def _style(form):
    """``style_form`` keeps a field's own empty label when the form has one to say (e.g. “top level”)."""
    empty_labels = {name: f.empty_label for name, f in form.fields.items() if getattr(f, "empty_label", None)}
    style_form(form)
    if not isinstance(form, AgreementFilterForm):
        for name, label in empty_labels.items():
            form.fields[name].empty_label = label
    return form


def _mark_invalid(form) -> None:
    """After a service refused the input: flag the fields it named."""
    for name in form.errors:
        if name in form.fields:
            widget = form.fields[name].widget
            if "is-invalid" not in widget.attrs.get("class", ""):
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


def _next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _posted(request):
    """The POSTed data (even when empty, so that a form without required fields is still submitted), else None."""
    return request.POST if request.method == "POST" else None


def _denied(exc: PermissionError):
    return PermissionDenied(str(exc))


def _run_service(form, service, **kwargs):
    """Call a ledger service for a valid form. A ValidationError becomes the form's errors (returns None, nothing
    written); a PermissionError becomes 403. Services return the object they wrote, never None."""
    try:
        return service(**kwargs)
    except ValidationError as exc:
        apply_service_errors(form, exc)
        _mark_invalid(form)
        return None
    except PermissionError as exc:
        raise _denied(exc) from exc


def _is_liaison_of_signatory(user, agreement_signatory_ids) -> bool:
    return bool(user.agency_id in agreement_signatory_ids and user.has_role(Role.LIAISON))


def _can_confirm(user, measure: Measure, *, can_coordinate: bool, signatory_ids, confirmed_agency_ids) -> bool:
    if measure.status != MeasureStatus.CLOSING:
        return False
    if measure.agreement.closure_rule == ClosureRule.COORDINATOR:
        return can_coordinate
    return _is_liaison_of_signatory(user, signatory_ids) and user.agency_id not in confirmed_agency_ids


def _owners_in_order(owners) -> list[MeasureOwner]:
    """主办 first, then 协办 in the order they were assigned."""
    return sorted(owners, key=lambda o: (o.role != OwnerRole.LEAD, o.pk))


def _annotate_owner(owner: MeasureOwner, measure: Measure, user, *, can_coordinate: bool, open_ids=()) -> None:
    owner.is_mine = bool(user.agency_id) and owner.agency_id == user.agency_id
    owner.can_work = owner.is_mine and services.acts_for(user, owner.agency_id) and measure.status != MeasureStatus.DONE
    owner.can_report = owner.can_work and owner.status != ShareStatus.CLOSED
    owner.can_supervise = can_coordinate and measure.status != MeasureStatus.DONE
    owner.has_open_supervision = owner.pk in open_ids
    owner.report_missing = bool(owner.report_due_on and owner.report_due_on < timezone.localdate())


# --------------------------------------------------------------------------- agreements


@login_required
@require_GET
def agreement_list(request):
    form = _style(AgreementFilterForm(request.GET or None, user=request.user))
    agreements = (
        form.filter(Agreement.objects.visible_to(request.user))
        .select_related("circle")
        .prefetch_related(Prefetch("signatories", queryset=Agency.objects.only("id", "name").order_by("id")))
        .annotate(
            leaf_count=Count("measures", filter=Q(measures__is_leaf=True)),
            done_count=Count("measures", filter=Q(measures__is_leaf=True, measures__status=MeasureStatus.DONE)),
            overall=Avg("measures__progress", filter=Q(measures__depth=0)),
        )
        .order_by("-signed_on", "-id")  # GROUP BY queries do not take Meta.ordering
    )
    page = Paginator(agreements, 30).get_page(request.GET.get("page"))
    for agreement in page.object_list:
        agreement.overall = round(agreement.overall or 0)
    return render(
        request,
        "ledger/agreement_list.html",
        {
            "form": form,
            "page": page,
            "can_create": bool(request.user.coordinated_circle_ids) or request.user.is_platform_admin,
            "title": _("Agreements"),
        },
    )


def _creatable_circles(user):
    if user.is_platform_admin:
        return Circle.objects.all()
    return Circle.objects.filter(pk__in=user.coordinated_circle_ids)


@login_required
@require_http_methods(["GET", "POST"])
def agreement_new(request):
    circles = _creatable_circles(request.user)
    choices = list(circles.only("pk", "name", "short_name"))
    if not choices:
        raise PermissionDenied(_("Only the coordination office of a cooperation circle creates agreements."))
    wanted = request.POST.get("circle") or request.GET.get("circle") or ""
    circle = next((c for c in choices if str(c.pk) == wanted), None)
    if circle is None and len(choices) == 1:
        circle = choices[0]
    form = None
    if circle is not None:
        form = _style(AgreementForm(_posted(request), circles=circles, circle=circle))
        if request.method == "POST" and form.is_valid():
            fields = dict(form.cleaned_data)
            agreement = _run_service(form, services.create_agreement, acting_user=request.user, **fields)
            if agreement is not None:
                messages.success(request, _("Agreement created. Now add its areas and measures."))
                return redirect("ledger:agreement", pk=agreement.pk)
    return render(
        request,
        "ledger/agreement_form.html",
        {"form": form, "circle": circle, "circles": choices, "title": _("New agreement")},
    )


@login_required
@require_GET
def agreement_source(request, pk: int):
    """The agreement's source document (the signed text, or the news report it was taken in from)."""
    agreement = get_object_or_404(Agreement.objects.visible_to(request.user).only("id", "source_document"), pk=pk)
    return serve_stored_file(agreement.source_document)


@login_required
@require_GET
def agreement_detail(request, pk: int):
    user = request.user
    agreement = get_object_or_404(
        Agreement.objects.visible_to(user).select_related("circle__coordinating_agency", "created_by"), pk=pk
    )
    signatories = list(agreement.signatories.select_related("region").order_by("region__path", "type", "rank"))
    signatory_ids = {a.pk for a in signatories}
    measures = list(
        Measure.objects.filter(agreement=agreement)
        .order_by("path")
        .prefetch_related(
            Prefetch("owners", queryset=MeasureOwner.objects.select_related("agency")),
            Prefetch("confirmations", queryset=ClosureConfirmation.objects.only("id", "measure_id", "agency_id")),
        )
    )
    open_ids = set(
        Supervision.objects.filter(measure__agreement=agreement, status=SupervisionStatus.OPEN).values_list(
            "owner_id", flat=True
        )
    )
    can_coordinate = services.is_coordinator_of(user, agreement)
    today = timezone.localdate()
    leaves = []
    for measure in measures:
        measure.agreement = agreement  # the rows share the one loaded agreement: no query per measure
        measure.light = _light(measure, today)
        measure.sorted_owners = _owners_in_order(measure.owners.all())
        for owner in measure.sorted_owners:
            _annotate_owner(owner, measure, user, can_coordinate=can_coordinate, open_ids=open_ids)
        measure.can_add_child = can_coordinate and not measure.sorted_owners and measure.status != MeasureStatus.DONE
        measure.can_assign = can_coordinate and measure.is_leaf and measure.status != MeasureStatus.DONE
        measure.can_confirm = _can_confirm(
            user,
            measure,
            can_coordinate=can_coordinate,
            signatory_ids=signatory_ids,
            confirmed_agency_ids={c.agency_id for c in measure.confirmations.all()},
        )
        measure.has_actions = measure.can_add_child or measure.can_assign or measure.can_confirm
        if measure.is_leaf:
            leaves.append(measure)
    roots = [m for m in measures if m.depth == 0]
    supervisions = list(
        Supervision.objects.filter(measure__agreement=agreement)
        .select_related("measure", "owner__agency", "issued_by", "replied_by")
        .order_by("-issued_at", "-id")[:20]
    )
    for supervision in supervisions:
        supervision.light_info = Light(supervision.light)
    return render(
        request,
        "ledger/agreement_detail.html",
        {
            "agreement": agreement,
            "signatories": signatories,
            "measures": measures,
            "leaf_count": len(leaves),
            "overall": round(sum(m.progress for m in roots) / len(roots)) if roots else 0,
            "light_counts": light_counts(m.light for m in leaves),
            "supervisions": supervisions,
            "can_coordinate": can_coordinate,
            "title": agreement.title,
        },
    )


# --------------------------------------------------------------------------- measures


@login_required
@require_GET
def measure_detail(request, pk: int):
    user = request.user
    measure = get_object_or_404(
        Measure.objects.visible_to(user).select_related("agreement__circle__coordinating_agency"), pk=pk
    )
    agreement = measure.agreement
    can_see_agreement = _sees_agreement(user, agreement.pk)
    can_coordinate = services.is_coordinator_of(user, agreement)
    today = timezone.localdate()
    measure.light = _light(measure, today)
    prefixes = [measure.path[:end] for end in range(5, len(measure.path), 5)]
    ancestors = list(Measure.objects.filter(agreement=agreement, path__in=prefixes).order_by("path"))
    children = list(
        Measure.objects.filter(parent=measure)
        .order_by("path")
        .prefetch_related(Prefetch("owners", queryset=MeasureOwner.objects.select_related("agency")))
    )
    for child in children:
        child.agreement = agreement
        child.light = _light(child, today)
        child.sorted_owners = _owners_in_order(child.owners.all())
    supervisions = list(
        measure.supervisions.select_related("owner__agency", "issued_by", "replied_by").order_by("-issued_at", "-id")
    )
    open_ids = {s.owner_id for s in supervisions if s.status == SupervisionStatus.OPEN}
    owners = _owners_in_order(measure.owners.select_related("agency", "department", "person"))
    for owner in owners:
        _annotate_owner(owner, measure, user, can_coordinate=can_coordinate, open_ids=open_ids)
    my_share = next((o for o in owners if o.can_work), None)
    for supervision in supervisions:
        supervision.light_info = Light(supervision.light)
        supervision.can_reply = (
            supervision.status != SupervisionStatus.CLOSED
            and supervision.owner.agency_id == user.agency_id
            and services.acts_for(user, supervision.owner.agency_id)
        )
        supervision.can_close = can_coordinate and supervision.status != SupervisionStatus.CLOSED
        if supervision.can_reply:
            supervision.form = _style(ReplyForm(auto_id=f"reply-{supervision.pk}-%s"))
    confirmations = list(measure.confirmations.select_related("agency", "confirmed_by"))
    signatory_ids = (
        set(agreement.signatories.values_list("pk", flat=True))
        if agreement.closure_rule == ClosureRule.ALL_SIGNATORIES
        else set()
    )
    reports = Paginator(
        ProgressReport.objects.filter(measure=measure).select_related("owner__agency", "filed_by"), 20
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "ledger/measure_detail.html",
        {
            "measure": measure,
            "agreement": agreement,
            "can_see_agreement": can_see_agreement,
            "can_coordinate": can_coordinate,
            "ancestors": ancestors,
            "children": children,
            "owners": owners,
            "my_share": my_share,
            "report_form": _style(ReportForm(initial={"progress": my_share.progress}))
            if my_share and my_share.can_report
            else None,
            "close_form": _style(CloseShareForm()) if my_share and my_share.can_report else None,
            "supervisions": supervisions,
            "confirmations": confirmations,
            "can_add_child": can_coordinate and not owners and measure.status != MeasureStatus.DONE,
            "can_assign": can_coordinate and measure.is_leaf and measure.status != MeasureStatus.DONE,
            "can_confirm": _can_confirm(
                user,
                measure,
                can_coordinate=can_coordinate,
                signatory_ids=signatory_ids,
                confirmed_agency_ids={c.agency_id for c in confirmations},
            ),
            "page": reports,
            "title": f"{measure.number} {measure.title}",
        },
    )


def _visible_agreement_for_coordinator(request, pk: int) -> Agreement:
    agreement = get_object_or_404(Agreement.objects.visible_to(request.user).select_related("circle"), pk=pk)
    if not services.is_coordinator_of(request.user, agreement):
        raise PermissionDenied(_("Only the circle's coordinators may change this agreement."))
    return agreement


@login_required
@require_http_methods(["GET", "POST"])
def measure_new(request, pk: int):
    """A coordinator adds an area (方面), a measure or a sub-item to an agreement's tree."""
    agreement = _visible_agreement_for_coordinator(request, pk)
    initial = {}
    parent_id = request.GET.get("parent", "")
    if parent_id.isdigit():
        initial["parent"] = int(parent_id)
    form = _style(MeasureForm(_posted(request), agreement=agreement, initial=initial))
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        measure = _run_service(form, services.add_measure, acting_user=request.user, agreement=agreement, **fields)
        if measure is not None:
            messages.success(
                request, _("%(number)s %(title)s added.") % {"number": measure.number, "title": measure.title}
            )
            if "another" in request.POST:
                url = reverse("ledger:measure-new", args=[agreement.pk])
                return redirect(f"{url}?parent={measure.parent_id}" if measure.parent_id else url)
            return redirect(f"{reverse('ledger:agreement', args=[agreement.pk])}#m-{measure.pk}")
    return render(
        request,
        "ledger/form_page.html",
        {
            "form": form,
            "agreement": agreement,
            "form_kind": "measure",
            "link_agreement": True,
            "submit_label": _("Add"),
            "another_label": _("Add and add another"),
            "cancel_url": reverse("ledger:agreement", args=[agreement.pk]),
            "title": _("New area, measure or sub-item"),
        },
    )


def _visible_measure(request, pk: int) -> Measure:
    return get_object_or_404(
        Measure.objects.visible_to(request.user).select_related("agreement__circle"),
        pk=pk,
    )


@login_required
@require_http_methods(["GET", "POST"])
def owner_new(request, pk: int):
    """A coordinator gives an agency (of any region) a share of a leaf measure: 主办 or 协办."""
    measure = _visible_measure(request, pk)
    agreement = measure.agreement
    if not services.is_coordinator_of(request.user, agreement):
        raise PermissionDenied(_("Only the circle's coordinators may change this agreement."))
    form = _style(OwnerForm(_posted(request), user=request.user, circle=agreement.circle))
    if request.method == "POST" and form.is_valid():
        owner = _run_service(
            form, services.assign_owner, acting_user=request.user, measure=measure, **form.cleaned_data
        )
        if owner is not None:
            messages.success(
                request,
                _("%(agency)s now owns a share of %(number)s (%(role)s).")
                % {"agency": owner.agency.name, "number": measure.number, "role": owner.get_role_display()},
            )
            if "another" in request.POST:
                return redirect("ledger:owner-new", pk=measure.pk)
            return redirect(_next_url(request, f"{reverse('ledger:agreement', args=[agreement.pk])}#m-{measure.pk}"))
    owners = _owners_in_order(measure.owners.select_related("agency"))
    suggestions = []
    if agreement.circle_id:
        suggestions = list(signatory_candidates(agreement.circle).values_list("name", flat=True))
    return render(
        request,
        "ledger/form_page.html",
        {
            "form": form,
            "agreement": agreement,
            "measure": measure,
            "owners": owners,
            "suggestions": suggestions,
            "form_kind": "owner",
            "link_agreement": True,
            "submit_label": _("Assign"),
            "another_label": _("Assign and add another"),
            "cancel_url": _next_url(request, reverse("ledger:agreement", args=[agreement.pk])),
            "title": _("Assign an owner"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def confirm_closure(request, pk: int):
    """销号: the coordinator (or each signatory's liaison, as the agreement sets) confirms a measure's closure."""
    measure = _visible_measure(request, pk)
    agreement = measure.agreement
    if agreement.closure_rule == ClosureRule.COORDINATOR:
        allowed = services.is_coordinator_of(request.user, agreement)
    else:
        allowed = request.user.is_platform_admin or _is_liaison_of_signatory(
            request.user, set(agreement.signatories.values_list("pk", flat=True))
        )
    if not allowed:
        raise PermissionDenied(_("You may not confirm this closure."))
    form = _style(ConfirmClosureForm(_posted(request), initial={"results": measure.results}))
    if request.method == "POST" and form.is_valid():
        closed = _run_service(
            form, services.confirm_closure, acting_user=request.user, measure=measure, **form.cleaned_data
        )
        if closed is not None:
            if closed.status == MeasureStatus.DONE:
                messages.success(request, _("%(number)s is closed (销号).") % {"number": closed.number})
            else:
                messages.success(request, _("Confirmation recorded; other signatories still have to confirm."))
            return redirect(_next_url(request, reverse("ledger:measure", args=[closed.pk])))
    owners = _owners_in_order(measure.owners.select_related("agency"))
    return render(
        request,
        "ledger/form_page.html",
        {
            "form": form,
            "agreement": agreement,
            "measure": measure,
            "owners": owners,
            "form_kind": "confirm",
            "link_agreement": True,
            "submit_label": _("Confirm the closure"),
            "cancel_url": _next_url(request, reverse("ledger:measure", args=[measure.pk])),
            "title": _("Confirm closure (销号)"),
        },
    )


# --------------------------------------------------------------------------- an owner's share


def _sees_agreement(user, agreement_id: int) -> bool:
    """Owners of a measure need not see its agreement (when they did not sign it)."""
    return Agreement.objects.visible_to(user).filter(pk=agreement_id).exists()


def _visible_share(request, pk: int) -> MeasureOwner:
    return get_object_or_404(
        MeasureOwner.objects.visible_to(request.user).select_related("measure__agreement__circle", "agency"), pk=pk
    )


def _share_form_page(request, owner, form, *, form_kind, submit_label, title):
    return render(
        request,
        "ledger/form_page.html",
        {
            "link_agreement": _sees_agreement(request.user, owner.measure.agreement_id),
            "form": form,
            "share": owner,
            "measure": owner.measure,
            "agreement": owner.measure.agreement,
            "form_kind": form_kind,
            "submit_label": submit_label,
            "cancel_url": _next_url(request, reverse("ledger:measure", args=[owner.measure_id])),
            "title": title,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def share_report(request, pk: int):
    """进展报告 on the user's agency's share (liaisons and case handlers of the owning agency)."""
    owner = _visible_share(request, pk)
    if not services.acts_for(request.user, owner.agency_id):
        raise PermissionDenied(_("Only the owning agency's liaisons and case handlers may update its share."))
    form = _style(ReportForm(_posted(request), initial={"progress": owner.progress}))
    if request.method == "POST" and form.is_valid():
        done = _run_service(form, services.file_report, acting_user=request.user, owner=owner, **form.cleaned_data)
        if done is not None:
            messages.success(
                request,
                _("Progress report on %(number)s filed: %(progress)s%%.")
                % {"number": owner.measure.number, "progress": form.cleaned_data["progress"]},
            )
            return redirect(_next_url(request, reverse("ledger:measure", args=[owner.measure_id])))
    return _share_form_page(
        request, owner, form, form_kind="report", submit_label=_("File the report"), title=_("Progress report")
    )


@login_required
@require_http_methods(["GET", "POST"])
def share_close(request, pk: int):
    """The owning agency closes its share with its results (成效); the last one puts the measure up for 销号."""
    owner = _visible_share(request, pk)
    if not services.acts_for(request.user, owner.agency_id):
        raise PermissionDenied(_("Only the owning agency's liaisons and case handlers may update its share."))
    form = _style(CloseShareForm(_posted(request), initial={"results": owner.results, "evidence": owner.evidence}))
    if request.method == "POST" and form.is_valid():
        done = _run_service(form, services.close_share, acting_user=request.user, owner=owner, **form.cleaned_data)
        if done is not None:
            messages.success(request, _("Your share of %(number)s is complete.") % {"number": owner.measure.number})
            return redirect(_next_url(request, reverse("ledger:measure", args=[owner.measure_id])))
    return _share_form_page(
        request, owner, form, form_kind="close", submit_label=_("Complete the share"), title=_("Complete our share")
    )


@login_required
@require_http_methods(["GET", "POST"])
def share_supervise(request, pk: int):
    """督办单: a coordinator urges one owner of a measure, with a reply deadline."""
    owner = _visible_share(request, pk)
    if not services.is_coordinator_of(request.user, owner.measure.agreement):
        raise PermissionDenied(_("Only the circle's coordinators may change this agreement."))
    form = _style(SupervisionForm(_posted(request)))
    if request.method == "POST" and form.is_valid():
        done = _run_service(
            form, services.issue_supervision, acting_user=request.user, owner=owner, **form.cleaned_data
        )
        if done is not None:
            messages.success(
                request,
                _("Supervision notice on %(number)s issued to %(agency)s.")
                % {"number": owner.measure.number, "agency": owner.agency.name},
            )
            return redirect(_next_url(request, reverse("ledger:measure", args=[owner.measure_id])))
    owner.measure.light = _light(owner.measure, timezone.localdate())
    return _share_form_page(
        request, owner, form, form_kind="supervise", submit_label=_("Issue"), title=_("Issue a supervision notice")
    )


# --------------------------------------------------------------------------- supervision notices (督办单)


@login_required
@require_http_methods(["GET", "POST"])
def supervision_reply(request, pk: int):
    supervision = get_object_or_404(
        Supervision.objects.visible_to(request.user).select_related("owner__agency", "measure__agreement", "issued_by"),
        pk=pk,
    )
    if not services.acts_for(request.user, supervision.owner.agency_id):
        raise PermissionDenied(_("Only the owning agency's liaisons and case handlers may update its share."))
    form = _style(ReplyForm(_posted(request), initial={"reply": supervision.reply}))
    if request.method == "POST" and form.is_valid():
        done = _run_service(
            form, services.reply_supervision, acting_user=request.user, supervision=supervision, **form.cleaned_data
        )
        if done is not None:
            messages.success(request, _("Reply sent."))
            return redirect(_next_url(request, reverse("ledger:measure", args=[supervision.measure_id])))
    supervision.light_info = Light(supervision.light)
    return render(
        request,
        "ledger/form_page.html",
        {
            "form": form,
            "supervision": supervision,
            "share": supervision.owner,
            "measure": supervision.measure,
            "agreement": supervision.measure.agreement,
            "form_kind": "reply",
            "link_agreement": _sees_agreement(request.user, supervision.measure.agreement_id),
            "submit_label": _("Send the reply"),
            "cancel_url": _next_url(request, reverse("ledger:measure", args=[supervision.measure_id])),
            "title": _("Reply to a supervision notice"),
        },
    )


@login_required
@require_POST
def supervision_close(request, pk: int):
    supervision = get_object_or_404(Supervision.objects.visible_to(request.user), pk=pk)
    try:
        services.close_supervision(acting_user=request.user, supervision=supervision)
    except PermissionError as exc:
        raise _denied(exc) from exc
    messages.success(request, _("Supervision notice closed."))
    return redirect(_next_url(request, reverse("ledger:measure", args=[supervision.measure_id])))


# --------------------------------------------------------------------------- my agency's measures


def _my_shares(user, today: date) -> list[MeasureOwner]:
    """The agency's shares with their lights, red first, then by deadline."""
    shares = list(selectors.my_shares(user))
    for share in shares:
        share.light = Light(selectors.share_light_for(share, today))  # the agency's own light on its share
        share.report_missing = bool(share.report_due_on and share.report_due_on < today)
    shares.sort(key=lambda s: (URGENCY.get(s.light.code, 0), s.measure.due_on or FAR_FUTURE, s.measure_id))
    return shares


@login_required
@require_GET
def my_measures(request):
    """本单位的举措: the shares of the user's agency, the reports to file and the 督办单 to answer."""
    user = request.user
    today = timezone.localdate()
    shares = _my_shares(user, today)
    counts = light_counts(s.light for s in shares)
    wanted = request.GET.get("light", "")
    if wanted in LIGHT_LABELS:
        shares = [s for s in shares if s.light.code == wanted]
    page = Paginator(shares, 20).get_page(request.GET.get("page"))
    can_work = bool(user.agency_id) and services.acts_for(user, user.agency_id)
    for share in page.object_list:
        share.can_report = (
            can_work and share.status != ShareStatus.CLOSED and share.measure.status != MeasureStatus.DONE
        )
        if share.can_report:
            share.report_form = _style(ReportForm(auto_id=f"share-{share.pk}-%s", initial={"progress": share.progress}))
            share.close_form = _style(CloseShareForm(auto_id=f"close-{share.pk}-%s"))
    supervisions = list(
        Supervision.objects.visible_to(user)
        .filter(owner__agency_id=user.agency_id or 0)
        .exclude(status=SupervisionStatus.CLOSED)
        .select_related("measure__agreement", "owner__agency", "issued_by")
        .order_by("status", "reply_due_on", "id")
    )
    for supervision in supervisions:
        supervision.light_info = Light(supervision.light)
        supervision.can_reply = can_work
        if can_work:
            supervision.form = _style(ReplyForm(auto_id=f"reply-{supervision.pk}-%s"))
    return render(
        request,
        "ledger/my.html",
        {
            "page": page,
            "light_counts": counts,
            "total": sum(c["count"] for c in counts),
            "light": wanted if wanted in LIGHT_LABELS else "",
            "supervisions": supervisions,
            "can_work": can_work,
            "today": today,
            "title": _("My agency's measures"),
        },
    )


def dashboard_measures(user, limit: int = 5) -> dict | None:
    """The dashboard card: the agency's most urgent open shares, the count per light (None without an agency)."""
    if not getattr(user, "agency_id", None):
        return None
    shares = _my_shares(user, timezone.localdate())
    open_supervisions = (
        Supervision.objects.visible_to(user)
        .filter(owner__agency_id=user.agency_id, status=SupervisionStatus.OPEN)
        .count()
    )
    return {
        "shares": [s for s in shares if s.light.code != "done"][:limit],
        "total": len(shares),
        "light_counts": light_counts(s.light for s in shares),
        "open_supervisions": open_supervisions,
    }
