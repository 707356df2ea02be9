"""Meeting write operations: one transaction each, validated before writing, audited inside, notifications on commit.

Who may do what (docs/meetings.md):
- a series is set up and changed by its circle's coordinators (a series outside any circle: by a liaison of a
  member agency); they and the host agency schedule and run meetings;
- any member agency's liaisons and case handlers (or its system, with ``meetings:write``) propose topics while the
  agenda is open; only the host agency orders the agenda;
- the host records outcomes and decisions, drafts and submits the minutes; every member agency's liaison approves
  them; the last approval freezes the meeting (any later change is a ``Conflict``, HTTP 409) and enters the
  decisions in the ledger.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yipanqi.core.errors import Conflict
from yipanqi.core.notifications import notify
from yipanqi.core.services import record_event, snapshot
from yipanqi.directory.models import Agency, Circle, Role
from yipanqi.ledger import services as ledger
from yipanqi.ledger.models import Agreement, AgreementKind, AgreementStatus, Measure, OwnerRole

from . import selectors
from .models import (
    Decision,
    DecisionKind,
    DecisionTarget,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    MinutesApproval,
    MinutesStatus,
    SeriesMember,
    Topic,
    TopicOutcome,
)

WRITE_SCOPE = "meetings:write"
BULK_BATCH = 100


# --------------------------------------------------------------------------- who may do what


def _is_system(principal) -> bool:
    return principal is None


def acts_for(principal, agency_id: int | None, roles=(Role.LIAISON, Role.HANDLER)) -> bool:
    """A person of this agency holding one of ``roles``, or its system with ``meetings:write`` — or the system."""
    if principal is None:
        return True
    if agency_id is None or getattr(principal, "agency_id", None) != agency_id:
        return False
    if getattr(principal, "api_key_id", None):
        return WRITE_SCOPE in (principal.scopes or ()) and Role.HANDLER in roles
    return any(principal.has_role(role) for role in roles)


def manages_series(principal, series: MeetingSeries) -> bool:
    """The circle's coordinators; for a series outside any circle, the liaisons of its member agencies."""
    if principal is None or getattr(principal, "is_platform_admin", False):
        return True
    if getattr(principal, "api_key_id", None):
        return False
    if series.circle_id:
        return series.circle_id in principal.coordinated_circle_ids
    return (
        bool(principal.agency_id)
        and principal.has_role(Role.LIAISON)
        and (SeriesMember.objects.filter(series=series, agency_id=principal.agency_id).exists())
    )


def hosts(principal, meeting: Meeting) -> bool:
    """A person (liaison or case handler) or system of the host agency."""
    return acts_for(principal, meeting.host_id)


def runs(principal, meeting: Meeting) -> bool:
    """The host agency or the series' managers: schedule, open and close the agenda, record the meeting."""
    return hosts(principal, meeting) or manages_series(principal, meeting.series)


def _require_manager(principal, series: MeetingSeries) -> None:
    if not manages_series(principal, series):
        raise PermissionError(_("Only the coordinators of the series' circle may change this series."))


def _require_runner(principal, meeting: Meeting) -> None:
    if not runs(principal, meeting):
        raise PermissionError(_("Only the host agency and the series' coordinators may do this."))


def _require_host(principal, meeting: Meeting) -> None:
    if not hosts(principal, meeting):
        raise PermissionError(_("Only the host agency (%(host)s) may order the agenda.") % {"host": meeting.host.name})


def _lock(meeting: Meeting) -> Meeting:
    """The meeting, locked for this transaction, with its series; approved minutes refuse every change."""
    meeting = Meeting.objects.select_for_update(of=("self",)).select_related("series", "host").get(pk=meeting.pk)
    if meeting.is_frozen:
        raise Conflict(_("The minutes of this meeting are approved by every member: it can no longer be changed."))
    return meeting


def _require_status(meeting: Meeting, *allowed: str) -> None:
    if meeting.status not in allowed:
        labels = "、".join(str(MeetingStatus(s).label) for s in allowed)
        raise Conflict(
            _("The meeting is %(status)s; this can be done only when it is: %(allowed)s.")
            % {"status": meeting.get_status_display(), "allowed": labels}
        )


def _outside(series: MeetingSeries, agencies: Iterable[Agency]) -> list[Agency]:
    members = selectors.member_ids(series)
    return [a for a in agencies if a is not None and a.pk not in members]


def _not_members_error(series: MeetingSeries, agencies: list[Agency]) -> str:
    return _("Not members of %(series)s: %(agencies)s") % {
        "series": series.title,
        "agencies": "、".join(a.name for a in agencies),
    }


def _user(acting_user):
    return acting_user if getattr(acting_user, "pk", None) and not getattr(acting_user, "api_key_id", None) else None


def meeting_url(meeting: Meeting) -> str:
    return reverse("meetings:meeting", args=[meeting.pk])


# --------------------------------------------------------------------------- series


SERIES_FIELDS = ("title", "kind", "rotation_rule", "standing_agreement", "next_host", "description")


