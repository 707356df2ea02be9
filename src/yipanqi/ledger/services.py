"""Ledger write operations: one transaction each, validated before writing, audited inside.

Roll-up rule (documented in docs/ledger.md): a leaf measure's progress is the mean of its owners' shares (a closed
share counts 100, a measure without owners 0); a parent's progress is the mean of its children's; every write that
changes progress recomputes the path from the leaf to the root, under a lock on the agreement so that concurrent
reports in one agreement are applied one after the other and none is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yipanqi.core.notifications import notify
from yipanqi.core.services import record_event, record_events, snapshot
from yipanqi.directory.models import Agency, Circle, Role, User

from . import lights
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

UPDATE_BATCH = 100
PATH_STEP = 4  # each tree level adds a zero-padded 4-digit position and a dot: "0001.0003."


# --------------------------------------------------------------------------- who may do what


def is_coordinator_of(principal, agreement: Agreement) -> bool:
    if principal is None:
        return True  # the system itself (demo loader, imports run by the platform)
    if getattr(principal, "is_platform_admin", False):
        return True
    return bool(agreement.circle_id and agreement.circle_id in principal.coordinated_circle_ids)


def _require_coordinator(principal, agreement: Agreement) -> None:
    if not is_coordinator_of(principal, agreement):
        raise PermissionError(_("Only the circle's coordinators may change this agreement."))


def acts_for(principal, agency_id: int) -> bool:
    """A person or system of this agency (liaison, handler, or its API key) — or the system itself."""
    if principal is None:
        return True
    if getattr(principal, "agency_id", None) != agency_id:
        return False
    if getattr(principal, "api_key_id", None):
        return "ledger:write" in (principal.scopes or ())
    return principal.has_role(Role.LIAISON) or principal.has_role(Role.HANDLER)


def _require_owner(principal, owner: MeasureOwner) -> None:
    if not acts_for(principal, owner.agency_id):
        raise PermissionError(_("Only the owning agency's liaisons and case handlers may update its share."))


# --------------------------------------------------------------------------- agreements


@transaction.atomic
def create_agreement(*, acting_user, title: str, signatories, circle: Circle | None = None, **fields) -> Agreement:
    signatories = list(dict.fromkeys(signatories))
    agreement = Agreement(title=title.strip(), circle=circle, **fields)
    if circle is None and not (acting_user is None or acting_user.is_platform_admin):
        raise PermissionError(_("Only platform administrators may create an agreement outside a circle."))
    _require_coordinator(acting_user, agreement)
    errors = {}
    if len(signatories) < 2:
        errors["signatories"] = [_("An agreement needs at least two signatory agencies.")]
    elif circle is not None:
        members = set(circle.agencies().filter(pk__in=[a.pk for a in signatories]).values_list("pk", flat=True))
        outside = [a.name for a in signatories if a.pk not in members]
        if outside:
            errors["signatories"] = [
                _("Not members of %(circle)s: %(agencies)s") % {"circle": circle, "agencies": "、".join(outside)}
            ]
    try:
        agreement.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    agreement.created_by = acting_user if getattr(acting_user, "pk", None) else None
    agreement.save()
    agreement.signatories.set(signatories)
    record_event(acting_user=acting_user, action="ledger.agreement.create", obj=agreement, after=snapshot(agreement))
    return agreement


AGREEMENT_FIELDS = (
    "title",
    "kind",
    "signed_on",
    "signed_place",
    "status",
    "valid_from",
    "valid_until",
    "superseded_by",
    "closure_rule",
    "reporting_cycle",
    "reporting_every_days",
    "source_document",
)


CALENDAR_FIELDS = {"reporting_cycle", "reporting_every_days", "valid_from", "signed_on"}


@transaction.atomic
def update_agreement(*, acting_user, agreement: Agreement, **changes) -> Agreement:
    unknown = set(changes) - set(AGREEMENT_FIELDS)
    if unknown:
        raise ValidationError({f: [_("This field cannot be changed here.")] for f in unknown})
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_coordinator(acting_user, agreement)
    before = snapshot(agreement)
    for key, value in changes.items():
        setattr(agreement, key, value)
    agreement.full_clean()
    agreement.save()
    record_event(
        acting_user=acting_user,
        action="ledger.agreement.update",
        obj=agreement,
        before=before,
        after=snapshot(agreement),
    )
    if CALENDAR_FIELDS & set(changes):
        recompute_agreement(agreement)  # a new reporting calendar moves every share's report due date
    return agreement


# --------------------------------------------------------------------------- measures


def _child_path(parent: Measure | None, position: int) -> str:
    prefix = parent.path if parent else ""
    return f"{prefix}{position:04d}."


def _check_measure(measure: Measure) -> None:
    """Field checks, then the rules that span fields, each error on the field the user must change."""
    measure.full_clean(validate_constraints=False)
    if Measure.objects.filter(agreement_id=measure.agreement_id, number=measure.number).exclude(pk=measure.pk).exists():
        message = _("Number %(number)s is already used in this agreement.") % {"number": measure.number}
        raise ValidationError({"number": [message]})
    if measure.start_on and measure.due_on and measure.due_on < measure.start_on:
        raise ValidationError({"due_on": [_("The deadline is before the start.")]})


@transaction.atomic
def add_measure(
    *, acting_user, agreement: Agreement, number: str, title: str, parent: Measure | None = None, **fields
) -> Measure:
    """A new node under ``parent`` (or at the top, an area 方面) at the end of its siblings."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    _require_coordinator(acting_user, agreement)
    if parent is not None:
        if parent.agreement_id != agreement.pk:
            raise ValidationError({"parent": [_("The parent belongs to another agreement.")]})
        parent = Measure.objects.get(pk=parent.pk)
        if parent.owners.exists():
            raise ValidationError(
                {
                    "parent": [
                        _("%(number)s has owners: a measure with owners cannot get sub-items.")
                        % {"number": parent.number}
                    ]
                }
            )
    siblings = Measure.objects.filter(agreement=agreement, parent=parent)
    position = (siblings.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    if position > 9999:
        raise ValidationError({"parent": [_("Too many sub-items under one node.")]})
    measure = Measure(
        agreement=agreement,
        parent=parent,
        number=number.strip(),
        title=title.strip(),
        position=position,
        path=_child_path(parent, position),
        depth=(parent.depth + 1) if parent else 0,
        **fields,
    )
    _check_measure(measure)
    measure.save()
    if parent is not None and parent.is_leaf:
        Measure.objects.filter(pk=parent.pk).update(is_leaf=False)
    record_event(acting_user=acting_user, action="ledger.measure.create", obj=measure, after=snapshot(measure))
    _roll_up(measure)
    return measure


MEASURE_FIELDS = ("number", "title", "text", "category", "start_on", "due_on", "milestones", "expected_outcome")


@transaction.atomic
def update_measure(*, acting_user, measure: Measure, **changes) -> Measure:
    unknown = set(changes) - set(MEASURE_FIELDS)
    if unknown:
        raise ValidationError({f: [_("This field cannot be changed here.")] for f in unknown})
    Agreement.objects.select_for_update().get(pk=measure.agreement_id)
    measure = Measure.objects.select_related("agreement__circle").get(pk=measure.pk)
    _require_coordinator(acting_user, measure.agreement)
    before = snapshot(measure)
    for key, value in changes.items():
        setattr(measure, key, value)
    _check_measure(measure)
    measure.save()
    record_event(
        acting_user=acting_user, action="ledger.measure.update", obj=measure, before=before, after=snapshot(measure)
    )
    _roll_up(measure)  # new dates move the light's transition dates and the shares' report due dates
    return measure


@transaction.atomic
def assign_owner(
    *, acting_user, measure: Measure, agency: Agency, role: str = OwnerRole.CO, department=None, person=None
) -> MeasureOwner:
    """Give an agency (in any region) a share of a leaf measure: 主办 (one per measure) or 协办."""
    Agreement.objects.select_for_update().get(pk=measure.agreement_id)
    measure = Measure.objects.select_related("agreement__circle").get(pk=measure.pk)
    _require_coordinator(acting_user, measure.agreement)
    errors = {}
    if not measure.is_leaf:
        errors["measure"] = [
            _("Owners are assigned to the items of the lowest level, not to %(number)s.") % {"number": measure.number}
        ]
    if department is not None and department.agency_id != agency.pk:
        errors["department"] = [_("The department does not belong to this agency.")]
    if person is not None and person.agency_id != agency.pk:
        errors["person"] = [_("%(person)s is not a person of %(agency)s.") % {"person": person, "agency": agency}]
    if measure.owners.filter(agency=agency).exists():
        errors["agency"] = [
            _("%(agency)s already owns a share of %(number)s.") % {"agency": agency, "number": measure.number}
        ]
    if role == OwnerRole.LEAD and measure.owners.filter(role=OwnerRole.LEAD).exists():
        errors["role"] = [_("%(number)s already has a lead agency.") % {"number": measure.number}]
    if errors:
        raise ValidationError(errors)
    owner = MeasureOwner.objects.create(
        measure=measure,
        agreement_id=measure.agreement_id,
        agency=agency,
        role=role,
        department=department,
        person=person,
    )
    record_event(acting_user=acting_user, action="ledger.owner.assign", obj=owner, after=snapshot(owner))
    _roll_up(measure)
    return owner


# --------------------------------------------------------------------------- progress and roll-up


SHARE_ROW = ("pk", "progress", "status", "last_report_at", "assigned_on", "report_due_on", "behind_from")
SHARE_ROW += ("blue_from", "yellow_from", "red_from")
SHARE_DATES = ("report_due_on", "behind_from", "blue_from", "yellow_from", "red_from")
NODE_ROW = ("pk", "parent_id", "is_leaf", "progress", "status", "start_on", "due_on")
NODE_ROW += ("blue_from", "yellow_from", "red_from", "agreement_id")


def _share_dates(share: dict, measure: dict, calendar: lights.Calendar) -> tuple:
    """(report_due_on, behind_from) of one share: none once it is closed (see ledger/lights.py)."""
    if share["status"] == ShareStatus.CLOSED or measure["status"] == MeasureStatus.DONE:
        return None, None
    last = timezone.localdate(share["last_report_at"]) if share["last_report_at"] else None
    since = measure["start_on"] or share["assigned_on"]
    due = calendar.report_due(last_report=last, since=since)
    return due, lights.behind_from(share["progress"], measure["start_on"], measure["due_on"])


def _leaf_update(node: dict, shares: list[dict], calendar: lights.Calendar) -> tuple[dict, list[MeasureOwner]]:
    """A leaf's derived fields from its shares: progress (mean; none owned: 0) and transition dates; and the shares
    whose own dates (report due, behind plan, and their light's: the measure's red and blue, their own yellow)
    changed."""
    report_dues = []
    for share in shares:
        share["_dates"] = _share_dates(share, node, calendar)
        if share["_dates"][0] is not None:
            report_dues.append(share["_dates"][0])
    progress = round(sum(s["progress"] for s in shares) / len(shares)) if shares else 0
    update = {"progress": progress, **_schedule_fields(node, progress, min(report_dues, default=None), [])}
    changed_shares = []
    for share in shares:
        due, behind = share.pop("_dates")
        if due is None and behind is None:  # closed: no light dates
            dates = dict.fromkeys(SHARE_DATES)
        else:
            missed = due + timedelta(days=1) if due else None
            yellow = min((d for d in (behind, missed) if d), default=None)
            dates = {
                "report_due_on": due,
                "behind_from": behind,
                "blue_from": update["blue_from"],
                "yellow_from": yellow,
                "red_from": update["red_from"],
            }
        if any(share[key] != value for key, value in dates.items()):
            share.update(dates)
            changed_shares.append(MeasureOwner(pk=share["pk"], **dates))
    return update, changed_shares


def _parent_update(node: dict, children: list[dict]) -> dict:
    """A parent's derived fields: progress is the mean of its children's, status done when all are, and its
    transition dates the earliest of its own and its open children's."""
    progress = round(sum(c["progress"] for c in children) / len(children)) if children else 0
    done = bool(children) and all(c["status"] == MeasureStatus.DONE for c in children)
    status = MeasureStatus.DONE if done else MeasureStatus.OPEN
    open_children = [
        lights.Schedule(c["blue_from"], c["yellow_from"], c["red_from"])
        for c in children
        if c["status"] != MeasureStatus.DONE
    ]
    return {
        "progress": progress,
        "status": status,
        **_schedule_fields({**node, "status": status}, progress, None, open_children),
    }


def _schedule_fields(node: dict, progress: int, report_due, children: list[lights.Schedule]) -> dict:
    if node["status"] == MeasureStatus.DONE:
        return {"blue_from": None, "yellow_from": None, "red_from": None}
    own = lights.own_schedule(
        progress=progress, start_on=node["start_on"], due_on=node["due_on"], report_due=report_due
    )
    schedule = lights.merge(own, children)
    return {"blue_from": schedule.blue_from, "yellow_from": schedule.yellow_from, "red_from": schedule.red_from}


def _roll_up(measure: Measure) -> None:
    """Recompute the derived fields of ``measure`` and of every ancestor, leaf to root: progress, status of parents,
    light transition dates, and the report due dates of the leaf's shares. A few small queries per level."""
    node = Measure.objects.filter(pk=measure.pk).values(*NODE_ROW).get()
    agreement = Agreement.objects.only("reporting_cycle", "reporting_every_days", "valid_from", "signed_on").get(
        pk=node["agreement_id"]
    )
    calendar = lights.Calendar.of(agreement)
    while node is not None:
        if node["is_leaf"]:
            shares = list(MeasureOwner.objects.filter(measure_id=node["pk"]).values(*SHARE_ROW))
            update, changed_shares = _leaf_update(node, shares, calendar)
            if changed_shares:
                MeasureOwner.objects.bulk_update(changed_shares, SHARE_DATES)
        else:
            children = list(Measure.objects.filter(parent_id=node["pk"]).values(*NODE_ROW))
            update = _parent_update(node, children)
        if any(node[key] != value for key, value in update.items()):
            Measure.objects.filter(pk=node["pk"]).update(**update)
        parent_id = node["parent_id"]
        node = Measure.objects.filter(pk=parent_id).values(*NODE_ROW).first() if parent_id else None


@transaction.atomic
def file_report(
    *,
    acting_user,
    owner: MeasureOwner,
    text: str,
    progress: int,
    problems: str = "",
    next_steps: str = "",
    idempotency_key: str = "",
) -> ProgressReport:
    """An owner reports on its share. Re-sending the same idempotency key returns the first report."""
    _require_owner(acting_user, owner)  # before the idempotency lookup: a stranger learns nothing from a key
    if idempotency_key:
        existing = ProgressReport.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    Agreement.objects.select_for_update().get(pk=owner.measure.agreement_id)  # serialises roll-ups in one tree
    owner = MeasureOwner.objects.select_related("measure").get(pk=owner.pk)
    _require_owner(acting_user, owner)
    errors = {}
    if not text or not text.strip():
        errors["text"] = [_("Describe the progress.")]
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        errors["progress"] = [_("Progress is a whole number from 0 to 100.")]
    if owner.status == ShareStatus.CLOSED:
        errors["owner"] = [_("This share is closed; reopen it before reporting.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    report = ProgressReport(
        measure=owner.measure,
        owner=owner,
        text=text.strip(),
        progress=progress,
        problems=problems.strip(),
        next_steps=next_steps.strip(),
        idempotency_key=idempotency_key,
        filed_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        return ProgressReport.objects.get(owner=owner, idempotency_key=idempotency_key)
    MeasureOwner.objects.filter(pk=owner.pk).update(
        progress=progress, status=ShareStatus.IN_PROGRESS, last_report_at=now
    )
    Measure.objects.filter(pk=owner.measure_id).update(last_report_at=now)
    record_event(acting_user=acting_user, action="ledger.report.file", obj=report, after=snapshot(report))
    _roll_up(owner.measure)
    return report


@transaction.atomic
def close_share(*, acting_user, owner: MeasureOwner, results: str, evidence: str = "") -> MeasureOwner:
    """An owner closes its share with its results (成效); when every share is closed the measure awaits 销号."""
    Agreement.objects.select_for_update().get(pk=owner.measure.agreement_id)
    owner = MeasureOwner.objects.select_related("measure").get(pk=owner.pk)
    _require_owner(acting_user, owner)
    if not results or not results.strip():
        raise ValidationError({"results": [_("State the results (成效) of this share.")]})
    before = snapshot(owner)
    owner.status, owner.progress, owner.closed_at = ShareStatus.CLOSED, 100, timezone.now()
    owner.results, owner.evidence = results.strip(), evidence.strip() or owner.evidence
    owner.save()
    if not MeasureOwner.objects.filter(measure_id=owner.measure_id).exclude(status=ShareStatus.CLOSED).exists():
        Measure.objects.filter(pk=owner.measure_id, status=MeasureStatus.OPEN).update(status=MeasureStatus.CLOSING)
    record_event(acting_user=acting_user, action="ledger.owner.close", obj=owner, before=before, after=snapshot(owner))
    _roll_up(owner.measure)
    return owner


def confirming_agencies(measure: Measure) -> list[int]:
    """Who must confirm a closure: the coordinating agency, or every signatory, as the agreement sets."""
    agreement = measure.agreement
    if agreement.closure_rule == ClosureRule.ALL_SIGNATORIES:
        return sorted(agreement.signatories.values_list("pk", flat=True))
    return [agreement.circle.coordinating_agency_id] if agreement.circle_id else []


@transaction.atomic
def confirm_closure(*, acting_user, measure: Measure, results: str = "") -> Measure:
    """销号: confirmation by the coordinator or by one signatory; the last one needed closes the measure."""
    Agreement.objects.select_for_update().get(pk=measure.agreement_id)
    measure = Measure.objects.select_related("agreement__circle").get(pk=measure.pk)
    agreement = measure.agreement
    if measure.status != MeasureStatus.CLOSING:
        raise ValidationError(
            {
                "status": [
                    _("%(number)s is not awaiting closure: every owner must close its share first.")
                    % {"number": measure.number}
                ]
            }
        )
    if agreement.closure_rule == ClosureRule.COORDINATOR:
        _require_coordinator(acting_user, agreement)
        agency_id = agreement.circle.coordinating_agency_id if agreement.circle_id else None
    else:
        agency_id = getattr(acting_user, "agency_id", None)
        if acting_user is not None and not (
            agency_id in confirming_agencies(measure) and acting_user.has_role(Role.LIAISON)
        ):
            raise PermissionError(_("Only a liaison of a signatory agency may confirm this closure."))
    if agency_id is None:
        raise ValidationError({"agency": [_("Nobody is set to confirm closures of this agreement.")]})
    ClosureConfirmation.objects.get_or_create(
        measure=measure,
        agency_id=agency_id,
        defaults={"confirmed_by": acting_user if getattr(acting_user, "pk", None) else None},
    )
    confirmed = set(measure.confirmations.values_list("agency_id", flat=True))
    before = snapshot(measure)
    if set(confirming_agencies(measure)) <= confirmed:
        measure.status, measure.closed_at = MeasureStatus.DONE, timezone.now()
        if results:
            measure.results = results.strip()
        measure.save(update_fields=["status", "closed_at", "results"])
    record_event(
        acting_user=acting_user,
        action="ledger.measure.confirm",
        obj=measure,
        before=before,
        after={**snapshot(measure), "confirmed_by_agency": agency_id},
    )
    _roll_up(measure)
    return measure


# --------------------------------------------------------------------------- supervision (督办)


@transaction.atomic
def issue_supervision(
    *, acting_user, owner: MeasureOwner, message: str, reply_due_on: date, light: str = ""
) -> Supervision:
    owner = MeasureOwner.objects.select_related("measure__agreement__circle").get(pk=owner.pk)
    _require_coordinator(acting_user, owner.measure.agreement)
    errors = {}
    if not message or not message.strip():
        errors["message"] = [_("Write what is urged.")]
    if reply_due_on < timezone.localdate():
        errors["reply_due_on"] = [_("The reply deadline is in the past.")]
    if owner.measure.status == MeasureStatus.DONE:
        errors["owner"] = [_("%(number)s is closed.") % {"number": owner.measure.number}]
    elif owner.status == ShareStatus.CLOSED:
        errors["owner"] = [
            _("%(agency)s has already closed its share of %(number)s.")
            % {"agency": owner.agency, "number": owner.measure.number}
        ]
    if errors:
        raise ValidationError(errors)
    if not light:
        from .selectors import light_for

        light = light_for(owner.measure)
    supervision = Supervision.objects.create(
        measure=owner.measure,
        owner=owner,
        message=message.strip(),
        reply_due_on=reply_due_on,
        light=light,
        issued_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    record_event(
        acting_user=acting_user, action="ledger.supervision.issue", obj=supervision, after=snapshot(supervision)
    )
    liaisons = User.objects.filter(agency_id=owner.agency_id, is_active=True, role_grants__role=Role.LIAISON)
    notify(
        [*liaisons, *([owner.person] if owner.person_id else [])],
        kind="ledger.supervision",
        title=_("Supervision notice (督办) on %(number)s: reply by %(date)s")
        % {"number": owner.measure.number, "date": reply_due_on.isoformat()},
        body=supervision.message,
        url=reverse("ledger:measure", args=[owner.measure_id]),
        dedupe_key=f"supervision-{supervision.pk}",
    )
    return supervision


@transaction.atomic
def reply_supervision(*, acting_user, supervision: Supervision, reply: str) -> Supervision:
    supervision = (
        Supervision.objects.select_for_update(of=("self",))
        .select_related("owner__agency", "measure")
        .get(pk=supervision.pk)
    )
    _require_owner(acting_user, supervision.owner)
    if supervision.status == SupervisionStatus.CLOSED:
        raise ValidationError({"status": [_("This supervision notice is closed.")]})
    if not reply or not reply.strip():
        raise ValidationError({"reply": [_("Write the reply.")]})
    before = snapshot(supervision)
    supervision.reply, supervision.status = reply.strip(), SupervisionStatus.REPLIED
    supervision.replied_by = acting_user if getattr(acting_user, "pk", None) else None
    supervision.replied_at = timezone.now()
    supervision.save()
    record_event(
        acting_user=acting_user,
        action="ledger.supervision.reply",
        obj=supervision,
        before=before,
        after=snapshot(supervision),
    )
    if supervision.issued_by_id:
        notify(
            [supervision.issued_by_id],
            kind="ledger.supervision-reply",
            title=_("%(agency)s replied to the supervision notice on %(number)s")
            % {"agency": supervision.owner.agency, "number": supervision.measure.number},
            body=supervision.reply,
            url=reverse("ledger:measure", args=[supervision.measure_id]),
            dedupe_key=f"supervision-reply-{supervision.pk}-{supervision.replied_at:%Y%m%d%H%M%S}",
        )
    return supervision


@transaction.atomic
def close_supervision(*, acting_user, supervision: Supervision) -> Supervision:
    supervision = (
        Supervision.objects.select_for_update(of=("self",))
        .select_related("measure__agreement__circle")
        .get(pk=supervision.pk)
    )
    _require_coordinator(acting_user, supervision.measure.agreement)
    before = snapshot(supervision)
    supervision.status = SupervisionStatus.CLOSED
    supervision.save(update_fields=["status"])
    record_event(
        acting_user=acting_user,
        action="ledger.supervision.close",
        obj=supervision,
        before=before,
        after=snapshot(supervision),
    )
    return supervision


# --------------------------------------------------------------------------- bulk import


@dataclass
class ImportNode:
    """One measure to create: ``parent`` is another node of the same import, ``parent_measure`` an existing one."""

    number: str
    title: str
    parent: ImportNode | None = None
    parent_measure: Measure | None = None
    text: str = ""
    category: str = "regular"
    start_on: date | None = None
    due_on: date | None = None
    expected_outcome: str = ""
    lead: Agency | None = None
    co_owners: list[Agency] = field(default_factory=list)
    row: int = 0  # where it came from (a spreadsheet row), carried into errors
    measure: Measure | None = None  # set once created


@transaction.atomic
def import_tree(*, acting_user, agreement: Agreement, nodes: list[ImportNode]) -> list[Measure]:
    """Create a whole tree of measures and their owners at once (Excel import): the same rules as ``add_measure`` and
    ``assign_owner``, but bulk inserts, one audit event per measure and per share, and one roll-up at the end."""
    agreement = Agreement.objects.select_for_update(of=("self",)).select_related("circle").get(pk=agreement.pk)
    _require_coordinator(acting_user, agreement)
    taken = set(Measure.objects.filter(agreement=agreement).values_list("number", flat=True))
    errors = []
    parents_with_owners = set(
        MeasureOwner.objects.filter(measure__agreement=agreement).values_list("measure_id", flat=True)
    )

    def error(node, message):
        return ValidationError(message, code="rejected", params={"row": node.row})

    for node in nodes:
        if node.number in taken:
            message = _("Number %(number)s is already used in this agreement.") % {"number": node.number}
            errors.append(error(node, message))
        taken.add(node.number)
        if node.parent_measure is not None and node.parent_measure.pk in parents_with_owners:
            message = _("%(number)s has owners: a measure with owners cannot get sub-items.")
            errors.append(error(node, message % {"number": node.parent_measure.number}))
        if node.start_on and node.due_on and node.due_on < node.start_on:
            message = _("%(number)s: the deadline is before the start.") % {"number": node.number}
            errors.append(error(node, message))
    if errors:
        raise ValidationError({"measures": errors})
    next_position: dict[int | None, int] = {}
    for parent_id, position in (
        Measure.objects.filter(agreement=agreement).values_list("parent_id").annotate(top=Max("position"))
    ):
        next_position[parent_id] = position
    created: list[Measure] = []
    pending = list(nodes)
    while pending:  # level by level: a node is created once its parent exists
        ready = [n for n in pending if n.parent is None or n.parent.measure is not None]
        if not ready:
            raise ValidationError({"measures": [_("The rows' parents form a cycle.")]})
        batch = []
        for node in ready:
            parent = node.parent.measure if node.parent is not None else node.parent_measure
            key = parent.pk if parent is not None else None
            next_position[key] = position = next_position.get(key, 0) + 1
            node.measure = Measure(
                agreement=agreement,
                parent=parent,
                number=node.number.strip(),
                title=node.title.strip(),
                position=position,
                path=_child_path(parent, position),
                depth=(parent.depth + 1) if parent else 0,
                text=node.text,
                category=node.category,
                start_on=node.start_on,
                due_on=node.due_on,
                expected_outcome=node.expected_outcome,
            )
            batch.append(node.measure)
        Measure.objects.bulk_create(batch, batch_size=1000)
        created.extend(batch)
        pending = [n for n in pending if n.measure is None]
    parent_ids = {m.parent_id for m in created if m.parent_id}
    Measure.objects.filter(pk__in=parent_ids, is_leaf=True).update(is_leaf=False)
    for measure in created:
        measure.is_leaf = measure.pk not in parent_ids
    owners = []
    for node in nodes:
        owned = [(node.lead, OwnerRole.LEAD)] if node.lead else []
        owned += [(agency, OwnerRole.CO) for agency in node.co_owners]
        if owned and not node.measure.is_leaf:
            message = _("Owners are assigned to the items of the lowest level, not to %(number)s.")
            raise ValidationError({"measures": [error(node, message % {"number": node.number})]})
        owners += [
            MeasureOwner(measure=node.measure, agreement=agreement, agency=agency, role=role) for agency, role in owned
        ]
    MeasureOwner.objects.bulk_create(owners, batch_size=1000)
    record_events(acting_user=acting_user, action="ledger.measure.create", objs=created)
    record_events(acting_user=acting_user, action="ledger.owner.assign", objs=owners)
    recompute_agreement(agreement)
    return created


def recompute_agreement(agreement: Agreement) -> int:
    """The roll-up rule over a whole agreement at once (after bulk changes, or a new reporting calendar): every
    measure's and share's derived fields. Returns how many measures changed."""
    calendar = lights.Calendar.of(agreement)
    rows = list(Measure.objects.filter(agreement=agreement).values(*NODE_ROW, "depth"))
    shares: dict[int, list[dict]] = {}
    for share in MeasureOwner.objects.filter(measure__agreement=agreement).values(*SHARE_ROW, "measure_id"):
        shares.setdefault(share["measure_id"], []).append(share)
    children: dict[int, list[dict]] = {}
    for row in rows:
        if row["parent_id"]:
            children.setdefault(row["parent_id"], []).append(row)
    changed, changed_shares = [], []
    fields = ("progress", "status", "blue_from", "yellow_from", "red_from")
    for row in sorted(rows, key=lambda r: -r["depth"]):  # deepest first: children are final before their parent
        if row["is_leaf"]:
            update, moved = _leaf_update(row, shares.get(row["pk"], []), calendar)
            changed_shares += moved
        else:
            update = _parent_update(row, children.get(row["pk"], []))
        if any(row[key] != value for key, value in update.items()):
            row.update(update)
            changed.append(Measure(pk=row["pk"], **{key: row[key] for key in fields}))
    # bulk_update writes one CASE per field per batch, evaluated row by row: small batches keep it linear.
    Measure.objects.bulk_update(changed, fields, batch_size=UPDATE_BATCH)
    MeasureOwner.objects.bulk_update(changed_shares, SHARE_DATES, batch_size=UPDATE_BATCH)
    return len(changed)
