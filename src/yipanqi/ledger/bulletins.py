"""定期通报: a circle's or an agreement's ledger over a period, gathered into ``documents.BulletinContent`` and
rendered by the worker as .docx and .pdf; bulletins on a schedule (monthly, quarterly) are prepared by a daily job.

Figures are those of the period's last day: the lights of that day (see ledger/lights.py; an item closed later counts
as open), the reports filed and the 督办 notices issued within the period, the shares whose report was overdue.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_tasks import task

from yipanqi.core.notifications import notify
from yipanqi.core.services import record_event, snapshot
from yipanqi.core.tasks import enqueue_on_commit
from yipanqi.directory.models import Circle, Role, User

from . import documents, selectors
from .lights import Calendar
from .models import (
    Agreement,
    BoardSnapshot,
    Bulletin,
    BulletinFrequency,
    BulletinSchedule,
    BulletinStatus,
    MeasureCategory,
    MeasureOwner,
    MeasureStatus,
    OwnerRole,
    ProgressReport,
    ShareStatus,
    Supervision,
    SupervisionStatus,
)

logger = logging.getLogger(__name__)

BEHIND_LISTED = 300  # yellow items listed by name in a bulletin; the figures count them all

# A bulletin still "being prepared" after this long was left by a worker that died: it may be prepared again.
STALE_RENDERING = timedelta(minutes=30)

LIGHT_LABELS = {  # translated when rendered (gettext_noop only marks them for makemessages)
    "red": gettext_noop("Red (overdue)"),
    "yellow": gettext_noop("Yellow (behind plan or report missing)"),
    "blue": gettext_noop("Blue (deadline near)"),
    "green": gettext_noop("Green (on track)"),
    "done": gettext_noop("Closed (销号)"),
}


def period_label(start: date, end: date) -> str:
    """ "2026年10月", "2026年第三季度" or "2026年10月1日至11月20日" — in the active language."""
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        if months == 1:
            return _("%(year)d/%(month)d") % {"year": start.year, "month": start.month}
        if months == 3 and start.month % 3 == 1:
            quarter = (start.month - 1) // 3 + 1
            return _("Q%(quarter)d %(year)d") % {"year": start.year, "quarter": quarter}
    return _("%(start)s to %(end)s") % {"start": documents.long_date(start), "end": documents.long_date(end)}


def default_title(scope: str, start: date, end: date) -> str:
    return _("Bulletin on the progress of the %(scope)s ledger (%(period)s)") % {
        "scope": scope,
        "period": period_label(start, end),
    }


def next_doc_number(circle: Circle, prefix: str, year: int) -> str:
    """The next free 文号 of the circle in ``year``: "成渝政法协〔2026〕3号"."""
    taken = set(Bulletin.objects.filter(circle=circle).values_list("doc_number", flat=True))
    number = Bulletin.objects.filter(circle=circle, issued_on__year=year).count() + 1
    while True:
        candidate = _("%(prefix)s [%(year)d] No. %(number)d") % {"prefix": prefix, "year": year, "number": number}
        if candidate not in taken:
            return candidate
        number += 1


def scope_name(circle: Circle, agreement: Agreement | None) -> str:
    return agreement.title if agreement else circle.name


# --------------------------------------------------------------------------- content


def bulletin_content(bulletin: Bulletin) -> documents.BulletinContent:
    """Everything the documents show, from a handful of aggregate queries (see the module docstring)."""
    circle, agreement = bulletin.circle, bulletin.agreement
    first, last = bulletin.period_start, bulletin.period_end
    start, end = selectors.day_bounds(first, last)
    items = selectors.scope_items(circle, agreement)
    item_ids = items.order_by().values("pk")
    content = documents.BulletinContent(
        title=bulletin.title,
        doc_number=bulletin.doc_number,
        issuer=bulletin.issuer.name,
        issuer_header=bulletin.issuer.name,
        issued_on=bulletin.issued_on,
        period_start=first,
        period_end=last,
        scope=scope_name(circle, agreement),
        recipients=bulletin.recipients,
        cc=bulletin.cc,
    )

    lights = dict.fromkeys(LIGHT_LABELS, 0)
    categories: dict[str, int] = {}
    weighted = 0
    for row in (
        items.order_by()
        .annotate(light=selectors.light_case_as_of(last))
        .values("light", "status", "category")
        .annotate(n=Count("id"), p=Avg("progress"))
    ):
        content.measures_total += row["n"]
        lights[row["light"]] += row["n"]
        categories[row["category"]] = categories.get(row["category"], 0) + row["n"]
        weighted += (row["p"] or 0) * row["n"]
        if row["light"] != "done" and row["status"] == MeasureStatus.CLOSING:
            content.closing += row["n"]
    content.closed = lights["done"]
    content.open = content.measures_total - content.closed - content.closing
    content.overdue = lights["red"]
    content.avg_progress = round(weighted / content.measures_total) if content.measures_total else 0
    content.lights = [documents.CountRow(_(label), lights[key], key) for key, label in LIGHT_LABELS.items()]
    category_labels = dict(MeasureCategory.choices)
    content.categories = [
        documents.CountRow(str(category_labels.get(key, key)), n, key) for key, n in sorted(categories.items())
    ]
    content.reports_in_period = ProgressReport.objects.filter(
        measure__in=item_ids, filed_at__gte=start, filed_at__lt=end
    ).count()

    # The agencies' ranking: their shares' mean progress, closed shares, red/yellow shares, overdue reports.
    shares = MeasureOwner.objects.filter(measure__in=item_ids).order_by()
    ranking = list(
        shares.annotate(light=selectors.share_light_case_as_of(last))
        .values("agency_id", "agency__name", "agency__region__name")
        .annotate(
            n=Count("id"),
            closed=Count("id", filter=Q(status=ShareStatus.CLOSED)),
            progress=Avg("progress"),
            red=Count("id", filter=Q(light="red")),
            yellow=Count("id", filter=Q(light="yellow")),
            missing=Count("id", filter=Q(report_due_on__lt=last) & ~Q(status=ShareStatus.CLOSED)),
        )
    )
    ranking.sort(key=lambda r: (-(r["progress"] or 0), r["red"], r["yellow"], r["agency__name"]))
    content.agencies = [
        documents.AgencyRow(
            rank=index,
            agency=row["agency__name"],
            region=row["agency__region__name"],
            shares=row["n"],
            closed=row["closed"],
            progress=round(row["progress"] or 0),
            red=row["red"],
            yellow=row["yellow"],
            missing_reports=row["missing"],
        )
        for index, row in enumerate(ranking, start=1)
    ]
    content.missing_reports = sum(row["missing"] for row in ranking)

    # Red and yellow items, each with its owners (主办 first).
    # Every red item; of the yellow ones, those behind longest (a bulletin of hundreds of pages is not read).
    listed = items.annotate(light=selectors.light_case_as_of(last)).select_related("agreement")
    listed = listed.only("pk", "number", "title", "due_on", "progress", "path", "yellow_from", "agreement__title")
    flagged = list(listed.filter(light="red").order_by("due_on", "agreement_id", "path"))
    flagged += list(
        listed.filter(light="yellow").order_by("yellow_from", "due_on", "agreement_id", "path")[:BEHIND_LISTED]
    )
    owners: dict[int, tuple[list[str], list[str]]] = {}
    for measure_id, role, name in (
        MeasureOwner.objects.filter(measure__in=[m.pk for m in flagged])
        .order_by("measure_id", "id")
        .values_list("measure_id", "role", "agency__name")
    ):
        lead, co = owners.setdefault(measure_id, ([], []))
        (lead if role == OwnerRole.LEAD else co).append(name)
    for measure in flagged:
        lead, co = owners.get(measure.pk, ([], []))
        row = documents.ItemRow(
            number=measure.number,
            title=measure.title,
            agreement=measure.agreement.title,
            owners=_owner_text(lead, co),
            due_on=measure.due_on,
            progress=measure.progress,
            light=measure.light,
            light_label=_(LIGHT_LABELS[measure.light]),
            days_overdue=(last - measure.due_on).days if measure.light == "red" and measure.due_on else 0,
        )
        (content.overdue_items if measure.light == "red" else content.behind_items).append(row)

    # 督办 notices issued in the period and their replies.
    supervisions = list(
        Supervision.objects.filter(measure__in=item_ids, issued_at__gte=start, issued_at__lt=end)
        .select_related("measure", "owner__agency")
        .order_by("issued_at", "id")
    )
    status_labels = dict(SupervisionStatus.choices)
    content.supervisions_issued = len(supervisions)
    content.supervisions_replied = sum(1 for s in supervisions if s.replied_at is not None)
    content.supervisions = [
        documents.SupervisionRow(
            number=s.measure.number,
            title=s.measure.title,
            agency=s.owner.agency.name,
            issued_on=timezone.localdate(s.issued_at),
            reply_due_on=s.reply_due_on,
            status_label=str(status_labels.get(s.status, s.status)),
            reply=s.reply,
            replied_on=timezone.localdate(s.replied_at) if s.replied_at else None,
        )
        for s in supervisions
    ]

    # The trend: the stored daily snapshots within the period.
    snapshots = BoardSnapshot.objects.filter(day__gte=first, day__lte=last)
    snapshots = snapshots.filter(agreement=agreement) if agreement else snapshots.filter(circle=circle, agreement=None)
    content.trend = [
        documents.TrendPoint(day=s.day, reports=s.reports, closed_total=s.done, progress=s.progress)
        for s in snapshots.order_by("day")
    ]
    return content


def _owner_text(lead: list[str], co: list[str]) -> str:
    parts = []
    if lead:
        parts.append(_("Lead: %(agencies)s") % {"agencies": "、".join(lead)})
    if co:
        parts.append(_("Co-owners: %(agencies)s") % {"agencies": "、".join(co)})
    return "；".join(parts)


# --------------------------------------------------------------------------- services


def _require_coordinator(principal, circle: Circle) -> None:
    if principal is None or getattr(principal, "is_platform_admin", False):
        return
    if circle.pk not in principal.coordinated_circle_ids:
        raise PermissionError(_("Only the circle's coordinators may issue its bulletins."))


@transaction.atomic
def create_bulletin(
    *,
    acting_user,
    circle: Circle,
    period_start: date,
    period_end: date,
    agreement: Agreement | None = None,
    title: str = "",
    doc_number: str = "",
    recipients: str = "",
    cc: str = "",
    issued_on: date | None = None,
    schedule: BulletinSchedule | None = None,
    idempotency_key: str = "",
) -> Bulletin:
    """A new bulletin, queued for the worker to render. Re-sending an idempotency key returns the first one."""
    _require_coordinator(acting_user, circle)
    if idempotency_key:
        existing = Bulletin.objects.filter(circle=circle, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    errors = {}
    if agreement is not None and agreement.circle_id != circle.pk:
        errors["agreement"] = [_("The agreement belongs to another circle.")]
    if period_end < period_start:
        errors["period_end"] = [_("The period ends before it starts.")]
    if period_end - period_start > timedelta(days=366 * 3):
        errors["period_end"] = [_("A bulletin covers at most three years.")]
    issued_on = issued_on or timezone.localdate()
    if circle.coordinating_agency_id is None:
        errors["circle"] = [_("The circle has no coordinating agency to issue bulletins.")]
    if errors:
        raise ValidationError(errors)
    scope = scope_name(circle, agreement)
    with translation.override(settings.LANGUAGE_CODE):  # the document's language, whatever the page's
        default_number = next_doc_number(circle, circle.short_name or circle.name, issued_on.year)
        defaults = {
            "title": default_title(scope, period_start, period_end),
            "doc_number": default_number,
            "recipients": _("All member agencies:"),
        }
    bulletin = Bulletin(
        circle=circle,
        agreement=agreement,
        schedule=schedule,
        title=(title or "").strip() or defaults["title"],
        doc_number=(doc_number or "").strip() or defaults["doc_number"],
        issuer_id=circle.coordinating_agency_id,
        recipients=(recipients or "").strip() or defaults["recipients"],
        cc=(cc or "").strip(),
        period_start=period_start,
        period_end=period_end,
        issued_on=issued_on,
        created_by=acting_user if getattr(acting_user, "pk", None) else None,
        idempotency_key=idempotency_key,
    )
    bulletin.full_clean(exclude=["docx", "pdf", "figures"], validate_unique=False, validate_constraints=False)
    if Bulletin.objects.filter(circle=circle, doc_number=bulletin.doc_number).exists():
        raise ValidationError({"doc_number": [_("This document number is already used in the circle.")]})
    try:
        with transaction.atomic():
            bulletin.save()
    except IntegrityError:
        if idempotency_key:
            return Bulletin.objects.get(circle=circle, idempotency_key=idempotency_key)
        raise ValidationError({"doc_number": [_("This document number is already used in the circle.")]}) from None
    record_event(acting_user=acting_user, action="ledger.bulletin.create", obj=bulletin, after=snapshot(bulletin))
    enqueue_on_commit(render_bulletin, bulletin.pk)
    return bulletin


@transaction.atomic
def rerender_bulletin(*, acting_user, bulletin: Bulletin) -> Bulletin:
    """Prepare a failed (or outdated) bulletin again."""
    bulletin = Bulletin.objects.select_for_update(of=("self",)).select_related("circle").get(pk=bulletin.pk)
    _require_coordinator(acting_user, bulletin.circle)
    started = bulletin.started_at or bulletin.created_at
    if bulletin.status == BulletinStatus.RENDERING and started > timezone.now() - STALE_RENDERING:
        raise ValidationError({"status": [_("The bulletin is being prepared.")]})
    before = snapshot(bulletin)
    bulletin.status, bulletin.progress, bulletin.error = BulletinStatus.QUEUED, 0, ""
    bulletin.save(update_fields=["status", "progress", "error"])
    record_event(
        acting_user=acting_user,
        action="ledger.bulletin.rerender",
        obj=bulletin,
        before=before,
        after=snapshot(bulletin),
    )
    enqueue_on_commit(render_bulletin, bulletin.pk)
    return bulletin


def _progress(bulletin_id: int, progress: int, **fields) -> None:
    Bulletin.objects.filter(pk=bulletin_id).update(progress=progress, **fields)


def _file_name(bulletin: Bulletin, extension: str) -> str:
    return f"bulletin-{bulletin.pk}-{bulletin.issued_on:%Y%m%d}.{extension}"


def render_now(bulletin_id: int) -> Bulletin:
    """Render a bulletin's documents (what the worker runs): progress is committed step by step for the page's
    progress bar; a failure is stored on the bulletin, and its coordinators notified, instead of being lost."""
    bulletin = Bulletin.objects.select_related("circle", "agreement", "issuer").get(pk=bulletin_id)
    _progress(bulletin_id, 5, status=BulletinStatus.RENDERING, error="", started_at=timezone.now())
    try:
        with translation.override(settings.LANGUAGE_CODE):
            content = bulletin_content(bulletin)
            prepared = documents.prepare(content)  # texts translated and charts drawn once for both documents
            _progress(bulletin_id, 30)
            docx = documents.docx_from_prepared(prepared)
            _progress(bulletin_id, 50)
            pdf = documents.pdf_from_prepared(prepared)
    except Exception as exc:
        logger.exception("bulletin %s could not be rendered", bulletin_id)
        _progress(bulletin_id, 0, status=BulletinStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    with transaction.atomic():
        bulletin = Bulletin.objects.select_for_update(of=("self",)).select_related("circle").get(pk=bulletin_id)
        for field_name in ("docx", "pdf"):
            old = getattr(bulletin, field_name)
            if old:
                old.delete(save=False)
        bulletin.docx.save(_file_name(bulletin, "docx"), ContentFile(docx), save=False)
        bulletin.pdf.save(_file_name(bulletin, "pdf"), ContentFile(pdf), save=False)
        bulletin.figures = {
            "measures": content.measures_total,
            "closed": content.closed,
            "closing": content.closing,
            "open": content.open,
            "overdue": content.overdue,
            "progress": content.avg_progress,
            "reports": content.reports_in_period,
            "missing_reports": content.missing_reports,
            "supervisions": content.supervisions_issued,
            "replied": content.supervisions_replied,
            "lights": {row.key: row.count for row in content.lights},
        }
        bulletin.status, bulletin.progress, bulletin.generated_at = BulletinStatus.READY, 100, timezone.now()
        bulletin.save()
        record_event(acting_user=None, action="ledger.bulletin.ready", obj=bulletin, after=snapshot(bulletin))
        coordinators = User.objects.filter(
            role_grants__role=Role.COORDINATOR, role_grants__circle=bulletin.circle, is_active=True
        )
        notify(
            coordinators,
            kind="ledger.bulletin",
            title=_("Bulletin ready: %(title)s") % {"title": bulletin.title},
            body=bulletin.doc_number,
            url=reverse("ledger:bulletin", args=[bulletin.pk]),
            dedupe_key=f"bulletin-ready-{bulletin.pk}-{bulletin.generated_at:%Y%m%d%H%M%S}",
        )
    return bulletin


@task()
def render_bulletin(bulletin_id: int) -> str:
    """The worker's task: render one bulletin (see ``render_now``)."""
    return render_now(bulletin_id).status