def _check_series(series: MeetingSeries, members: list[Agency] | None) -> None:
    errors = {}
    try:
        series.full_clean(exclude=["members"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if members is not None:
        if len(members) < 2:
            errors["members"] = [_("A meeting series needs at least two member agencies.")]
        elif series.circle_id:
            inside = set(series.circle.agencies().filter(pk__in=[a.pk for a in members]).values_list("pk", flat=True))
            outside = [a.name for a in members if a.pk not in inside]
            if outside:
                errors["members"] = [
                    _("Not members of %(circle)s: %(agencies)s")
                    % {"circle": series.circle, "agencies": "、".join(outside)}
                ]
    member_pks = {a.pk for a in members} if members is not None else selectors.member_ids(series)
    if series.next_host_id and series.next_host_id not in member_pks:
        errors["next_host"] = [_("The next host must be a member agency.")]
    agreement = series.standing_agreement
    if agreement is not None and series.circle_id and agreement.circle_id != series.circle_id:
        errors["standing_agreement"] = [_("The standing agreement belongs to another circle.")]
    if errors:
        raise ValidationError(errors)


def _check_agreement(acting_user, series: MeetingSeries) -> None:
    """A standing agreement the acting person cannot see is as good as unknown."""
    if series.standing_agreement_id is None or acting_user is None:
        return
    if not Agreement.objects.visible_to(acting_user).filter(pk=series.standing_agreement_id).exists():
        raise ValidationError({"standing_agreement": [_("Unknown agreement.")]})


@transaction.atomic
def create_series(
    *, acting_user, title: str, members: Iterable[Agency], circle: Circle | None = None, **fields
) -> MeetingSeries:
    """A series with its members in rotation order (the order given is the fixed order)."""
    members = list(dict.fromkeys(members))
    series = MeetingSeries(title=(title or "").strip(), circle=circle, **fields)
    if circle is None:
        is_member_liaison = (
            acting_user is not None
            and not getattr(acting_user, "api_key_id", None)
            and acting_user.agency_id in {a.pk for a in members}
            and acting_user.has_role(Role.LIAISON)
        )
        if not (acting_user is None or acting_user.is_platform_admin or is_member_liaison):
            raise PermissionError(_("A series outside any circle is set up by a liaison of one of its members."))
    else:
        _require_manager(acting_user, series)
    _check_agreement(acting_user, series)
    _check_series(series, members)
    series.created_by = _user(acting_user)
    series.save()
    SeriesMember.objects.bulk_create(
        [SeriesMember(series=series, agency=agency, position=i) for i, agency in enumerate(members, start=1)]
    )
    record_event(acting_user=acting_user, action="meetings.series.create", obj=series, after=snapshot(series))
    return series


@transaction.atomic
def update_series(*, acting_user, series: MeetingSeries, members: Iterable[Agency] | None = None, **changes):
    """Change the series' fields; ``members`` (in rotation order) replaces the membership, keeping joining dates."""
    unknown = set(changes) - set(SERIES_FIELDS)
    if unknown:
        raise ValidationError({f: [_("This field cannot be changed here.")] for f in unknown})
    series = MeetingSeries.objects.select_for_update(of=("self",)).select_related("circle").get(pk=series.pk)
    _require_manager(acting_user, series)
    before = {**snapshot(series), "members": [s.agency_id for s in selectors.seats(series)]}
    for key, value in changes.items():
        setattr(series, key, value)
    members = list(dict.fromkeys(members)) if members is not None else None
    if "standing_agreement" in changes:
        _check_agreement(acting_user, series)
    _check_series(series, members)
    series.save()
    if members is not None:
        seats = {s.agency_id: s for s in SeriesMember.objects.filter(series=series)}
        keep = {a.pk for a in members}
        SeriesMember.objects.filter(series=series).exclude(agency_id__in=keep).delete()
        for position, agency in enumerate(members, start=1):
            seat = seats.get(agency.pk)
            if seat is None:
                SeriesMember.objects.create(series=series, agency=agency, position=position)
            elif seat.position != position:
                SeriesMember.objects.filter(pk=seat.pk).update(position=position)
    after = {**snapshot(series), "members": [s.agency_id for s in selectors.seats(series)]}
    record_event(acting_user=acting_user, action="meetings.series.update", obj=series, before=before, after=after)
    return series


# --------------------------------------------------------------------------- meetings


MEETING_FIELDS = (
    "title",
    "starts_at",
    "ends_at",
    "place",
    "host",
    "agenda_deadline",
    "participant_agencies",
    "participant_people",
    "minutes_as_agreement",
    "source_document",
)


def _check_meeting(meeting: Meeting, agencies, people) -> None:
    errors = {}
    try:
        meeting.full_clean(exclude=["series", "number"], validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if meeting.starts_at and meeting.ends_at and meeting.ends_at < meeting.starts_at:
        errors["ends_at"] = [_("The meeting ends before it starts.")]
    if meeting.host_id and meeting.host_id not in selectors.member_ids(meeting.series):
        errors["host"] = [_("%(agency)s is not a member of this series.") % {"agency": meeting.host}]
    if people is not None:
        known = (
            {a.pk for a in agencies}
            if agencies is not None
            else set(meeting.participant_agencies.values_list("pk", flat=True))
        )
        strangers = [p for p in people if p.agency_id not in known]
        if strangers:
            errors["participant_people"] = [
                _("People must belong to a participating agency: %(people)s")
                % {"people": "、".join(str(p) for p in strangers)}
            ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def schedule_meeting(
    *,
    acting_user,
    series: MeetingSeries,
    starts_at: datetime,
    host: Agency | None = None,
    participant_agencies: Iterable[Agency] | None = None,
    participant_people: Iterable | None = None,
    **fields,
) -> Meeting:
    """The next meeting of the series: numbered after the last one, hosted by ``host`` or the proposed host; it
    receives the unfinished topics of earlier meetings."""
    series = MeetingSeries.objects.select_for_update(of=("self",)).select_related("circle").get(pk=series.pk)
    if host is None:
        host = selectors.proposed_host(series)
    if host is None:
        raise ValidationError({"host": [_("The series has no members to host it.")]})
    number = (Meeting.objects.filter(series=series).aggregate(n=Max("number"))["n"] or 0) + 1
    meeting = Meeting(series=series, number=number, starts_at=starts_at, host=host, **fields)
    if not (manages_series(acting_user, series) or acts_for(acting_user, host.pk, roles=(Role.LIAISON,))):
        raise PermissionError(_("Only the series' coordinators and the host agency may schedule a meeting."))
    agencies = list(participant_agencies) if participant_agencies is not None else None
    people = list(participant_people or [])
    if agencies is None:
        agencies = [seat.agency for seat in selectors.seats(series)]
    _check_meeting(meeting, agencies, people)
    meeting.created_by = _user(acting_user)
    meeting.save()
    meeting.participant_agencies.set(agencies)
    meeting.participant_people.set(people)
    if series.next_host_id == host.pk:
        MeetingSeries.objects.filter(pk=series.pk).update(next_host=None)
    record_event(acting_user=acting_user, action="meetings.meeting.schedule", obj=meeting, after=snapshot(meeting))
    _carry_over(series)
    return meeting


@transaction.atomic
def record_held_meeting(
    *,
    acting_user,
    series: MeetingSeries,
    starts_at: datetime,
    host: Agency,
    participant_agencies: Iterable[Agency] | None = None,
    **fields,
) -> Meeting:
    """A meeting that has already taken place, entered afterwards (from its minutes or a report of it): numbered
    after the series' last meeting, held by ``host``, status held at once, no agenda and no notifications. Its topics
    are entered with ``record_topic`` and its decisions with ``record_decision``; the minutes follow as usual."""
    series = MeetingSeries.objects.select_for_update(of=("self",)).select_related("circle").get(pk=series.pk)
    if not (manages_series(acting_user, series) or acts_for(acting_user, host.pk, roles=(Role.LIAISON,))):
        raise PermissionError(_("Only the series' coordinators and the host agency may record a meeting."))
    if starts_at > timezone.now():
        raise ValidationError({"starts_at": [_("A meeting recorded as held must have taken place already.")]})
    number = (Meeting.objects.filter(series=series).aggregate(n=Max("number"))["n"] or 0) + 1
    meeting = Meeting(series=series, number=number, starts_at=starts_at, host=host, **fields)
    agencies = list(participant_agencies) if participant_agencies is not None else None
    if agencies is None:
        agencies = [seat.agency for seat in selectors.seats(series)]
    _check_meeting(meeting, agencies, [])
    meeting.status = MeetingStatus.HELD
    meeting.held_at = timezone.now()
    meeting.created_by = _user(acting_user)
    meeting.save()
    meeting.participant_agencies.set(agencies)
    record_event(acting_user=acting_user, action="meetings.meeting.record_held", obj=meeting, after=snapshot(meeting))
    return meeting


@transaction.atomic
def update_meeting(*, acting_user, meeting: Meeting, **changes) -> Meeting:
    unknown = set(changes) - set(MEETING_FIELDS)
    if unknown:
        raise ValidationError({f: [_("This field cannot be changed here.")] for f in unknown})
    meeting = _lock(meeting)
    _require_runner(acting_user, meeting)
    if "host" in changes and changes["host"] != meeting.host:
        _require_status(meeting, MeetingStatus.PLANNED, MeetingStatus.AGENDA_OPEN)
    if "minutes_as_agreement" in changes and meeting.minutes_status == MinutesStatus.PENDING:
        raise Conflict(_("The minutes await approval: take them back to draft before changing this."))
    before = snapshot(meeting)
    agencies = changes.pop("participant_agencies", None)
    people = changes.pop("participant_people", None)
    agencies = list(agencies) if agencies is not None else None
    people = list(people) if people is not None else None
    for key, value in changes.items():
        setattr(meeting, key, value)
    _check_meeting(meeting, agencies, people)
    meeting.save()
    if agencies is not None:
        meeting.participant_agencies.set(agencies)
    if people is not None:
        meeting.participant_people.set(people)
    record_event(
        acting_user=acting_user, action="meetings.meeting.update", obj=meeting, before=before, after=snapshot(meeting)
    )
    return meeting


def _tell_members(meeting: Meeting, *, kind: str, title: str, body: str = "", agencies=None, dedupe: str = ""):
    agency_ids = agencies if agencies is not None else selectors.member_ids(meeting.series)
    notify(
        selectors.liaisons_of(agency_ids),
        kind=kind,
        title=title,
        body=body,
        url=meeting_url(meeting),
        dedupe_key=dedupe,
    )


def _transition(acting_user, meeting: Meeting, *, to: str, allowed: tuple[str, ...], action: str) -> Meeting:
    meeting = _lock(meeting)
    _require_runner(acting_user, meeting)
    _require_status(meeting, *allowed)
    before = snapshot(meeting, ["status"])
    meeting.status = to
    if to == MeetingStatus.HELD:
        meeting.held_at = timezone.now()
    meeting.save(update_fields=["status", "held_at"])
    record_event(
        acting_user=acting_user, action=action, obj=meeting, before=before, after=snapshot(meeting, ["status"])
    )
    return meeting


@transaction.atomic
def open_agenda(*, acting_user, meeting: Meeting) -> Meeting:
    meeting = _transition(
        acting_user,
        meeting,
        to=MeetingStatus.AGENDA_OPEN,
        allowed=(MeetingStatus.PLANNED,),
        action="meetings.agenda.open",
    )
    deadline = meeting.agenda_deadline
    body = _("Topics may be proposed until %(date)s.") % {"date": deadline.isoformat()} if deadline else ""
    _tell_members(
        meeting,
        kind="meetings.agenda_open",
        title=_("Agenda open: %(meeting)s — propose your topics") % {"meeting": meeting.display_title},
        body=body,
        dedupe=f"meetings.agenda_open.{meeting.pk}",
    )
    return meeting


@transaction.atomic
def close_agenda(*, acting_user, meeting: Meeting) -> Meeting:
    meeting = _transition(
        acting_user,
        meeting,
        to=MeetingStatus.AGENDA_CLOSED,
        allowed=(MeetingStatus.AGENDA_OPEN,),
        action="meetings.agenda.close",
    )
    count = meeting.topics.exclude(outcome=TopicOutcome.WITHDRAWN).count()
    _tell_members(
        meeting,
        kind="meetings.agenda_closed",
        title=_("Agenda closed: %(meeting)s") % {"meeting": meeting.display_title},
        body=_("%(count)s topics are on the agenda.") % {"count": count},
        dedupe=f"meetings.agenda_closed.{meeting.pk}",
    )
    return meeting


@transaction.atomic
def mark_held(*, acting_user, meeting: Meeting) -> Meeting:
    return _transition(
        acting_user,
        meeting,
        to=MeetingStatus.HELD,
        allowed=(MeetingStatus.AGENDA_CLOSED,),
        action="meetings.meeting.held",
    )


# --------------------------------------------------------------------------- agenda


def _check_measures(series: MeetingSeries, measures: list[Measure], field: str) -> None:
    allowed = set(selectors.series_agreement_ids(series))
    foreign = [m for m in measures if m.agreement_id not in allowed]
    if foreign:
        raise ValidationError(
            {
                field: [
                    _("Not measures of this series' agreements: %(numbers)s")
                    % {"numbers": "、".join(m.number for m in foreign)}
                ]
            }
        )


def _proposing_agency(acting_user, series: MeetingSeries, agency: Agency | None) -> Agency | None:
    """The member agency a topic comes from: the proposer's own; the series' managers may name any member."""
    members = selectors.member_ids(series)
    if agency is None and acting_user is not None and getattr(acting_user, "agency_id", None) in members:
        agency = Agency.objects.get(pk=acting_user.agency_id)
    if agency is None:
        if acting_user is None or manages_series(acting_user, series):
            return None
        raise PermissionError(_("Only member agencies propose topics."))
    if agency.pk not in members:
        raise ValidationError({"agency": [_not_members_error(series, [agency])]})
    if not (acts_for(acting_user, agency.pk) or manages_series(acting_user, series)):
        raise PermissionError(_("Only the liaisons and case handlers of a member agency propose its topics."))
    return agency


@transaction.atomic
def propose_topic(
    *,
    acting_user,
    meeting: Meeting,
    title: str,
    description: str = "",
    measures: Iterable[Measure] = (),
    agency: Agency | None = None,
    idempotency_key: str = "",
) -> Topic:
    """A topic for the agenda. A retried call with the same ``idempotency_key`` returns the topic it created."""
    meeting = _lock(meeting)
    if idempotency_key:
        existing = Topic.objects.filter(meeting=meeting, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    agency = _proposing_agency(acting_user, meeting.series, agency)
    if meeting.status != MeetingStatus.AGENDA_OPEN and not runs(acting_user, meeting):
        _require_status(meeting, MeetingStatus.AGENDA_OPEN)
    _require_status(meeting, MeetingStatus.PLANNED, MeetingStatus.AGENDA_OPEN, MeetingStatus.AGENDA_CLOSED)
    measures = list(dict.fromkeys(measures))
    _check_measures(meeting.series, measures, "measures")
    position = (meeting.topics.aggregate(n=Max("position"))["n"] or 0) + 1
    topic = Topic(
        meeting=meeting,
        position=position,
        title=(title or "").strip(),
        description=(description or "").strip(),
        proposed_by_agency=agency,
        proposed_by=_user(acting_user),
        idempotency_key=idempotency_key,
    )
    topic.full_clean(exclude=["measures", "carried_from"], validate_constraints=False)
    topic.save()
    topic.measures.set(measures)
    record_event(acting_user=acting_user, action="meetings.topic.propose", obj=topic, after=snapshot(topic))
    return topic


@transaction.atomic
def record_topic(
    *,
    acting_user,
    meeting: Meeting,
    title: str,
    description: str = "",
    measures: Iterable[Measure] = (),
    agency: Agency | None = None,
    outcome: str = TopicOutcome.CONCLUDED,
    idempotency_key: str = "",
) -> Topic:
    """A topic the meeting discussed without it being on the agenda (临时动议), or entered afterwards from the
    minutes: by those who run the meeting, once the agenda is closed and until the minutes are submitted; its outcome
    is concluded unless said otherwise (an unfinished topic goes on to the next meeting)."""
    meeting = _lock(meeting)
    _require_runner(acting_user, meeting)
    if idempotency_key:
        existing = Topic.objects.filter(meeting=meeting, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    _require_status(meeting, MeetingStatus.AGENDA_CLOSED, MeetingStatus.HELD)
    if meeting.minutes_status == MinutesStatus.PENDING:
        raise Conflict(_("The minutes await approval: take them back to draft before changing this."))
    if outcome not in (TopicOutcome.PENDING, TopicOutcome.CONCLUDED, TopicOutcome.UNFINISHED):
        raise ValidationError({"outcome": [_("Choose concluded or unfinished.")]})
    if agency is not None and agency.pk not in selectors.member_ids(meeting.series):
        raise ValidationError({"agency": [_not_members_error(meeting.series, [agency])]})
    measures = list(dict.fromkeys(measures))
    _check_measures(meeting.series, measures, "measures")
    position = (meeting.topics.aggregate(n=Max("position"))["n"] or 0) + 1
    topic = Topic(
        meeting=meeting,
        position=position,
        title=(title or "").strip(),
        description=(description or "").strip(),
        proposed_by_agency=agency,
        proposed_by=_user(acting_user),
        outcome=outcome,
        idempotency_key=idempotency_key,
    )
    topic.full_clean(exclude=["measures", "carried_from"], validate_constraints=False)
    topic.save()
    topic.measures.set(measures)
    record_event(acting_user=acting_user, action="meetings.topic.record", obj=topic, after=snapshot(topic))
    if outcome == TopicOutcome.UNFINISHED:
        _carry_over(meeting.series)
    return topic


TOPIC_FIELDS = ("title", "description", "measures")


@transaction.atomic
def update_topic(*, acting_user, topic: Topic, **changes) -> Topic:
    unknown = set(changes) - set(TOPIC_FIELDS)
    if unknown:
        raise ValidationError({f: [_("This field cannot be changed here.")] for f in unknown})
    meeting = _lock(topic.meeting)
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    own = topic.proposed_by_agency_id and acts_for(acting_user, topic.proposed_by_agency_id)
    if not (own or runs(acting_user, meeting)):
        raise PermissionError(_("Only the proposing agency and the host may change a topic."))
    if meeting.status in (MeetingStatus.HELD,) and set(changes) - {"measures"}:
        raise Conflict(_("The meeting is held: its topics stand as discussed."))
    before = snapshot(topic)
    measures = changes.pop("measures", None)
    for key, value in changes.items():
        setattr(topic, key, value.strip() if isinstance(value, str) else value)
    topic.full_clean(exclude=["measures", "carried_from"], validate_constraints=False)
    if measures is not None:
        measures = list(dict.fromkeys(measures))
        _check_measures(meeting.series, measures, "measures")
    topic.save()
    if measures is not None:
        topic.measures.set(measures)
    record_event(
        acting_user=acting_user, action="meetings.topic.update", obj=topic, before=before, after=snapshot(topic)
    )
    return topic


@transaction.atomic
def withdraw_topic(*, acting_user, topic: Topic) -> Topic:
    meeting = _lock(topic.meeting)
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    own = topic.proposed_by_agency_id and acts_for(acting_user, topic.proposed_by_agency_id)
    if not (own or runs(acting_user, meeting)):
        raise PermissionError(_("Only the proposing agency and the host may withdraw a topic."))
    _require_status(meeting, MeetingStatus.PLANNED, MeetingStatus.AGENDA_OPEN, MeetingStatus.AGENDA_CLOSED)
    if topic.decisions.exists():
        raise Conflict(_("Decisions were taken on this topic; delete them before withdrawing it."))
    before = snapshot(topic)
    topic.outcome = TopicOutcome.WITHDRAWN
    topic.save(update_fields=["outcome"])
    record_event(
        acting_user=acting_user, action="meetings.topic.withdraw", obj=topic, before=before, after=snapshot(topic)
    )
    return topic


@transaction.atomic
def order_topics(*, acting_user, meeting: Meeting, topic_ids: list[int]) -> list[Topic]:
    """The host's order of the agenda: ``topic_ids`` lists every topic of the meeting (withdrawn ones may be left
    out; they go last)."""
    meeting = _lock(meeting)
    _require_host(acting_user, meeting)
    _require_status(meeting, MeetingStatus.PLANNED, MeetingStatus.AGENDA_OPEN, MeetingStatus.AGENDA_CLOSED)
    topics = {t.pk: t for t in Topic.objects.filter(meeting=meeting)}
    try:
        ids = [int(i) for i in topic_ids]
    except (TypeError, ValueError):
        raise ValidationError({"topics": [_("Give the topics' ids, in the new order.")]}) from None
    active = {pk for pk, t in topics.items() if t.outcome != TopicOutcome.WITHDRAWN}
    if len(set(ids)) != len(ids) or not set(ids) <= set(topics) or not active <= set(ids):
        raise ValidationError({"topics": [_("List every topic of this meeting exactly once.")]})
    rest = sorted(set(topics) - set(ids), key=lambda pk: (topics[pk].position, pk))
    before = [t.pk for t in sorted(topics.values(), key=lambda t: (t.position, t.pk))]
    changed = []
    for position, pk in enumerate(ids + rest, start=1):
        if topics[pk].position != position:
            topics[pk].position = position
            changed.append(topics[pk])
    Topic.objects.bulk_update(changed, ["position"], batch_size=BULK_BATCH)
    record_event(
        acting_user=acting_user,
        action="meetings.agenda.order",
        obj=meeting,
        before={"topics": before},
        after={"topics": ids + rest},
    )
    return sorted(topics.values(), key=lambda t: t.position)


@transaction.atomic
def set_topic_outcome(*, acting_user, topic: Topic, outcome: str) -> Topic:
    """After the meeting: concluded, or unfinished (it goes to the next meeting's agenda)."""
    meeting = _lock(topic.meeting)
    _require_runner(acting_user, meeting)
    _require_status(meeting, MeetingStatus.AGENDA_CLOSED, MeetingStatus.HELD)
    if meeting.minutes_status == MinutesStatus.PENDING:
        raise Conflict(_("The minutes await approval: take them back to draft before changing this."))
    if outcome not in (TopicOutcome.PENDING, TopicOutcome.CONCLUDED, TopicOutcome.UNFINISHED):
        raise ValidationError({"outcome": [_("Choose concluded or unfinished.")]})
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    if topic.outcome == TopicOutcome.WITHDRAWN:
        raise Conflict(_("This topic was withdrawn."))
    before = snapshot(topic)
    topic.outcome = outcome
    topic.save(update_fields=["outcome"])
    record_event(
        acting_user=acting_user, action="meetings.topic.outcome", obj=topic, before=before, after=snapshot(topic)
    )
    _carry_over(meeting.series)
    return topic


def _carry_over(series: MeetingSeries) -> int:
    """Copy every unfinished topic not carried yet to the series' next meeting whose agenda is still open to it."""
    waiting = list(
        Topic.objects.filter(meeting__series=series, outcome=TopicOutcome.UNFINISHED, carried_to__isnull=True)
        .select_related("meeting")
        .prefetch_related("measures")
        .order_by("meeting__number", "position", "id")
    )
    if not waiting:
        return 0
    upcoming = list(
        Meeting.objects.filter(series=series, status__in=(MeetingStatus.PLANNED, MeetingStatus.AGENDA_OPEN)).order_by(
            "number"
        )
    )
    carried = 0
    for topic in waiting:
        target = next((m for m in upcoming if m.number > topic.meeting.number), None)
        if target is None:
            continue
        position = (target.topics.aggregate(n=Max("position"))["n"] or 0) + 1
        copy = Topic.objects.create(
            meeting=target,
            position=position,
            title=topic.title,
            description=topic.description,
            proposed_by_agency=topic.proposed_by_agency,
            proposed_by=topic.proposed_by,
            carried_from=topic,
        )
        copy.measures.set(topic.measures.all())
        record_event(acting_user=None, action="meetings.topic.carry_over", obj=copy, after=snapshot(copy))
        carried += 1
    return carried


# --------------------------------------------------------------------------- decisions


DECISION_FIELDS = ("title", "text", "kind", "target", "lead", "co_owners", "due_on", "measures", "new_due_on")


def _check_decision(meeting: Meeting, decision: Decision, co_owners: list[Agency], measures: list[Measure]) -> None:
    errors: dict[str, list[str]] = {}
    try:
        decision.full_clean(
            exclude=["meeting", "topic", "co_owners", "measures", "created_measure"], validate_constraints=False
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    series = meeting.series
    if decision.kind == DecisionKind.NEW_MEASURES:
        if decision.lead is None:
            errors["lead"] = [_("Name the lead agency (主办) that carries this decision out.")]
        if decision.due_on is None:
            errors["due_on"] = [_("Give the deadline by which the work is done.")]
        if not decision.target:
            decision.target = DecisionTarget.STANDING if series.standing_agreement_id else DecisionTarget.MINUTES
        if decision.target == DecisionTarget.STANDING and not series.standing_agreement_id:
            errors["target"] = [_("The series has no standing agreement: put the measure under the minutes instead.")]
        if decision.target == DecisionTarget.MINUTES and not meeting.minutes_as_agreement:
            errors["target"] = [_("Mark the minutes to become an agreement first, or use the standing agreement.")]
        outside = _outside(series, [decision.lead])
        if outside:
            errors["lead"] = [_not_members_error(series, outside)]
        outside = _outside(series, co_owners)
        if outside:
            errors["co_owners"] = [_not_members_error(series, outside)]
        if decision.lead is not None and decision.lead in co_owners:
            errors["co_owners"] = [_("%(agency)s is already the lead agency.") % {"agency": decision.lead.name}]
        if measures:
            errors["measures"] = [_("A decision that creates a measure does not update others.")]
    else:
        if decision.lead is not None or co_owners:
            errors["lead"] = [_("Only a decision that creates a measure gives work to agencies.")]
        decision.target = ""
        decision.due_on = None
    if decision.kind == DecisionKind.UPDATE_MEASURES:
        if not measures:
            errors["measures"] = [_("Choose the measures this decision updates.")]
        else:
            try:
                _check_measures(series, measures, "measures")
            except ValidationError as exc:
                errors.update(exc.message_dict)
    elif decision.kind == DecisionKind.INFORMATION:
        if measures:
            errors["measures"] = [_("A decision for information does not update measures.")]
        decision.new_due_on = None
    if decision.kind != DecisionKind.UPDATE_MEASURES:
        decision.new_due_on = None
    if errors:
        raise ValidationError(errors)


def _decision_meeting(acting_user, topic: Topic) -> Meeting:
    meeting = _lock(topic.meeting)
    _require_runner(acting_user, meeting)
    _require_status(meeting, MeetingStatus.AGENDA_CLOSED, MeetingStatus.HELD)
    if meeting.minutes_status == MinutesStatus.PENDING:
        raise Conflict(_("The minutes await approval: take them back to draft before changing the decisions."))
    return meeting


@transaction.atomic
def record_decision(
    *,
    acting_user,
    topic: Topic,
    title: str,
    kind: str = DecisionKind.INFORMATION,
    co_owners: Iterable[Agency] = (),
    measures: Iterable[Measure] = (),
    idempotency_key: str = "",
    **fields,
) -> Decision:
    """A decision on a topic. A retried call with the same ``idempotency_key`` returns the decision it created."""
    unknown = set(fields) - set(DECISION_FIELDS)
    if unknown:
        raise ValidationError({f: [_("This field cannot be changed here.")] for f in unknown})
    meeting = _decision_meeting(acting_user, topic)
    if idempotency_key:
        existing = Decision.objects.filter(meeting=meeting, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if topic.outcome == TopicOutcome.WITHDRAWN:
        raise Conflict(_("This topic was withdrawn."))
    co_owners, measures = list(dict.fromkeys(co_owners)), list(dict.fromkeys(measures))
    position = (Decision.objects.filter(meeting=meeting).aggregate(n=Max("position"))["n"] or 0) + 1
    decision = Decision(
        meeting=meeting,
        topic=topic,
        position=position,
        kind=kind,
        title=(title or "").strip(),
        created_by=_user(acting_user),
        idempotency_key=idempotency_key,
        **{k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()},
    )
    _check_decision(meeting, decision, co_owners, measures)
    decision.save()
    decision.co_owners.set(co_owners)
    decision.measures.set(measures)
    record_event(
        acting_user=acting_user, action="meetings.decision.record", obj=decision, after=_decision_row(decision)
    )
    return decision


def _decision_row(decision: Decision) -> dict:
    return {
        **snapshot(decision),
        "co_owners": sorted(a.pk for a in decision.co_owners.all()),
        "measures": sorted(m.pk for m in decision.measures.all()),
    }


@transaction.atomic
def update_decision(*, acting_user, decision: Decision, **changes) -> Decision:
    unknown = set(changes) - set(DECISION_FIELDS)
    if unknown:
        raise ValidationError({f: [_("This field cannot be changed here.")] for f in unknown})
    meeting = _decision_meeting(acting_user, decision.topic)
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    before = _decision_row(decision)
    co_owners = list(dict.fromkeys(changes.pop("co_owners", decision.co_owners.all())))
    measures = list(dict.fromkeys(changes.pop("measures", decision.measures.all())))
    for key, value in changes.items():
        setattr(decision, key, value.strip() if isinstance(value, str) else value)
    _check_decision(meeting, decision, co_owners, measures)
    decision.save()
    decision.co_owners.set(co_owners)
    decision.measures.set(measures)
    record_event(
        acting_user=acting_user,
        action="meetings.decision.update",
        obj=decision,
        before=before,
        after=_decision_row(decision),
    )
    return decision


@transaction.atomic
def delete_decision(*, acting_user, decision: Decision) -> None:
    _decision_meeting(acting_user, decision.topic)
    decision = Decision.objects.get(pk=decision.pk)
    before = _decision_row(decision)
    record_event(acting_user=acting_user, action="meetings.decision.delete", obj=decision, before=before)
    decision.delete()


# --------------------------------------------------------------------------- minutes


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@transaction.atomic
def draft_minutes(*, acting_user, meeting: Meeting, regenerate: bool = False) -> Meeting:
    """A first draft written from the topics and decisions (kept when one exists unless ``regenerate``)."""
    from .minutes import draft_text

    meeting = _lock(meeting)
    _require_runner(acting_user, meeting)
    _require_status(meeting, MeetingStatus.HELD)
    if meeting.minutes_status == MinutesStatus.PENDING:
        raise Conflict(_("The minutes await approval: take them back to draft before rewriting them."))
    before = snapshot(meeting, ["minutes_status", "minutes_text"])
    if regenerate or not meeting.minutes_text.strip():
        meeting.minutes_text = draft_text(meeting)
    meeting.minutes_status = MinutesStatus.DRAFT
    meeting.save(update_fields=["minutes_text", "minutes_status"])
    record_event(
        acting_user=acting_user,
        action="meetings.minutes.draft",
        obj=meeting,
        before=before,
        after=snapshot(meeting, ["minutes_status", "minutes_text"]),
    )
    return meeting


@transaction.atomic
def edit_minutes(*, acting_user, meeting: Meeting, text: str, as_agreement: bool | None = None) -> Meeting:
    meeting = _lock(meeting)
    _require_runner(acting_user, meeting)
    _require_status(meeting, MeetingStatus.HELD)
    if meeting.minutes_status == MinutesStatus.PENDING:
        raise Conflict(_("The minutes await approval: take them back to draft before editing them."))
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError({"text": [_("The minutes are empty.")]})
    if as_agreement is False and meeting.decisions.filter(target=DecisionTarget.MINUTES).exists():
        raise ValidationError({"as_agreement": [_("Some decisions put their measures under the minutes' agreement.")]})
    before = snapshot(meeting, ["minutes_status", "minutes_text", "minutes_as_agreement"])
    meeting.minutes_text = text
    meeting.minutes_status = MinutesStatus.DRAFT
    if as_agreement is not None:
        meeting.minutes_as_agreement = as_agreement
    meeting.save(update_fields=["minutes_text", "minutes_status", "minutes_as_agreement"])
    record_event(
        acting_user=acting_user,
        action="meetings.minutes.edit",
        obj=meeting,
        before=before,
        after=snapshot(meeting, ["minutes_status", "minutes_text", "minutes_as_agreement"]),
    )
    return meeting


@transaction.atomic
def submit_minutes(*, acting_user, meeting: Meeting) -> Meeting:
    """Send the draft to every member agency's liaison for approval."""
    meeting = _lock(meeting)
    _require_runner(acting_user, meeting)
    _require_status(meeting, MeetingStatus.HELD)
    if meeting.minutes_status != MinutesStatus.DRAFT or not meeting.minutes_text.strip():
        raise Conflict(_("Draft the minutes before submitting them for approval."))
    meeting.minutes_status = MinutesStatus.PENDING
    meeting.minutes_submitted_at = timezone.now()
    meeting.save(update_fields=["minutes_status", "minutes_submitted_at"])
    MinutesApproval.objects.filter(meeting=meeting).delete()
    record_event(
        acting_user=acting_user,
        action="meetings.minutes.submit",
        obj=meeting,
        after={**snapshot(meeting, ["minutes_status"]), "digest": digest(meeting.minutes_text)},
    )
    _tell_members(
        meeting,
        kind="meetings.minutes_approval",
        title=_("Minutes await your approval: %(meeting)s") % {"meeting": meeting.display_title},
        body=_("Every member agency's liaison approves the minutes; then they are final."),
    )
    return meeting


@transaction.atomic
def return_minutes(*, acting_user, meeting: Meeting, comment: str) -> Meeting:
    """A member's liaison asks for changes (or the host takes the minutes back): back to draft, approvals void."""
    meeting = _lock(meeting)
    member = (
        acting_user is not None
        and not getattr(acting_user, "api_key_id", None)
        and acting_user.agency_id in selectors.member_ids(meeting.series)
        and acting_user.has_role(Role.LIAISON)
    )
    if not (member or runs(acting_user, meeting)):
        raise PermissionError(_("Only members' liaisons and the host may send the minutes back."))
    if meeting.minutes_status != MinutesStatus.PENDING:
        raise Conflict(_("The minutes are not awaiting approval."))
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": [_("Say what should change.")]})
    meeting.minutes_status = MinutesStatus.DRAFT
    meeting.save(update_fields=["minutes_status"])
    voided = MinutesApproval.objects.filter(meeting=meeting).delete()[0]
    record_event(
        acting_user=acting_user,
        action="meetings.minutes.return",
        obj=meeting,
        after={"minutes_status": meeting.minutes_status, "comment": comment, "approvals_voided": voided},
    )
    runners = selectors.liaisons_of([meeting.host_id])
    notify(
        runners,
        kind="meetings.minutes_returned",
        title=_("Minutes sent back: %(meeting)s") % {"meeting": meeting.display_title},
        body=comment,
        url=meeting_url(meeting),
    )
    return meeting


@transaction.atomic
def approve_minutes(*, acting_user, meeting: Meeting, comment: str = "") -> MinutesApproval:
    """One member agency's approval, by its liaison. The last one makes the minutes final: the meeting is frozen,
    its decisions enter the ledger and, if so marked, the minutes become an agreement of kind 会议纪要."""
    meeting = _lock(meeting)
    agency_id = getattr(acting_user, "agency_id", None)
    members = selectors.member_ids(meeting.series)
    if acting_user is None or getattr(acting_user, "api_key_id", None):
        raise PermissionError(_("Minutes are approved by a liaison in person."))
    if agency_id not in members or not acting_user.has_role(Role.LIAISON):
        raise PermissionError(_("Only the liaisons of the member agencies approve the minutes."))
    if meeting.minutes_status != MinutesStatus.PENDING:
        raise Conflict(_("The minutes are not awaiting approval."))
    if MinutesApproval.objects.filter(meeting=meeting, agency_id=agency_id).exists():
        raise Conflict(_("Your agency has already approved these minutes."))
    approval = MinutesApproval.objects.create(
        meeting=meeting,
        agency_id=agency_id,
        approved_by=acting_user,
        text_digest=digest(meeting.minutes_text),
        comment=(comment or "").strip(),
    )
    record_event(acting_user=acting_user, action="meetings.minutes.approve", obj=approval, after=snapshot(approval))
    approved = set(MinutesApproval.objects.filter(meeting=meeting).values_list("agency_id", flat=True))
    if members <= approved:
        _finalise(acting_user, meeting)
    return approval


def approve_on_behalf(*, meeting: Meeting, agency: Agency, comment: str = "") -> MinutesApproval:
    """The system records an agency's approval given on paper (demo data, imports): audited without a person."""
    with transaction.atomic():
        meeting = _lock(meeting)
        if meeting.minutes_status != MinutesStatus.PENDING:
            raise Conflict(_("The minutes are not awaiting approval."))
        approval, _created = MinutesApproval.objects.get_or_create(
            meeting=meeting, agency=agency, defaults={"text_digest": digest(meeting.minutes_text), "comment": comment}
        )
        record_event(acting_user=None, action="meetings.minutes.approve", obj=approval, after=snapshot(approval))
        approved = set(MinutesApproval.objects.filter(meeting=meeting).values_list("agency_id", flat=True))
        if selectors.member_ids(meeting.series) <= approved:
            _finalise(None, meeting)
        return approval


def _finalise(acting_user, meeting: Meeting) -> None:
    series = meeting.series
    before = snapshot(meeting, ["status", "minutes_status"])
    meeting.status = MeetingStatus.MINUTES_APPROVED
    meeting.minutes_status = MinutesStatus.APPROVED
    meeting.minutes_approved_at = timezone.now()
    # Topics left open at the meeting go on to the next one.
    Topic.objects.filter(meeting=meeting, outcome=TopicOutcome.PENDING).update(outcome=TopicOutcome.UNFINISHED)
    if meeting.minutes_as_agreement:
        meeting.minutes_agreement = _minutes_agreement(meeting)
    meeting.save(update_fields=["status", "minutes_status", "minutes_approved_at", "minutes_agreement"])
    record_event(
        acting_user=acting_user,
        action="meetings.minutes.final",
        obj=meeting,
        before=before,
        after={
            **snapshot(meeting, ["status", "minutes_status", "minutes_agreement"]),
            "digest": digest(meeting.minutes_text),
        },
    )
    _apply_decisions(acting_user, meeting)
    _carry_over(series)
    _tell_members(
        meeting,
        kind="meetings.minutes_final",
        title=_("Minutes approved by every member: %(meeting)s") % {"meeting": meeting.display_title},
    )


def _minutes_agreement(meeting: Meeting) -> Agreement:
    series = meeting.series
    signatories = [seat.agency for seat in selectors.seats(series)]
    held_on = timezone.localtime(meeting.starts_at).date()
    return ledger.create_agreement(
        acting_user=None,
        title=(_("Minutes of %(meeting)s") % {"meeting": meeting.display_title})[:200],
        signatories=signatories,
        circle=series.circle,
        kind=AgreementKind.MINUTES,
        status=AgreementStatus.IN_FORCE,
        signed_on=held_on,
        valid_from=held_on,
        signed_place=meeting.place[:100],
    )


def _area(agreement: Agreement, meeting: Meeting) -> Measure:
    """Under the standing agreement, one area (方面) per meeting holds the measures its decisions created."""
    number = _("Meeting %(number)s") % {"number": meeting.number}
    area = Measure.objects.filter(agreement=agreement, number=number, parent__isnull=True).first()
    if area is not None:
        return area
    title = _("Decisions of %(meeting)s") % {"meeting": meeting.display_title}
    return ledger.add_measure(acting_user=None, agreement=agreement, number=number, title=title[:300])


def _apply_decisions(acting_user, meeting: Meeting) -> None:
    """Enter the meeting's decisions in the ledger, as the approved minutes say (run by the system on the members'
    approval; each application is audited with the approver who completed it)."""
    decisions = list(
        Decision.objects.filter(meeting=meeting, applied_at__isnull=True)
        .select_related("lead")
        .prefetch_related("co_owners", "measures")
        .order_by("position", "id")
    )
    now = timezone.now()
    held_on = timezone.localtime(meeting.starts_at).date()
    series = meeting.series
    counter = 0
    for decision in decisions:
        if decision.kind == DecisionKind.NEW_MEASURES:
            counter += 1
            if decision.target == DecisionTarget.MINUTES and meeting.minutes_agreement_id:
                agreement, parent = meeting.minutes_agreement, None
                number = str(counter)
            else:
                agreement = series.standing_agreement
                if agreement is None:
                    raise ValidationError(
                        {
                            "target": [
                                _("The series has no standing agreement for decision %(title)s.")
                                % {"title": decision.title}
                            ]
                        }
                    )
                parent = _area(agreement, meeting)
                number = f"{parent.number}-{counter}"
            measure = ledger.add_measure(
                acting_user=None,
                agreement=agreement,
                parent=parent,
                number=number[:30],
                title=decision.title,
                text=decision.text,
                start_on=max(held_on, agreement.valid_from or held_on),
                due_on=decision.due_on,
            )
            ledger.assign_owner(acting_user=None, measure=measure, agency=decision.lead, role=OwnerRole.LEAD)
            for agency in decision.co_owners.all():
                ledger.assign_owner(acting_user=None, measure=measure, agency=agency, role=OwnerRole.CO)
            decision.created_measure = measure
            owners = [decision.lead_id, *(a.pk for a in decision.co_owners.all())]
            notify(
                selectors.liaisons_of(owners),
                kind="meetings.decision_work",
                title=_("A meeting decision gives your agency work: %(title)s") % {"title": decision.title},
                body=_("%(meeting)s · deadline %(date)s")
                % {"meeting": meeting.display_title, "date": decision.due_on.isoformat()},
                url=reverse("ledger:measure", args=[measure.pk]),
            )
        elif decision.kind == DecisionKind.UPDATE_MEASURES:
            for measure in decision.measures.all():
                if decision.new_due_on and measure.due_on != decision.new_due_on:
                    ledger.update_measure(acting_user=None, measure=measure, due_on=decision.new_due_on)
            owner_ids = set(
                Measure.objects.filter(pk__in=[m.pk for m in decision.measures.all()]).values_list(
                    "owners__agency_id", flat=True
                )
            ) - {None}
            notify(
                selectors.liaisons_of(owner_ids),
                kind="meetings.decision_work",
                title=_("A meeting decision concerns your agency's measures: %(title)s") % {"title": decision.title},
                body=meeting.display_title,
                url=meeting_url(meeting),
            )
        decision.applied_at = now
        decision.save(update_fields=["created_measure", "applied_at"])
        record_event(
            acting_user=acting_user, action="meetings.decision.apply", obj=decision, after=_decision_row(decision)
        )