# --------------------------------------------------------------------------- schedules


def period_before(frequency: str, day: date) -> tuple[date, date]:
    """The last whole month or quarter before ``day``."""
    calendar = Calendar(BulletinFrequency.QUARTERLY if frequency == BulletinFrequency.QUARTERLY else "monthly")
    current = calendar.period(day)
    return calendar.period(current[0] - timedelta(days=1))


def next_run(frequency: str, day_of_month: int, after: date) -> date:
    """The first day after ``after`` on which a schedule prepares its bulletin: ``day_of_month`` of the month
    following each period."""
    calendar = Calendar(BulletinFrequency.QUARTERLY if frequency == BulletinFrequency.QUARTERLY else "monthly")
    period = calendar.period(calendar.period(after)[0] - timedelta(days=1))  # the period before: due after it
    while True:
        candidate = period[1] + timedelta(days=day_of_month)
        if candidate > after:
            return candidate
        period = calendar.next_period(period)


@transaction.atomic
def create_schedule(
    *,
    acting_user,
    circle: Circle,
    number_prefix: str,
    agreement: Agreement | None = None,
    frequency: str = BulletinFrequency.MONTHLY,
    day_of_month: int = 3,
    recipients: str = "",
    cc: str = "",
) -> BulletinSchedule:
    _require_coordinator(acting_user, circle)
    if agreement is not None and agreement.circle_id != circle.pk:
        raise ValidationError({"agreement": [_("The agreement belongs to another circle.")]})
    schedule = BulletinSchedule(
        circle=circle,
        agreement=agreement,
        frequency=frequency,
        day_of_month=day_of_month,
        number_prefix=(number_prefix or "").strip(),
        recipients=(recipients or "").strip(),
        cc=(cc or "").strip(),
        next_run_on=date.max,
        created_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    schedule.full_clean()
    schedule.next_run_on = next_run(frequency, day_of_month, timezone.localdate() - timedelta(days=1))
    schedule.save()
    record_event(acting_user=acting_user, action="ledger.schedule.create", obj=schedule, after=snapshot(schedule))
    return schedule


@transaction.atomic
def stop_schedule(*, acting_user, schedule: BulletinSchedule) -> BulletinSchedule:
    _require_coordinator(acting_user, schedule.circle)
    before = snapshot(schedule)
    schedule.is_active = False
    schedule.save(update_fields=["is_active"])
    record_event(
        acting_user=acting_user, action="ledger.schedule.stop", obj=schedule, before=before, after=snapshot(schedule)
    )
    return schedule


def _schedule_number(schedule: BulletinSchedule, day: date) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return next_doc_number(schedule.circle, schedule.number_prefix, day.year)


def run_schedules(day: date) -> int:
    """Create the bulletins whose schedule is due on ``day`` (the daily job); returns how many were created."""
    created = 0
    for schedule in BulletinSchedule.objects.filter(is_active=True, next_run_on__lte=day).select_related("circle"):
        with transaction.atomic():
            schedule = (
                BulletinSchedule.objects.select_for_update(of=("self",)).select_related("circle").get(pk=schedule.pk)
            )
            if not schedule.is_active or schedule.next_run_on > day:
                continue  # another worker took it
            first, last = period_before(schedule.frequency, schedule.next_run_on)
            create_bulletin(
                acting_user=None,
                circle=schedule.circle,
                agreement=schedule.agreement,
                period_start=first,
                period_end=last,
                doc_number=_schedule_number(schedule, day),
                recipients=schedule.recipients,
                cc=schedule.cc,
                issued_on=day,
                schedule=schedule,
                idempotency_key=f"schedule-{schedule.pk}-{first:%Y%m%d}",
            )
            schedule.next_run_on = next_run(schedule.frequency, schedule.day_of_month, day)
            schedule.save(update_fields=["next_run_on"])
            created += 1
    return created
